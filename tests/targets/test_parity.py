"""One spec, three targets: the emulated cloud, nginx and HAProxy agree.

The same load balancer (two TCP listeners and an HTTP one, each with its own
group and scheduler, weights 100/50/0) is applied to the SLB emulator
through the official SDK, to a private nginx and to a private HAProxy, and
each is read back through its own target's ``read_live_state``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    Spec,
    TargetSpec,
)
from slbsync.targets.base import LiveState, Target
from slbsync.targets.registry import make_target
from tests.backends import Backend, free_port, start_http_backend, start_tcp_backend
from tests.conftest import REGION, EmulatorHandle

if shutil.which("nginx") is None or shutil.which("haproxy") is None:
    pytest.skip(
        "nginx and haproxy are needed; run scripts/test.sh", allow_module_level=True
    )

from slbsync.targets.haproxy.lab import LabHaproxy, start_lab_haproxy
from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx

WEIGHTS = (100, 50, 0)
SCHEDULERS = {
    "ws": (Protocol.TCP, "least_connections"),
    "sticky": (Protocol.TCP, "source_hash"),
    "web": (Protocol.HTTP, "weighted_round_robin"),
}


@pytest.fixture
def backends() -> Iterator[dict[str, list[Backend]]]:
    started = {
        "ws": [start_tcp_backend(f"ws{i}") for i in range(3)],
        "sticky": [start_tcp_backend(f"st{i}") for i in range(3)],
        "web": [start_http_backend(f"web{i}") for i in range(3)],
    }
    yield started
    for group in started.values():
        for backend in group:
            backend.stop()


@pytest.fixture
def proxies() -> Iterator[tuple[LabNginx, LabHaproxy]]:
    root = Path(tempfile.mkdtemp(prefix="parity-", dir="/tmp"))
    nginx = start_lab_nginx(root / "nginx")
    try:
        haproxy = start_lab_haproxy(root / "haproxy")
    except Exception:
        nginx.stop()
        raise
    yield nginx, haproxy
    haproxy.stop()
    nginx.stop()
    shutil.rmtree(root, ignore_errors=True)


def _load_balancer(
    target: str, backends: dict[str, list[Backend]], ports: dict[str, int]
) -> LoadBalancer:
    """The one load balancer of the spec, aimed at ``target``."""
    groups = tuple(
        ServerGroup(
            name=name,
            servers=tuple(
                # An ECI server: the cloud knows it by id, the proxies by address.
                Server(
                    port=backend.port,
                    id=f"eci-{name}{index}",
                    address="127.0.0.1",
                    weight=weight,
                    type=ServerType.ECI,
                )
                for index, (backend, weight) in enumerate(
                    zip(members, WEIGHTS, strict=True)
                )
            ),
        )
        for name, members in backends.items()
    )
    listeners = tuple(
        Listener(
            protocol=protocol,
            port=ports[name],
            server_group=name,
            scheduler=scheduler,
            # nginx checks passively only, so the HTTP listener has no check.
            health_check=HealthCheck(enabled=protocol == Protocol.TCP),
        )
        for name, (protocol, scheduler) in SCHEDULERS.items()
    )
    return LoadBalancer(
        name=f"chat-{target}", target=target, server_groups=groups, listeners=listeners
    )


def _seen(live: LiveState) -> dict[str, object]:
    """Members, weights and schedulers, as a user would compare them."""
    (lb,) = live.load_balancers
    members = {
        group.name: sorted((s.address, s.port, s.weight) for s in group.servers)
        for group in lb.spec.server_groups
    }
    schedulers = {
        listener.server_group: (
            str(listener.protocol),
            listener.port,
            listener.scheduler,
        )
        for listener in lb.spec.listeners
    }
    return {"members": members, "schedulers": schedulers}


def test_one_spec_reads_back_the_same_on_cloud_nginx_and_haproxy(
    emulator: EmulatorHandle,
    monkeypatch: pytest.MonkeyPatch,
    backends: dict[str, list[Backend]],
    proxies: tuple[LabNginx, LabHaproxy],
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    nginx, haproxy = proxies
    cloud = TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region=REGION,
        endpoint=f"http://{emulator.endpoint}",
        options=(("burst", 100), ("rate", 1000)),
    )
    target_specs = [
        cloud,
        nginx.target_spec(name="nginx"),
        haproxy.target_spec(name="haproxy"),
    ]
    # The two proxies share 127.0.0.1, so each listens on ports of its own.
    ports = {t.name: {name: free_port() for name in SCHEDULERS} for t in target_specs}
    spec = Spec(
        targets=tuple(target_specs),
        load_balancers=tuple(
            _load_balancer(t.name, backends, ports[t.name]) for t in target_specs
        ),
    )
    targets: list[Target] = [make_target(t) for t in target_specs]
    for target in targets:
        assert target.validate(spec) == [], target.name

    plan = make_plan(spec, targets)
    PlanRunner({t.name: t for t in targets}).run(plan).raise_for_failures()

    members = {
        name: sorted(
            ("127.0.0.1", b.port, w) for b, w in zip(group, WEIGHTS, strict=True)
        )
        for name, group in backends.items()
    }
    for target in targets:
        seen = _seen(make_target(target.spec).read_live_state(spec))
        assert seen["members"] == members, target.name
        assert seen["schedulers"] == {
            name: (str(protocol), ports[target.name][name], scheduler)
            for name, (protocol, scheduler) in SCHEDULERS.items()
        }, target.name
    again = make_plan(spec, [make_target(t) for t in target_specs])
    assert [len(part.changes) for part in again.targets] == [0, 0, 0]
