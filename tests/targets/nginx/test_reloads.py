"""Reloads under load lose nothing; long connections drain up to the cap."""

from __future__ import annotations

import socket
import threading
import time

from slbsync.spec.model import Listener, LoadBalancer, Protocol, Server, ServerGroup
from slbsync.targets.nginx.lab import LabNginx
from tests.backends import free_port, http_get, wait_for_port
from tests.targets.nginx.helpers import spec_for, sync

RELOADS = 20
CLIENTS = 4
DRAIN_CAP = 2


def group_lb(protocol: Protocol, port: int, *servers: Server) -> LoadBalancer:
    return LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(ServerGroup("nodes", servers=servers),),
        listeners=(Listener(protocol, port, "nodes", scheduler="least_connections"),),
    )


def local(port: int, weight: int = 100) -> Server:
    return Server(port=port, address="127.0.0.1", weight=weight)


class Load:
    """Client threads making a new connection per request until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ok = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                http_get(self.port, timeout=15)  # slow is not lost
            except Exception as err:  # every failure counts, whatever its kind
                with self._lock:
                    self.failures.append(repr(err))
            else:
                with self._lock:
                    self.ok += 1


def test_reloads_under_load_lose_no_request(lab: LabNginx, backends) -> None:
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    sync(spec_for(lab, group_lb(Protocol.HTTP, port, local(b1.port), local(b2.port))))
    wait_for_port(port)

    generations = []
    with Load(port) as load:
        for reload in range(RELOADS):
            weight = 10 + reload  # a weight change each time: one reload each
            lb = group_lb(Protocol.HTTP, port, local(b1.port), local(b2.port, weight))
            changes = sync(spec_for(lab, lb))
            assert len(changes) == 1
            generations.append(frozenset(lab.workers()))
        time.sleep(0.2)

    assert len(set(generations)) == RELOADS  # every reload made new workers
    assert load.failures == []
    assert load.ok > RELOADS * CLIENTS


def test_long_connections_survive_change_until_drain_cap(
    lab: LabNginx, backends
) -> None:
    t1, t2 = backends("t1", "tcp"), backends("t2", "tcp")
    port = free_port()
    options = {"worker_shutdown_timeout": f"{DRAIN_CAP}s"}
    both = group_lb(Protocol.TCP, port, local(t1.port), local(t2.port))
    sync(spec_for(lab, both, **options))
    wait_for_port(port)
    chats = [_Chat(port) for _ in range(4)]
    assert {chat.server for chat in chats} == {"t1", "t2"}

    # t2 leaves: a membership change, so a reload (SIGHUP between the two).
    before = time.monotonic()
    sync(spec_for(lab, group_lb(Protocol.TCP, port, local(t1.port)), **options))
    after = time.monotonic()

    assert all(chat.ping() for chat in chats)  # alive after the reload
    fresh = _Chat(port)
    assert fresh.server == "t1"  # new connections follow the new config
    cuts = [chat.cut_at(timeout=DRAIN_CAP + 5) for chat in chats]
    fresh.close()

    for cut in cuts:
        assert cut - before >= DRAIN_CAP - 0.2  # never before the cap
        assert cut - after <= DRAIN_CAP + 2  # and soon after it


def test_websocket_upgrade_survives_reload(lab: LabNginx, backends) -> None:
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    sync(spec_for(lab, group_lb(Protocol.HTTP, port, local(b1.port))))
    wait_for_port(port)
    chat = _Chat(port, upgrade=True)

    sync(spec_for(lab, group_lb(Protocol.HTTP, port, local(b1.port), local(b2.port))))

    assert chat.server == "b1"
    assert all(chat.ping() for _ in range(3))
    chat.close()


class _Chat:
    """A long-lived connection that says hello and echoes lines."""

    def __init__(self, port: int, upgrade: bool = False) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.socket.makefile("rwb")
        if upgrade:
            self.file.write(
                b"GET /chat HTTP/1.1\r\nHost: chat\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            )
            self.file.flush()
            status = self.file.readline()
            assert b" 101 " in status, status
            while self.file.readline() not in (b"\r\n", b""):
                pass
        self.server = self.file.readline().decode().strip().removeprefix("hello from ")

    def ping(self) -> bool:
        self.file.write(b"ping\n")
        self.file.flush()
        return self.file.readline() == b"ping\n"

    def cut_at(self, timeout: float) -> float:
        """Ping until the proxy closes the connection; when it did (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self.ping():
                    return time.monotonic()
            except OSError:
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"connection still open {timeout}s after the reload")

    def close(self) -> None:
        self.file.close()
        self.socket.close()
