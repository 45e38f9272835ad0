"""A real redis-server on 127.0.0.1, started and stopped by pid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EmulatorHandle

# The real HAProxy and backends of the haproxy target's tests.
from tests.targets.haproxy.conftest import haproxy, tcp_backends  # noqa: F401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; scripts/test.sh installs it")
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


# -- a cloud spec on the in-process emulator ----------------------------------


def write_cloud_spec(
    folder: Path,
    endpoint: str,
    groups: dict[str, Any],
    *,
    drain: str | None = "10s",
    lock: str | None = None,
    rate: int = 1000,
) -> Path:
    """A spec for chat-gateway on the emulator, one TCP listener per group."""
    target: dict[str, Any] = {
        "type": "alibaba-slb",
        "region": "cn-hangzhou",
        "endpoint": endpoint,
        "rate": rate,
        "burst": 100,
    }
    if lock:
        target["lock"] = lock
    listeners = []
    for number, name in enumerate(groups):
        listener: dict[str, Any] = {
            "protocol": "tcp",
            "port": 443 + number,
            "server_group": name,
            "scheduler": "least_connections",
        }
        if drain:
            listener["connection_drain"] = drain
        listeners.append(listener)
    document = {
        "targets": {"cloud": target},
        "load_balancers": {
            "chat-gateway": {
                "target": "cloud",
                "vpc_id": "vpc-chat",
                "address_type": "intranet",
                "server_groups": groups,
                "listeners": listeners,
            }
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "chat.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def cloud_env(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> EmulatorHandle:
    """The emulator's keys in the environment, no proxy, locks under tmp_path."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return emulator


def apply_spec(path: Path) -> None:
    """plan + apply in this process, as ``slbsync apply --auto-approve`` does."""
    from slbsync.apply.runner import PlanRunner
    from slbsync.cli.common import build_targets, read_spec
    from slbsync.plan.make import make_plan

    spec = read_spec([path])
    targets = build_targets(spec)
    plan = make_plan(spec, targets)
    report = PlanRunner({t.name: t for t in targets}).run(plan)
    assert not report.failures, [r.message for r in report.failures]
