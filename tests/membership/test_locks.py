from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import redis

from slbsync.errors import LockError
from slbsync.membership.locks import (
    FileLoadBalancerLock,
    RedisLoadBalancerLock,
    lock_for,
)


def _hold_in_subprocess(setting: str, lock_dir: Path, lease: float) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from slbsync.membership.locks import lock_for
        lock = lock_for("cloud", "chat-gateway", {setting!r},
                        lock_dir=Path({str(lock_dir)!r}), lease_seconds={lease})
        lock.acquire(wait_seconds=5)
        print("held", flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_file_lock_refuses_second_holder_with_clear_message(tmp_path: Path) -> None:
    first = FileLoadBalancerLock("cloud", "chat-gateway", tmp_path)
    second = FileLoadBalancerLock("cloud", "chat-gateway", tmp_path)
    first.acquire()
    try:
        with pytest.raises(LockError, match=r"lock cloud/chat-gateway: another run"):
            second.acquire(wait_seconds=0.2)
    finally:
        first.release()
    second.acquire(wait_seconds=1)
    second.release()


def test_file_lock_is_per_load_balancer(tmp_path: Path) -> None:
    with FileLoadBalancerLock("cloud", "a", tmp_path):
        other = FileLoadBalancerLock("cloud", "b", tmp_path)
        other.acquire(wait_seconds=0.2)
        other.release()


def test_file_lock_freed_when_holder_killed(tmp_path: Path) -> None:
    holder = _hold_in_subprocess("file", tmp_path, 30)
    lock = FileLoadBalancerLock("cloud", "chat-gateway", tmp_path)
    with pytest.raises(LockError):
        lock.acquire(wait_seconds=0.2)
    _kill(holder)
    lock.acquire(wait_seconds=5)
    lock.release()


def test_redis_lock_serialises_runs_on_different_hosts(redis_url: str) -> None:
    # Each thread stands for a host with its own lock object and connection.
    inside = 0
    overlaps = 0
    counter_lock = threading.Lock()

    def run() -> None:
        nonlocal inside, overlaps
        for _ in range(5):
            lock = RedisLoadBalancerLock("cloud", "serial", redis_url, lease_seconds=5)
            with lock:
                with counter_lock:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0.01)
                with counter_lock:
                    inside -= 1

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert overlaps == 0


def test_redis_lease_is_renewed_while_holder_works(redis_url: str) -> None:
    holder = RedisLoadBalancerLock("cloud", "renewed", redis_url, lease_seconds=0.6)
    holder.acquire()
    try:
        # Three leases' worth of time: without renewal the key would expire.
        time.sleep(1.8)
        holder.ensure_held()
        contender = RedisLoadBalancerLock("cloud", "renewed", redis_url, 0.6)
        with pytest.raises(LockError, match="another run still holds it"):
            contender.acquire(wait_seconds=0.3)
    finally:
        holder.release()


def test_redis_lease_expires_when_holder_killed(redis_url: str, tmp_path: Path) -> None:
    holder = _hold_in_subprocess(redis_url, tmp_path, 1.0)
    lock = RedisLoadBalancerLock("cloud", "chat-gateway", redis_url, lease_seconds=1)
    with pytest.raises(LockError):
        lock.acquire(wait_seconds=0.2)
    _kill(holder)
    started = time.monotonic()
    lock.acquire(wait_seconds=5)
    waited = time.monotonic() - started
    lock.release()
    assert waited <= 2.0, "the dead holder's lease should expire within about 1s"


def test_redis_lock_lost_is_reported_by_ensure_held(redis_url: str) -> None:
    holder = RedisLoadBalancerLock("cloud", "lost", redis_url, lease_seconds=0.6)
    holder.acquire()
    try:
        # Someone else takes the key over (as after a long network partition).
        redis.Redis.from_url(redis_url).set("slbsync:lock:cloud:lost", "other")
        time.sleep(0.5)
        with pytest.raises(LockError, match="the Redis lease was lost"):
            holder.ensure_held()
    finally:
        holder.release()


def test_lock_setting_chooses_kind_and_rejects_unknown(tmp_path: Path) -> None:
    assert isinstance(
        lock_for("t", "lb", None, lock_dir=tmp_path), FileLoadBalancerLock
    )
    assert isinstance(
        lock_for("t", "lb", "redis://127.0.0.1:1/0"), RedisLoadBalancerLock
    )
    with pytest.raises(LockError, match='lock "zookeeper://x" is not a lock'):
        lock_for("t", "lb", "zookeeper://x")


def test_redis_error_hides_password(tmp_path: Path) -> None:
    lock = RedisLoadBalancerLock(
        "t", "lb", "redis://:hunter2secret@127.0.0.1:1/0", lease_seconds=0.3
    )
    with pytest.raises(LockError) as caught:
        lock.acquire(wait_seconds=0.1)
    assert "hunter2secret" not in str(caught.value)
