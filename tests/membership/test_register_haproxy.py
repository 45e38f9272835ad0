"""register and deregister through a real HAProxy's runtime API, with real
long-lived connections: no reload, the owned file kept in step."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from slbsync.errors import SafetyError
from slbsync.membership.group import GroupHandle
from slbsync.membership.register import Membership
from slbsync.spec.model import Membership as Mode
from slbsync.spec.model import Server, Spec
from tests.backends import Backend, free_port
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    connect,
    greeting,
    spec_for,
)


def _external_spec(haproxy: RunningHaproxy, port: int) -> Spec:
    target = haproxy.target_spec()
    lb = chat_lb(port, [], scheduler="least_connections")
    group = dataclasses.replace(lb.server_groups[0], membership=Mode.EXTERNAL)
    lb = dataclasses.replace(lb, server_groups=(group,))
    return spec_for(target, lb)


def _membership(haproxy: RunningHaproxy, spec: Spec, tmp_path: Path) -> Membership:
    from slbsync.targets.haproxy.target import HaproxyTarget

    target = HaproxyTarget(spec.targets[0])
    group = GroupHandle(spec, target, "chat", "nodes")
    return Membership(group, lock_dir=tmp_path / "locks")


def _node(backend: Backend, weight: int = 100) -> Server:
    return Server(port=backend.port, address="127.0.0.1", weight=weight)


@pytest.fixture
def joined(
    haproxy: RunningHaproxy, tcp_backends: list[Backend], tmp_path: Path
) -> tuple[Spec, int]:
    port = free_port()
    spec = _external_spec(haproxy, port)
    apply(spec, haproxy.target())
    reloads = haproxy.master.show_proc().reloads
    for backend in tcp_backends[:2]:
        outcome = _membership(haproxy, spec, tmp_path).register(
            _node(backend), wait_healthy=True
        )
        assert outcome.steps == ["added at weight 100", "healthy"]
    assert haproxy.master.show_proc().reloads == reloads  # runtime API only
    return spec, port


def test_registered_nodes_take_traffic_and_are_in_the_file(
    haproxy: RunningHaproxy, tcp_backends: list[Backend], joined: tuple[Spec, int]
) -> None:
    _, port = joined
    clients = [connect(port) for _ in range(4)]
    assert Counter(greeting(c) for c in clients) == {"t1": 2, "t2": 2}
    text = haproxy.owned.read_text()
    for backend in tcp_backends[:2]:
        assert f"127.0.0.1:{backend.port}" in text
    for client in clients:
        client.close()


def test_drain_keeps_open_connections_until_they_end(
    haproxy: RunningHaproxy,
    tcp_backends: list[Backend],
    joined: tuple[Spec, int],
    tmp_path: Path,
) -> None:
    spec, port = joined
    t1, t2, t3 = tcp_backends
    clients = [connect(port) for _ in range(4)]
    on_t1 = [c for c in clients if greeting(c) == "t1"]
    assert len(on_t1) == 2

    progress: list[int | None] = []
    result: dict[str, object] = {}

    def leave() -> None:
        membership = _membership(haproxy, spec, tmp_path)
        result["outcome"] = membership.deregister(
            _node(t1), drain=60, progress=lambda w, a, s: progress.append(s)
        )

    leaving = threading.Thread(target=leave)
    leaving.start()
    _wait_for(lambda: progress and progress[-1] == 2)

    # Weight 0: new connections avoid t1, the open ones keep talking.
    fresh = [connect(port) for _ in range(3)]
    assert {greeting(c) for c in fresh} == {"t2"}
    for client in on_t1:
        client.sendall(b"still here\n")
        assert client.recv(64) == b"still here\n"

    # The drain holds no lock: another node joins meanwhile.
    joined_meanwhile = _membership(haproxy, spec, tmp_path).register(_node(t3))
    assert joined_meanwhile.steps == ["added at weight 100"]
    assert leaving.is_alive()

    for client in on_t1:
        client.close()
    leaving.join(timeout=30)
    assert not leaving.is_alive()
    steps = result["outcome"].steps  # type: ignore[attr-defined]
    assert steps[0] == "weight 0: no new connections"
    assert steps[1].startswith("drained after")
    assert steps[-1] == "removed"
    assert f"127.0.0.1:{t1.port}" not in haproxy.owned.read_text()
    names = {s.name for s in haproxy.admin.servers_state("chat:nodes")}
    assert names == {f"127.0.0.1:{t2.port}", f"127.0.0.1:{t3.port}"}
    for client in clients + fresh:
        client.close()


def test_drain_budget_over_cuts_the_rest(
    haproxy: RunningHaproxy,
    tcp_backends: list[Backend],
    joined: tuple[Spec, int],
    tmp_path: Path,
) -> None:
    spec, port = joined
    clients = [connect(port) for _ in range(2)]
    held = next(c for c in clients if greeting(c) == "t1")

    outcome = _membership(haproxy, spec, tmp_path).deregister(
        _node(tcp_backends[0]), drain=1
    )
    assert outcome.steps[1] == "drain over after 1s with 1 sessions open"
    assert outcome.steps[2:] == ["cut 1 sessions", "removed"]
    held.settimeout(5)
    assert held.recv(64) == b""  # HAProxy closed it
    for client in clients:
        client.close()


def test_guard_refuses_draining_the_last_healthy_server(
    haproxy: RunningHaproxy,
    tcp_backends: list[Backend],
    joined: tuple[Spec, int],
    tmp_path: Path,
) -> None:
    spec, _ = joined
    _membership(haproxy, spec, tmp_path).deregister(_node(tcp_backends[0]), drain=0)
    with pytest.raises(SafetyError, match="without a healthy server"):
        _membership(haproxy, spec, tmp_path).deregister(_node(tcp_backends[1]))
    assert len(haproxy.admin.servers_state("chat:nodes")) == 1


def _wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
