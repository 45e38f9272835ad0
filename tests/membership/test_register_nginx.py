"""register and deregister on nginx: a rendered file and a graceful reload."""

from __future__ import annotations

import dataclasses
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from slbsync.membership.group import GroupHandle
from slbsync.membership.register import Membership
from slbsync.spec.model import (
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
)
from slbsync.spec.model import Membership as Mode
from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx
from slbsync.targets.registry import make_target
from tests.backends import Backend, free_port, start_tcp_backend, wait_for_port
from tests.targets.nginx.helpers import spec_for, sync

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed"
)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabNginx]:
    nginx = start_lab_nginx(tmp_path / "nginx")
    yield nginx
    nginx.stop()


@pytest.fixture
def nodes() -> Iterator[list[Backend]]:
    started = [start_tcp_backend(f"t{n}") for n in (1, 2)]
    yield started
    for backend in started:
        backend.stop()


def _local(backend: Backend) -> Server:
    return Server(port=backend.port, address="127.0.0.1")


def _edge(port: int, group: ServerGroup) -> LoadBalancer:
    listener = Listener(Protocol.TCP, port, "nodes", scheduler="least_connections")
    return LoadBalancer(
        name="chat-edge", target="edge", server_groups=(group,), listeners=(listener,)
    )


def _hello(port: int) -> tuple[socket.socket, str]:
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    line = connection.makefile("rb").readline().decode().strip()
    return connection, line.removeprefix("hello from ")


def _membership(spec: Spec, tmp_path: Path) -> Membership:
    target = make_target(spec.targets[0])
    group = GroupHandle(spec, target, "chat-edge", "nodes")
    return Membership(group, lock_dir=tmp_path / "locks")


def test_nginx_register_and_deregister_reload_gracefully(
    lab: LabNginx, nodes: list[Backend], tmp_path: Path
) -> None:
    t1, t2 = nodes
    port = free_port()
    # nginx refuses an empty upstream, so the group starts with one node.
    first = ServerGroup("nodes", servers=(_local(t1),))
    sync(spec_for(lab, _edge(port, first)))
    wait_for_port(port)
    external = dataclasses.replace(first, membership=Mode.EXTERNAL, servers=())
    spec = spec_for(lab, _edge(port, external))
    workers = lab.workers()

    outcome = _membership(spec, tmp_path).register(_local(t2), wait_healthy=True)

    assert outcome.steps[0] == "added at weight 100"
    assert "reports no health" in outcome.steps[1]
    assert f"127.0.0.1:{t2.port}" in lab.owned_conf.read_text()
    assert lab.workers().isdisjoint(workers)  # reloaded
    held, name = _hello(port)
    other, other_name = _hello(port)
    assert {name, other_name} == {"t1", "t2"}
    on_t1 = held if name == "t1" else other

    left = _membership(spec, tmp_path).deregister(_local(t1), drain=30)

    # nginx cannot count sessions: the old workers keep them after the reload.
    assert left.steps == [
        "weight 0: no new connections",
        "drained after 0s",
        "removed",
    ]
    assert f"127.0.0.1:{t1.port}" not in lab.owned_conf.read_text()
    on_t1.sendall(b"still here\n")
    assert on_t1.recv(64) == b"still here\n"
    assert {_hello(port)[1] for _ in range(3)} == {"t2"}
    held.close()
    other.close()
