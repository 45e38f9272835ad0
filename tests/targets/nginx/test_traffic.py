"""Traffic through a real nginx follows the spec's scheduler and weights."""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import replace

from slbsync.spec.model import (
    ForwardingRule,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
)
from slbsync.targets.nginx.lab import LabNginx
from tests.backends import free_port, http_get, wait_for_port
from tests.targets.nginx.helpers import plan, spec_for, sync


def balanced(protocol: Protocol, port: int, scheduler: str, *servers: Server):
    return LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(ServerGroup("nodes", servers=servers),),
        listeners=(Listener(protocol, port, "nodes", scheduler=scheduler),),
    )


def local(port: int, weight: int = 100) -> Server:
    return Server(port=port, address="127.0.0.1", weight=weight)


def tcp_hello(port: int) -> tuple[socket.socket, str]:
    """A connection through the proxy and the backend's name from its hello."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    line = connection.makefile("rb").readline().decode().strip()
    return connection, line.removeprefix("hello from ")


def test_round_robin_splits_by_weight(lab: LabNginx, backends) -> None:
    b1, b2, b3 = backends("b1"), backends("b2"), backends("b3")
    port = free_port()
    servers = (local(b1.port, 60), local(b2.port, 40), local(b3.port, 20))
    sync(spec_for(lab, balanced(Protocol.HTTP, port, "weighted_round_robin", *servers)))
    wait_for_port(port)

    counts = Counter(http_get(port) for _ in range(60))

    # 60:40:20 is 30/20/10 of 60; each worker keeps its own pointer.
    assert abs(counts["b1"] - 30) <= 3
    assert abs(counts["b2"] - 20) <= 3
    assert abs(counts["b3"] - 10) <= 3


def test_least_connections_favours_idle_server(lab: LabNginx, backends) -> None:
    nodes = [backends(f"t{i}", "tcp") for i in (1, 2, 3)]
    port = free_port()
    servers = tuple(local(node.port) for node in nodes)
    sync(spec_for(lab, balanced(Protocol.TCP, port, "least_connections", *servers)))
    wait_for_port(port)

    # Two long-lived connections land on two servers; the third stays idle.
    held = [tcp_hello(port) for _ in range(2)]
    busy = {name for _, name in held}
    assert len(busy) == 2
    try:
        short = []
        for _ in range(8):
            connection, name = tcp_hello(port)
            connection.close()
            short.append(name)
            _wait_until(lambda: sum(n.active_connections for n in nodes) == 2)
    finally:
        for connection, _ in held:
            connection.close()

    idle = ({"t1", "t2", "t3"} - busy).pop()
    assert short == [idle] * 8


def test_source_hash_keeps_each_client_on_one_server(lab: LabNginx, backends) -> None:
    b1, b2, b3 = backends("b1"), backends("b2"), backends("b3")
    port = free_port()
    servers = (local(b1.port), local(b2.port), local(b3.port))
    sync(spec_for(lab, balanced(Protocol.HTTP, port, "source_hash", *servers)))
    wait_for_port(port)

    seen = {}
    for host in range(2, 22):
        source = f"127.0.0.{host}"
        answers = {http_get(port, source=source) for _ in range(4)}
        assert len(answers) == 1, f"{source} was sent to {answers}"
        seen[source] = answers.pop()

    # Keyed on the whole address: ip_hash would send all of 127.0.0.x to one.
    assert len(set(seen.values())) >= 2
    assert "hash $remote_addr consistent" in lab.owned_conf.read_text()


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_udp_listener_relays_datagrams(lab: LabNginx) -> None:
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    echo.settimeout(5)
    port = free_port()
    udp = balanced(Protocol.UDP, port, "source_hash", local(echo.getsockname()[1]))
    sync(spec_for(lab, udp))

    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    try:
        client.sendto(b"ping", ("127.0.0.1", port))
        payload, proxy = echo.recvfrom(64)
        echo.sendto(b"pong:" + payload, proxy)
        assert client.recvfrom(64)[0] == b"pong:ping"
    finally:
        client.close()
        echo.close()
    assert f"listen 127.0.0.1:{port} udp;" in lab.owned_conf.read_text()


def test_forwarding_rules_route_by_path_and_domain(lab: LabNginx, backends) -> None:
    web, api, admin = backends("web"), backends("api"), backends("admin")
    port = free_port()
    lb = LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(
            ServerGroup("web", servers=(local(web.port),)),
            ServerGroup("api", servers=(local(api.port),)),
            ServerGroup("admin", servers=(local(admin.port),)),
        ),
        listeners=(
            Listener(
                Protocol.HTTP,
                port,
                "web",
                rules=(
                    ForwardingRule("api", "api", url="/api"),
                    ForwardingRule("admin", "admin", domain="admin.chat.test"),
                ),
            ),
        ),
    )
    spec = spec_for(lab, lb)
    sync(spec)
    wait_for_port(port)

    assert http_get(port, "/") == "web"
    assert http_get(port, "/api/rooms") == "api"
    assert http_get(port, "/", headers={"Host": "admin.chat.test"}) == "admin"
    assert plan(spec) == []

    # A rule removed from the spec goes with --prune; its traffic falls back.
    listener = lb.listeners[0]
    pruned = replace(lb, listeners=(replace(listener, rules=listener.rules[:1]),))
    changes = sync(spec_for(lab, pruned), prune=True)
    assert [(c.op, c.address.kind) for c in changes] == [("delete", "rule")]
    assert http_get(port, "/", headers={"Host": "admin.chat.test"}) == "web"
