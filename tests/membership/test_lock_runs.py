"""Runs that change one load balancer never interleave: apply, register,
and holders on other hosts (Redis), including one killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from slbsync.errors import LockError
from slbsync.membership.group import GroupHandle, GroupView
from slbsync.membership.locks import FileLoadBalancerLock, lock_dir_for
from slbsync.membership.register import Membership
from slbsync.spec.load import load_spec
from slbsync.spec.model import Server
from slbsync.targets.registry import make_target
from tests.conftest import EmulatorHandle
from tests.membership.conftest import apply_spec, write_cloud_spec

EXTERNAL = {"ws-nodes": {"membership": "external"}}
WRITES = (
    "CreateLoadBalancer",
    "CreateVServerGroup",
    "AddVServerGroupBackendServers",
)


def _env(emulator: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = emulator.access_key_id
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = emulator.access_key_secret
    return env


def _cli(args: list[str], emulator: EmulatorHandle, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "slbsync", *args],
        cwd=cwd,
        env=_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _writes(emulator: EmulatorHandle) -> int:
    calls = emulator.calls()["by_action"]
    return sum(calls.get(name, 0) for name in WRITES)


def test_apply_waits_for_the_load_balancers_lock(
    cloud_env: EmulatorHandle, tmp_path: Path
) -> None:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL)
    # Where every command keeps file locks (here the test's SLBSYNC_LOCK_DIR).
    held = FileLoadBalancerLock("cloud", "chat-gateway", lock_dir_for(None))
    held.acquire()
    apply = _cli(["apply", str(path), "--auto-approve"], cloud_env, tmp_path)
    try:
        # The plan reads; no write goes out while a registration holds the lock.
        deadline = time.monotonic() + 30
        while "DescribeLoadBalancers" not in cloud_env.calls()["by_action"]:
            assert time.monotonic() < deadline, "apply never read"
            time.sleep(0.1)
        time.sleep(1.5)
        assert apply.poll() is None
        assert _writes(cloud_env) == 0
    finally:
        held.release()
    _out, err = apply.communicate(timeout=60)
    assert apply.returncode == 0, err
    assert _writes(cloud_env) >= 2


def _hold_redis_lock(url: str, lease: float) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import time
        from slbsync.membership.locks import lock_for
        lock = lock_for("cloud", "chat-gateway", {url!r}, lease_seconds={lease})
        lock.acquire(wait_seconds=5)
        print("held", flush=True)
        time.sleep(120)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_register_waits_out_a_killed_holders_redis_lease(
    cloud_env: EmulatorHandle, tmp_path: Path, redis_url: str
) -> None:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL, lock=redis_url)
    apply_spec(path)
    cloud_env.seed_instances({"id": "i-chat1", "vpc_id": "vpc-chat"})

    # Another host's run holds the lock, then dies without releasing it.
    holder = _hold_redis_lock(redis_url, lease=2.0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)

    spec = load_spec([path])
    group = GroupHandle(spec, make_target(spec.targets[0]), "chat-gateway", "ws-nodes")
    started = time.monotonic()
    outcome = Membership(group).register(Server(port=8080, id="i-chat1"))
    waited = time.monotonic() - started

    assert outcome.steps == ["added at weight 100"]
    assert 1.0 <= waited < 10, waited  # the dead holder's 2s lease ran out
    members = [s.label for s in group.read().members]
    assert members == ["i-chat1:8080"]


def test_concurrent_registrations_with_redis_lock_all_land(
    cloud_env: EmulatorHandle, tmp_path: Path, redis_url: str
) -> None:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL, lock=redis_url)
    apply_spec(path)
    cloud_env.seed_instances(
        *({"id": f"i-chat{n}", "vpc_id": "vpc-chat"} for n in range(8))
    )
    spec = load_spec([path])

    def join(number: int) -> list[str]:
        # Each "host" has its own target and lock directory: only Redis is shared.
        group = GroupHandle(
            spec, make_target(spec.targets[0]), "chat-gateway", "ws-nodes"
        )
        membership = Membership(group, lock_dir=tmp_path / f"host{number}")
        return membership.register(Server(port=8080, id=f"i-chat{number}")).steps

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(join, range(8)))

    assert results == [["added at weight 100"]] * 8
    group = GroupHandle(spec, make_target(spec.targets[0]), "chat-gateway", "ws-nodes")
    labels = sorted(s.label for s in group.read().members)
    assert labels == sorted(f"i-chat{n}:8080" for n in range(8))


# -- a real run killed while it holds the Redis lease ------------------------

NODES = 100  # a group create with 20, then four adds of 20: a run of many writes


def _static_nodes() -> dict[str, object]:
    servers = [{"id": f"i-chat{n:03d}", "port": 8080} for n in range(NODES)]
    return {"ws-nodes": {"servers": servers}}


def _wait_for_call(
    emulator: EmulatorHandle, action: str, run: subprocess.Popen
) -> None:
    deadline = time.monotonic() + 60
    while emulator.calls()["by_action"].get(action, 0) == 0:
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, f"{action} never came"
        time.sleep(0.02)


def _tables(emulator: EmulatorHandle) -> dict[str, dict[str, dict[str, object]]]:
    tables: dict[str, dict[str, dict[str, object]]] = emulator.control("GET", "state")[
        "tables"
    ]
    return tables


def test_apply_killed_mid_run_leaves_its_lease_to_expire_then_next_run_finishes(
    cloud_env: EmulatorHandle, tmp_path: Path, redis_url: str
) -> None:
    path = write_cloud_spec(
        tmp_path / "specs", cloud_env.url, _static_nodes(), lock=redis_url
    )
    cloud_env.seed_instances(
        *({"id": f"i-chat{n:03d}", "vpc_id": "vpc-chat"} for n in range(NODES))
    )
    # Slow calls, so the run is between writes when it is killed.
    cloud_env.set_faults(latency_ms=250)
    first = _cli(["apply", str(path), "--auto-approve"], cloud_env, tmp_path)
    _wait_for_call(cloud_env, "AddVServerGroupBackendServers", first)

    leases = redis.Redis.from_url(redis_url)
    held = leases.keys("slbsync:lock:*")
    assert held, "the run writes without holding its Redis lease"
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    left_ms = max(int(leases.pttl(key)) for key in held)
    assert left_ms > 1000, "the killed run's lease should still be running"
    members_at_kill = _members_now(cloud_env)
    assert 0 < members_at_kill < NODES, "the run was not killed mid-change"

    cloud_env.set_faults()
    started = time.monotonic()
    second = _cli(["apply", str(path), "--auto-approve"], cloud_env, tmp_path)
    _out, err = second.communicate(timeout=120)
    waited = time.monotonic() - started

    assert second.returncode == 0, err
    assert waited >= left_ms / 1000 - 1, "the next run wrote inside the dead lease"
    tables = _tables(cloud_env)
    assert [lb["name"] for lb in tables["load_balancers"].values()] == ["chat-gateway"]
    assert len(tables["vserver_groups"]) == 1
    assert len(tables["listeners"]) == 1
    assert _members_now(cloud_env) == NODES
    spec = load_spec([path])
    group = GroupHandle(spec, make_target(spec.targets[0]), "chat-gateway", "ws-nodes")
    labels = [s.label for s in group.read().members]
    assert sorted(labels) == [f"i-chat{n:03d}:8080" for n in range(NODES)]


def _members_now(emulator: EmulatorHandle) -> int:
    groups = _tables(emulator).get("vserver_groups", {})
    return sum(len(group.get("backend_servers") or ()) for group in groups.values())


def test_register_that_lost_its_lease_stops_before_writing(
    cloud_env: EmulatorHandle,
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL, lock=redis_url)
    apply_spec(path)
    cloud_env.seed_instances({"id": "i-chat1", "vpc_id": "vpc-chat"})
    spec = load_spec([path])
    group = GroupHandle(spec, make_target(spec.targets[0]), "chat-gateway", "ws-nodes")
    leases = redis.Redis.from_url(redis_url)
    read = group.read

    def read_then_lose_the_lease() -> GroupView:
        view = read()
        # The lease lapsed during the read and another host's run took it.
        for key in leases.keys("slbsync:lock:*"):
            leases.set(key, "another-run")
        return view

    monkeypatch.setattr(group, "read", read_then_lose_the_lease)
    cloud_env.clear_calls()

    try:
        with pytest.raises(LockError, match="the Redis lease was lost"):
            Membership(group).register(Server(port=8080, id="i-chat1"))
    finally:
        for key in leases.keys("slbsync:lock:*"):
            leases.delete(key)  # the other "run" is a test's fiction

    assert "AddVServerGroupBackendServers" not in cloud_env.calls()["by_action"]
    monkeypatch.undo()
    assert group.read().members == ()
