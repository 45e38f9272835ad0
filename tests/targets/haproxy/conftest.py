"""A real master-worker HAProxy on 127.0.0.1, started and stopped by pid."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
from slbsync.plan.model import Plan
from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.targets.haproxy.lab import HAPROXY, LabHaproxy, start_lab_haproxy
from slbsync.targets.haproxy.target import HaproxyTarget
from tests.backends import Backend, start_http_backend, start_tcp_backend


class _Lab(LabHaproxy):
    """The lab HAProxy with a small drain cap unless a test says otherwise."""

    hard_stop_after = "2s"

    def target_spec(self, name: str = "edge", **options: Any) -> TargetSpec:
        options.setdefault("hard_stop_after", self.hard_stop_after)
        return super().target_spec(name, **options)

    def target(self, **options: Any) -> HaproxyTarget:
        return HaproxyTarget(self.target_spec(**options))


RunningHaproxy = _Lab


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[RunningHaproxy]:
    if not os.path.exists(HAPROXY):
        pytest.skip(
            "haproxy is not installed; run scripts/test.sh or apt-get install haproxy"
        )
    # Unix socket paths are limited to 108 bytes; pytest's tmp_path can be long.
    workdir = Path(tempfile.mkdtemp(prefix="hap-", dir="/tmp"))
    lab = start_lab_haproxy(workdir)
    running = _Lab(lab.root, lab.process)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def spec_for(target: TargetSpec, *load_balancers: LoadBalancer) -> Spec:
    return Spec(targets=(target,), load_balancers=load_balancers)


def plan(spec: Spec, target: HaproxyTarget, prune: bool = False) -> Plan:
    # A target made with other options than the spec's would test the wrong thing.
    assert target.spec in spec.targets, "the target is not the spec's target"
    return make_plan(spec, [target], prune=prune)


def apply(spec: Spec, target: HaproxyTarget, prune: bool = False) -> Plan:
    """Plan and apply ``spec`` the way ``slbsync apply`` does; the plan."""
    made = plan(spec, target, prune)
    report = PlanRunner({target.name: target}).run(made)
    report.raise_for_failures()
    return made


def connect(port: int, source: str | None = None) -> socket.socket:
    """A TCP client through the proxy; reads the backend's greeting line."""
    client = socket.create_connection(
        ("127.0.0.1", port), timeout=5, source_address=(source, 0) if source else None
    )
    return client


def greeting(client: socket.socket) -> str:
    """``t1`` from ``hello from t1``."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = client.recv(256)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data.decode().strip().removeprefix("hello from ")


@pytest.fixture
def http_backends() -> Iterator[list[Backend]]:
    backends = [start_http_backend(f"b{i}") for i in (1, 2, 3)]
    yield backends
    for backend in backends:
        backend.stop()


@pytest.fixture
def tcp_backends() -> Iterator[list[Backend]]:
    backends = [start_tcp_backend(f"t{i}") for i in (1, 2, 3)]
    yield backends
    for backend in backends:
        backend.stop()


NO_CHECK = HealthCheck(enabled=False)


def chat_lb(
    port: int,
    backends: list[Backend],
    *,
    protocol: Protocol = Protocol.TCP,
    scheduler: str = "weighted_round_robin",
    weights: list[int] | None = None,
    check: HealthCheck = NO_CHECK,
) -> LoadBalancer:
    """Load balancer ``chat``: one listener on ``port`` to group ``nodes``."""
    weights = weights or [100] * len(backends)
    servers = tuple(
        Server(port=b.port, address="127.0.0.1", weight=w)
        for b, w in zip(backends, weights, strict=True)
    )
    return LoadBalancer(
        name="chat",
        target="edge",
        server_groups=(ServerGroup(name="nodes", servers=servers),),
        listeners=(
            Listener(
                protocol=protocol,
                port=port,
                server_group="nodes",
                scheduler=scheduler,
                health_check=check,
            ),
        ),
    )
