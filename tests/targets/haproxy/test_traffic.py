"""Traffic through a real HAProxy follows the spec slbsync applied."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from slbsync.spec.model import Protocol, Spec
from tests.backends import (
    Backend,
    free_port,
    http_get,
)
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    connect,
    greeting,
    plan,
    spec_for,
)


def test_round_robin_splits_by_weight(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    target = haproxy.target()
    port = free_port()
    lb = chat_lb(port, http_backends, protocol=Protocol.HTTP, weights=[50, 30, 20])
    apply(spec_for(target.spec, lb), target)

    counts = Counter(http_get(port) for _ in range(100))

    assert counts == {"b1": 50, "b2": 30, "b3": 20}


def test_least_connections_favours_the_idle_server(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    target = haproxy.target()
    port = free_port()
    first, second, joining = tcp_backends
    lb = chat_lb(port, [first, second], scheduler="least_connections")
    apply(spec_for(target.spec, lb), target)
    held = [connect(port) for _ in range(4)]
    assert Counter(greeting(client) for client in held) == {"t1": 2, "t2": 2}

    # A node joins: the next connections go to it until it catches up.
    lb = chat_lb(port, tcp_backends, scheduler="least_connections")
    apply(spec_for(target.spec, lb), haproxy.target())
    new = [connect(port) for _ in range(2)]

    assert [greeting(client) for client in new] == ["t3", "t3"]
    assert joining.active_connections == 2
    for client in held + new:
        client.close()


def test_source_hash_keeps_each_client_on_one_server(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    target = haproxy.target()
    port = free_port()
    lb = chat_lb(port, http_backends, protocol=Protocol.HTTP, scheduler="source_hash")
    apply(spec_for(target.spec, lb), target)
    clients = [f"127.0.0.{n}" for n in range(2, 22)]

    seen = {c: {http_get(port, source=c) for _ in range(3)} for c in clients}

    assert all(len(servers) == 1 for servers in seen.values()), seen
    assert len(set().union(*seen.values())) >= 2, "20 clients all hashed to one server"


def test_persistence_timeout_keeps_a_client_on_its_first_server(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    target = haproxy.target()
    port = free_port()
    lb = chat_lb(port, tcp_backends)
    listener = replace(lb.listeners[0], persistence_timeout=60)
    spec = spec_for(target.spec, replace(lb, listeners=(listener,)))
    apply(spec, target)

    def served(source: str) -> str:
        with connect(port, source=source) as client:
            return greeting(client)

    seen = {c: {served(c) for _ in range(4)} for c in ("127.0.0.5", "127.0.0.6")}

    assert all(len(servers) == 1 for servers in seen.values()), seen
    assert plan(spec, haproxy.target()).changes == ()


def test_proxy_protocol_header_reaches_servers_added_at_runtime_too(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()

    def spec_with(backends: list[Backend]) -> Spec:
        lb = chat_lb(port, backends)
        listener = replace(lb.listeners[0], proxy_protocol=True)
        return spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,)))

    apply(spec_with(tcp_backends[:1]), haproxy.target())
    joined = spec_with(tcp_backends[:2])
    (change,) = plan(joined, haproxy.target()).changes
    assert change.action == "runtime add server"
    apply(joined, haproxy.target())

    headers = {}
    for _ in range(4):
        with connect(port, source="127.0.0.7") as client:
            lines = client.makefile("rb")
            server = lines.readline().decode().strip().removeprefix("hello from ")
            # The echo server sends back what HAProxy wrote first: the header.
            headers[server] = lines.readline().decode()
    assert set(headers) == {"t1", "t2"}
    for header in headers.values():
        assert header.startswith("PROXY TCP4 127.0.0.7 127.0.0.1 "), headers
        assert header.endswith(f" {port}\r\n")
    assert plan(joined, haproxy.target()).changes == ()
