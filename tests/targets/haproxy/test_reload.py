"""Reloads: none loses a connection, a rejected file never goes live."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from slbsync.errors import ApplyError
from slbsync.spec.model import LoadBalancer, Protocol
from tests.backends import (
    Backend,
    free_port,
    http_get,
    start_http_backend,
    start_tcp_backend,
)
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    connect,
    greeting,
    spec_for,
)

RELOADS = 20


def _described(lb: LoadBalancer, text: str) -> LoadBalancer:
    """``lb`` with a new listener description: a change that needs a reload."""
    return replace(lb, listeners=(replace(lb.listeners[0], description=text),))


class _Load:
    """New-connection-per-request traffic from a few threads, counted."""

    def __init__(self, port: int, threads: int = 3) -> None:
        self.port = port
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                http_get(self.port, timeout=5)
            except Exception as err:  # every failure counts, whatever it is
                with self._lock:
                    self.failed.append(repr(err))
            else:
                with self._lock:
                    self.ok += 1

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


def test_twenty_reloads_under_load_lose_no_connection(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, http_backends, protocol=Protocol.HTTP)
    target_spec = haproxy.target_spec()
    apply(spec_for(target_spec, lb), haproxy.target())
    before = haproxy.master.show_proc().reloads

    with _Load(port) as load:
        for number in range(RELOADS):
            apply(
                spec_for(target_spec, _described(lb, f"round {number}")),
                haproxy.target(),
            )
            time.sleep(0.05)  # let requests run on each new worker

    assert haproxy.master.show_proc().reloads - before == RELOADS
    assert load.failed == []
    assert load.ok > RELOADS * 5, load.ok


def test_long_lived_connections_survive_a_reload_until_the_cap(
    haproxy: RunningHaproxy,
) -> None:
    backend = start_tcp_backend("t1")
    try:
        port = free_port()
        lb = chat_lb(port, [backend])
        target_spec = haproxy.target_spec()  # hard_stop_after 2s
        apply(spec_for(target_spec, lb), haproxy.target())
        clients = [connect(port) for _ in range(3)]
        assert {greeting(client) for client in clients} == {"t1"}

        apply(spec_for(target_spec, _described(lb, "reloaded")), haproxy.target())
        reloaded = time.monotonic()
        time.sleep(1.0)
        for client in clients:  # the old worker still serves them
            client.sendall(b"ping\n")
            assert client.recv(16) == b"ping\n"
        for client in clients:
            client.settimeout(5)
            assert client.recv(16) == b"", "cut by hard-stop-after"
        elapsed = time.monotonic() - reloaded

        assert 1.5 <= elapsed < 4.5, elapsed
        assert greeting(connect(port)) == "t1", "new clients reach the new worker"
    finally:
        backend.stop()


def test_rejected_config_never_goes_live(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, http_backends, protocol=Protocol.HTTP)
    target_spec = haproxy.target_spec()
    apply(spec_for(target_spec, lb), haproxy.target())
    good = haproxy.owned.read_text()
    workers = haproxy.worker_pids()

    # A native balance name HAProxy does not know passes the spec, not -c.
    broken = replace(lb, listeners=(replace(lb.listeners[0], scheduler="leastconnx"),))
    with pytest.raises(ApplyError) as caught:
        apply(spec_for(target_spec, broken), haproxy.target())

    message = str(caught.value)
    rejected = f"{haproxy.owned}.rejected"
    line = next(
        n for n, text in enumerate(good.splitlines(), 1) if "balance roundrobin" in text
    )
    assert "haproxy -c rejected the configuration" in message
    assert f"[{rejected}:{line}]" in message, message
    assert "'leastconnx'" in message or "balance only supports" in message
    assert haproxy.owned.read_text() == good
    assert haproxy.worker_pids() == workers
    assert http_get(port) in {"b1", "b2"}


def test_failed_reload_is_rolled_back(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, http_backends, protocol=Protocol.HTTP)
    target_spec = haproxy.target_spec()
    apply(spec_for(target_spec, lb), haproxy.target())
    good = haproxy.owned.read_text()

    # haproxy -c never binds, so a port in use passes it and fails the reload.
    blocker = start_http_backend("blocker")
    try:
        busy = replace(lb.listeners[0], port=blocker.port)
        clash = replace(lb, listeners=(lb.listeners[0], busy))
        with pytest.raises(ApplyError) as caught:
            apply(spec_for(target_spec, clash), haproxy.target())
    finally:
        blocker.stop()

    message = str(caught.value)
    assert "failed to load the new configuration" in message
    assert "the previous file was put back and reloaded" in message
    assert haproxy.owned.read_text() == good
    assert haproxy.master.show_proc().failed_reloads == 0
    assert http_get(port) in {"b1", "b2"}
