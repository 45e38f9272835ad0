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

from slbsync.membership.group import GroupHandle
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
