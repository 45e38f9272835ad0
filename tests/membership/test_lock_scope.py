"""Runs on one nginx or HAProxy never lose each other's servers from the owned file.

nginx and HAProxy keep every load balancer of a target in one owned file,
written on commit. These tests push a second run into the gap where a lost
update would happen (between staging and commit) and check that the file
ends up with what both runs did.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.diff.changes import Change
from slbsync.membership.group import GroupHandle
from slbsync.membership.locks import lock_factory
from slbsync.membership.register import Membership
from slbsync.plan.make import make_plan
from slbsync.spec.model import (
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
)
from slbsync.spec.model import Membership as Mode
from slbsync.targets.base import ChangeOutcome
from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx
from slbsync.targets.nginx.target import NginxTarget
from slbsync.targets.registry import make_target
from tests.backends import Backend, free_port, start_tcp_backend
from tests.targets.haproxy.conftest import RunningHaproxy, apply, chat_lb
from tests.targets.haproxy.conftest import spec_for as haproxy_spec_for
from tests.targets.nginx.helpers import spec_for, sync

needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed"
)

# How long a run, paused in its commit, gives the other run to get in.
GAP_SECONDS = 1.5


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


def _edge(name: str, port: int, group: ServerGroup, scheduler: str) -> LoadBalancer:
    listener = Listener(Protocol.TCP, port, "nodes", scheduler=scheduler)
    return LoadBalancer(
        name=name, target="edge", server_groups=(group,), listeners=(listener,)
    )


def _external(lb: LoadBalancer) -> LoadBalancer:
    groups = tuple(
        dataclasses.replace(g, membership=Mode.EXTERNAL, servers=())
        for g in lb.server_groups
    )
    return dataclasses.replace(lb, server_groups=groups)


def _membership(spec: Spec, lb: str, tmp_path: Path) -> Membership:
    target = make_target(spec.targets[0])
    return Membership(GroupHandle(spec, target, lb, "nodes"), lock_dir=tmp_path)


@needs_nginx
def test_nginx_register_during_apply_commit_is_kept(
    lab: LabNginx, nodes: list[Backend], tmp_path: Path
) -> None:
    t1, t2 = nodes
    port = free_port()
    first = ServerGroup("nodes", servers=(_local(t1),))
    sync(spec_for(lab, _edge("chat-edge", port, first, "least_connections")))
    # The apply changes the scheduler; the group's members are left to register.
    spec = spec_for(lab, _external(_edge("chat-edge", port, first, "round_robin")))
    locks = tmp_path / "locks"

    registered = threading.Event()

    def register_t2() -> None:
        _membership(spec, "chat-edge", locks).register(_local(t2))
        registered.set()

    joiner = threading.Thread(target=register_t2)
    target = NginxTarget(spec.targets[0])
    commit = target.commit

    def commit_with_a_register_in_the_gap() -> None:
        # The changes are staged: a register now would be rendered away.
        joiner.start()
        registered.wait(GAP_SECONDS)
        commit()

    target.commit = commit_with_a_register_in_the_gap  # type: ignore[method-assign]
    plan = make_plan(spec, [target])
    report = PlanRunner({"edge": target}, locks=lock_factory(locks)).run(plan)
    joiner.join(timeout=30)

    assert report.failures == [] and report.commit_errors == []
    text = lab.owned_conf.read_text()
    assert f"127.0.0.1:{t2.port}" in text  # the registration survived
    assert f"127.0.0.1:{t1.port}" in text
    assert "least_conn" not in text  # and so did the apply


@needs_nginx
def test_nginx_registers_on_two_load_balancers_both_stay(
    lab: LabNginx, nodes: list[Backend], tmp_path: Path
) -> None:
    t1, t2 = nodes
    ports = free_port(), free_port()
    group = ServerGroup("nodes", servers=(_local(t1),))
    lbs = [
        _edge(f"chat-edge-{n}", port, group, "round_robin")
        for n, port in enumerate(ports)
    ]
    sync(spec_for(lab, *lbs))
    spec = spec_for(lab, *(_external(lb) for lb in lbs))
    first = _membership(spec, "chat-edge-0", tmp_path)
    second = _membership(spec, "chat-edge-1", tmp_path)

    _register_both_with_a_gap(first, second, _local(t2))

    # Both load balancers' groups list the node (one line in each upstream).
    assert lab.owned_conf.read_text().count(f"127.0.0.1:{t2.port}") == 2


def test_haproxy_registers_on_two_load_balancers_both_stay(
    haproxy: RunningHaproxy, tcp_backends: list[Backend], tmp_path: Path
) -> None:
    lbs = [
        _external(dataclasses.replace(chat_lb(free_port(), []), name=f"chat-{n}"))
        for n in (0, 1)
    ]
    spec = haproxy_spec_for(haproxy.target_spec(), *lbs)
    apply(spec, haproxy.target())
    first = _membership(spec, "chat-0", tmp_path)
    second = _membership(spec, "chat-1", tmp_path)
    node = _local(tcp_backends[0])

    _register_both_with_a_gap(first, second, node)

    # One server line in each backend.
    assert haproxy.owned.read_text().count(f"server 127.0.0.1:{node.port} ") == 2


def _register_both_with_a_gap(
    first: Membership, second: Membership, server: Server
) -> None:
    """Register ``server`` twice, the first run waiting in its commit.

    The first run waits there (at most GAP_SECONDS) until the second has
    staged its change: if they took different locks, the second read the
    file before the first wrote it, and its commit drops the first's server.
    """
    first_committing = threading.Event()
    second_staged = threading.Event()
    commit = first.target.commit
    stage = second.target.apply_change

    def commit_after_the_second_stages() -> None:
        first_committing.set()
        second_staged.wait(GAP_SECONDS)
        commit()

    def stage_and_tell(change: Change) -> ChangeOutcome:
        outcome = stage(change)
        second_staged.set()
        return outcome

    first.target.commit = commit_after_the_second_stages  # type: ignore[method-assign]
    second.target.apply_change = stage_and_tell  # type: ignore[method-assign]
    runs = [
        threading.Thread(target=member.register, args=(server,))
        for member in (first, second)
    ]
    runs[0].start()
    assert first_committing.wait(30)
    runs[1].start()
    for run in runs:
        run.join(timeout=30)
