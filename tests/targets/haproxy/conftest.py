"""A real master-worker HAProxy on 127.0.0.1, started and stopped by pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from slbsync.targets.haproxy.runtime_api import MasterApi, RuntimeApi
from slbsync.targets.haproxy.target import HaproxyTarget
from tests.backends import Backend, start_http_backend, start_tcp_backend

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

MAIN_CONFIG = """\
global
    stats socket {admin} mode 600 level admin
    stats timeout 30s
"""


@dataclass
class RunningHaproxy:
    """One HAProxy master and its files; ``target()`` drives it."""

    workdir: Path
    process: subprocess.Popen[bytes]
    hard_stop_after: str = "2s"

    @property
    def main_config(self) -> Path:
        return self.workdir / "haproxy.cfg"

    @property
    def owned(self) -> Path:
        return self.workdir / "slbsync.cfg"

    @property
    def admin(self) -> RuntimeApi:
        return RuntimeApi(self.workdir / "admin.sock")

    @property
    def master(self) -> MasterApi:
        return MasterApi(self.workdir / "master.sock")

    def target_spec(self, name: str = "edge", **options: Any) -> TargetSpec:
        values = {
            "config_path": str(self.owned),
            "main_config": [str(self.main_config)],
            "runtime_socket": str(self.workdir / "admin.sock"),
            "master_socket": str(self.workdir / "master.sock"),
            "state_file": str(self.workdir / "server-state"),
            "binary": HAPROXY,
            "bind_address": "127.0.0.1",
            "hard_stop_after": self.hard_stop_after,
        } | options
        return TargetSpec(name=name, type="haproxy", options=tuple(values.items()))

    def target(self, **options: Any) -> HaproxyTarget:
        return HaproxyTarget(self.target_spec(**options))

    def worker_pids(self) -> tuple[int, ...]:
        return self.master.show_proc().workers

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_haproxy(workdir: Path) -> RunningHaproxy:
    admin = workdir / "admin.sock"
    (workdir / "haproxy.cfg").write_text(MAIN_CONFIG.format(admin=admin))
    (workdir / "slbsync.cfg").write_text("# empty until slbsync renders it\n")
    command = [
        HAPROXY,
        "-W",
        "-S",
        f"{workdir / 'master.sock'},mode,600",
        "-f",
        str(workdir / "haproxy.cfg"),
        "-f",
        str(workdir / "slbsync.cfg"),
    ]
    log = (workdir / "haproxy.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    running = RunningHaproxy(workdir, process)
    deadline = time.monotonic() + 10
    while not running.admin.is_reachable() or not running.master.is_reachable():
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            text = (workdir / "haproxy.log").read_text()
            raise RuntimeError(f"haproxy did not start:\n{text}")
        time.sleep(0.05)
    return running


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[RunningHaproxy]:
    if not os.path.exists(HAPROXY):
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    # Unix socket paths are limited to 108 bytes; pytest's tmp_path can be long.
    workdir = Path(
        subprocess.check_output(["mktemp", "-d", "/tmp/hap-XXXXXX"]).decode().strip()
    )
    running = start_haproxy(workdir)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def spec_for(target: TargetSpec, *load_balancers: LoadBalancer) -> Spec:
    return Spec(targets=(target,), load_balancers=load_balancers)


def plan(spec: Spec, target: HaproxyTarget, prune: bool = False) -> Plan:
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
