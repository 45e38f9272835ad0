"""A burst of nodes registering at once against a rate-limited, throttling
emulator process: every one ends up in service, none twice, within a bound
of calls a node, and the throttled calls were made again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import EmulatorProcess, clean_env
from tests.membership.conftest import write_cloud_spec

NODES = 200
WORKERS = 4  # processes, each with NODES / WORKERS threads (one per node)
RATE = 100  # calls per second, every action together
EXTERNAL = {"ws-nodes": {"membership": "external"}}
# A register reads the group in full (five Describe calls) and writes once.
ANSWERED_PER_NODE = 6
# The bound on all calls a node makes, refused ones included: its six, and
# retries of about THROTTLE_RATE of them plus what the rate limit refuses.
MAX_CALLS_PER_NODE = 7.0
THROTTLE_RATE = 0.02


@pytest.fixture
def limited_emulator(tmp_path: Path) -> EmulatorProcess:
    # The configuring window off, as when the README's burst figures were
    # measured: this test is about locks and rate limits, not that window.
    emulator = EmulatorProcess(
        tmp_path / "state.json", "--rate-limit", f"*={RATE}", "--configuring-ms", "0"
    )
    yield emulator
    emulator.stop()


def _throttle(emulator: EmulatorProcess) -> None:
    # The rate limit alone need not refuse anything: 200 processes starting
    # on two cores make far fewer than RATE calls a second. A share of calls
    # is throttled on top of it, so every run shows the retries at work.
    emulator.control(
        "PUT",
        "faults",
        {"rate_limits": {"*": RATE}, "throttle_rate": THROTTLE_RATE, "seed": 6},
    )
    emulator.control("DELETE", "calls")


def _check_calls(emulator: EmulatorProcess) -> str:
    """Assert the calls' bound and that throttling was retried; a summary."""
    total = emulator.control("GET", "calls")["total"]
    outcomes = emulator.control("GET", "calls/outcomes")["by_outcome"]
    throttled = outcomes.get("Throttling.User", 0)
    answered = outcomes.get("ok", 0)
    assert throttled > 0, f"no call was throttled: {outcomes}"
    # Only throttling is set: every call was answered or throttled.
    assert answered + throttled == total, outcomes
    # Every node needs its six answered calls: the refused ones were made again.
    assert answered >= ANSWERED_PER_NODE * NODES, outcomes
    assert total <= MAX_CALLS_PER_NODE * NODES, outcomes
    return (
        f"{NODES} nodes, {total} API calls "
        f"({total / NODES:.2f} a node, {throttled} throttled and made "
        f"again) at {RATE} calls/s"
    )


def _members(spec_path: Path, cwd: Path) -> list[str]:
    from slbsync.cli.common import build_targets, read_spec
    from slbsync.membership.group import GroupHandle
    from slbsync.membership.register import retry_read

    spec = read_spec([spec_path])
    group = GroupHandle(spec, build_targets(spec)[0], "chat-gateway", "ws-nodes")
    return [server.key[0] for server in retry_read(group, time.sleep).members]


def test_burst_of_200_registrations_all_in_service(
    limited_emulator: EmulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in clean_env().items():
        monkeypatch.setenv(key, value)
    path = write_cloud_spec(tmp_path / "specs", limited_emulator.url, EXTERNAL)
    setup = subprocess.run(
        [sys.executable, "-m", "slbsync", "apply", str(path), "--auto-approve"],
        env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    ids = [f"i-burst{n:03d}" for n in range(NODES)]
    limited_emulator.control(
        "POST", "ecs/instances", [{"id": i, "vpc_id": "vpc-chat"} for i in ids]
    )
    _throttle(limited_emulator)

    share = NODES // WORKERS
    racks = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.membership.burst_worker", str(path),
             str(tmp_path / "locks"), *ids[n * share : (n + 1) * share]],
            env=clean_env(), cwd=Path(__file__).parents[2], text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for n in range(WORKERS)
    ]  # fmt: skip
    lines = []
    for rack in racks:
        out, err = rack.communicate(timeout=240)
        assert rack.returncode == 0, err[-2000:]
        lines += out.splitlines()

    calls = limited_emulator.control("GET", "calls")
    failed = [line for line in lines if not line.startswith("ok ")]
    assert failed == []
    assert len(lines) == NODES
    members = _members(path, tmp_path)
    assert sorted(members) == ids  # none lost, none twice
    by_action = calls["by_action"]
    assert by_action["AddVServerGroupBackendServers"] >= NODES
    print(f"\nburst: {_check_calls(limited_emulator)}: {by_action}")


def test_burst_of_200_register_processes_all_in_service(
    limited_emulator: EmulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The issue's own shape: 200 separate `slbsync register` processes
    # started at once, as 200 booting nodes would, sharing the lock directory.
    for key, value in clean_env().items():
        monkeypatch.setenv(key, value)
    path = write_cloud_spec(tmp_path / "specs", limited_emulator.url, EXTERNAL)
    setup = subprocess.run(
        [sys.executable, "-m", "slbsync", "apply", str(path), "--auto-approve"],
        env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    ids = [f"i-proc{n:03d}" for n in range(NODES)]
    limited_emulator.control(
        "POST", "ecs/instances", [{"id": i, "vpc_id": "vpc-chat"} for i in ids]
    )
    _throttle(limited_emulator)

    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "slbsync", "register", str(path),
             "-l", "chat-gateway", "-g", "ws-nodes", "--server", node,
             "--port", "8080"],
            env=clean_env(), cwd=tmp_path, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for node in ids
    ]  # fmt: skip
    errors = []
    for node in nodes:
        _, err = node.communicate(timeout=600)
        if node.returncode != 0:
            errors.append(err[-500:])

    assert errors == []
    assert sorted(_members(path, tmp_path)) == ids  # none lost, none twice
    print(f"\nburst of processes: {_check_calls(limited_emulator)}")
