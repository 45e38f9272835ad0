"""Parity: one load balancer applied to the SLB emulator, nginx and HAProxy.

The same body (groups, members, weights, schedulers) goes to each target in
one spec and one run, as ``slbsync apply`` does; each target then reads its
live state back, and members, weights and schedulers must agree. Members are
named by instance id on the cloud and by address on the proxies, so each
server carries both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
from slbsync.spec.model import (
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from slbsync.targets.base import LiveLoadBalancer, Target
from slbsync.targets.haproxy.lab import HAPROXY, LabHaproxy, start_lab_haproxy
from slbsync.targets.haproxy.target import HaproxyTarget
from slbsync.targets.nginx.lab import LabNginx
from slbsync.targets.nginx.target import NginxTarget
from tests.backends import free_port
from tests.conftest import REGION, EmulatorHandle

ADDRESSES = {f"i-chat{n:02d}": f"10.0.0.{10 + n}" for n in range(1, 5)}


def node(number: int, port: int, weight: int) -> Server:
    instance = f"i-chat{number:02d}"
    return Server(port=port, id=instance, address=ADDRESSES[instance], weight=weight)


def tcp(group: str, scheduler: str) -> Listener:
    return Listener(Protocol.TCP, free_port(), group, scheduler=scheduler)


def chat_edge(target: str) -> LoadBalancer:
    """The body every target gets; listener ports are free on this machine."""
    return LoadBalancer(
        name=f"chat-{target}",
        target=target,
        server_groups=(
            ServerGroup(
                "ws",
                servers=(node(1, 8080, 100), node(2, 8080, 50), node(3, 8080, 0)),
            ),
            ServerGroup("api", servers=(node(3, 9000, 80), node(4, 9000, 20))),
            ServerGroup("sticky", servers=(node(1, 7000, 100), node(4, 7000, 100))),
        ),
        listeners=(
            tcp("ws", "least_connections"),
            tcp("api", "weighted_round_robin"),
            tcp("sticky", "source_hash"),
        ),
    )


@pytest.fixture
def haproxy_lab() -> Iterator[LabHaproxy]:
    if not os.path.exists(HAPROXY):
        pytest.skip("haproxy is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="hap-", dir="/tmp"))
    lab = start_lab_haproxy(workdir)
    try:
        yield lab
    finally:
        lab.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def shape(live: LiveLoadBalancer) -> tuple[dict, dict]:
    """Members with weights per group, and the scheduler per group."""
    members = {
        group.name: {
            (ADDRESSES.get(s.id or "", s.address), s.port): s.weight
            for s in group.servers
        }
        for group in live.spec.server_groups
    }
    schedulers = {x.server_group: str(x.scheduler) for x in live.spec.listeners}
    return members, schedulers


def test_same_spec_gives_same_members_weights_and_schedulers(
    lab: LabNginx,
    haproxy_lab: LabHaproxy,
    emulator: EmulatorHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    cloud = TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region=REGION,
        endpoint=f"http://{emulator.endpoint}",
    )
    proxies = (lab.target_spec("nginx"), haproxy_lab.target_spec("haproxy"))
    spec = Spec(
        targets=(cloud, *proxies),
        load_balancers=tuple(chat_edge(name) for name in ("cloud", "nginx", "haproxy")),
    )
    targets: list[Target] = [
        AlibabaSlbTarget(cloud),
        NginxTarget(proxies[0]),
        HaproxyTarget(proxies[1]),
    ]

    plan = make_plan(spec, targets)
    PlanRunner({t.name: t for t in targets}).run(plan).raise_for_failures()

    shapes = {}
    for target in targets:
        live = target.read_live_state(spec).load_balancer(f"chat-{target.name}")
        assert live is not None, target.name
        shapes[target.name] = shape(live)
    assert shapes["nginx"] == shapes["cloud"]
    assert shapes["haproxy"] == shapes["cloud"]
    assert shapes["cloud"][0]["ws"] == {
        ("10.0.0.11", 8080): 100,
        ("10.0.0.12", 8080): 50,
        ("10.0.0.13", 8080): 0,
    }
    assert make_plan(spec, targets).write_calls == 0
