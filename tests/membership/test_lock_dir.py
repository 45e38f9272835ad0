"""One rule for where file locks are, whichever command runs and from where."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from slbsync.errors import LockError, SpecError
from slbsync.membership.locks import (
    DEFAULT_LOCK_DIR,
    LOCK_DIR_ENV,
    FileLoadBalancerLock,
    lock_dir_for,
    lock_factory,
    lock_for,
)
from slbsync.spec.load import load_spec
from slbsync.spec.model import TargetSpec
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.drift.conftest import lb_id
from tests.importer.handmade import set_tcp_listener
from tests.membership.conftest import apply_spec, write_cloud_spec

GROUPS = {"ws-nodes": {"membership": "external"}}


def test_flag_then_environment_then_spec_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCK_DIR_ENV)
    in_spec = f"file://{tmp_path}/spec"

    assert lock_dir_for(None) == DEFAULT_LOCK_DIR == Path("/var/lib/slbsync/locks")
    assert lock_dir_for("file") == DEFAULT_LOCK_DIR
    assert lock_dir_for(in_spec) == tmp_path / "spec"
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "env"))
    assert lock_dir_for(in_spec) == tmp_path / "env"
    assert lock_dir_for(in_spec, tmp_path / "flag") == tmp_path / "flag"


def test_spec_lock_directory_must_be_absolute(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("targets:\n  edge: {type: nginx, lock: 'file://locks'}\n")

    with pytest.raises(SpecError) as caught:
        load_spec([spec])

    assert "spec.yaml:2" in str(caught.value)
    assert "file:///an/absolute/directory" in str(caught.value)


def test_unusable_lock_directory_names_the_ways_out(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    lock = lock_for("edge", "slbsync.conf", None, lock_dir=tmp_path / "a-file" / "x")

    with pytest.raises(LockError) as caught:
        lock.acquire(0.1)

    message = str(caught.value)
    assert f"cannot use the lock directory {tmp_path}/a-file/x" in message
    assert "lock: file:///path in target edge or --lock-dir" in message


def test_commands_in_different_directories_share_the_spec_lock(
    cloud_env: EmulatorHandle,
    slb_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LOCK_DIR_ENV)
    shared = tmp_path / "shared-locks"
    lock = f"file://{shared}"
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, GROUPS, lock=lock)
    apply_spec(path)
    cloud_env.seed_instances({"id": "i-chat1", "vpc_id": "vpc-chat"})
    node = ["-l", "chat-gateway", "-g", "ws-nodes", "--server", "i-chat1"]

    # A boot script's register, a CI apply and the drift service, each in a
    # directory of its own, all wait for the one lock.
    registered = _waits_for_lock(
        shared, tmp_path / "boot", "register", str(path), *node, "--port", "8080"
    )
    assert "added at weight 100" in registered

    changed = write_cloud_spec(
        tmp_path / "specs", cloud_env.url, GROUPS, lock=lock, drain="20s"
    )
    applied = _waits_for_lock(
        shared, tmp_path / "ci", "apply", str(changed), "--auto-approve"
    )
    assert "Applied 1 of 1 changes." in applied

    set_tcp_listener(
        slb_client, lb_id(slb_client, "chat-gateway"), 443, scheduler="wrr"
    )
    remediated = _waits_for_lock(
        shared, tmp_path / "drift", "drift", str(changed), "--remediate", code=2
    )
    assert "scheduler" in remediated

    assert [p.name for p in shared.iterdir()] == ["cloud--chat-gateway.lock"]
    for place in ("boot", "ci", "drift"):
        assert not (tmp_path / place / ".slbsync" / "locks").exists()


def _waits_for_lock(shared: Path, cwd: Path, *args: str, code: int = 0) -> str:
    """Run ``slbsync ARGS`` in ``cwd`` while the test holds the lock; its output.

    It must still be waiting after two seconds, and finish once let go.
    """
    holder = FileLoadBalancerLock("cloud", "chat-gateway", shared)
    holder.acquire()
    cwd.mkdir(exist_ok=True)
    run = subprocess.Popen(
        [sys.executable, "-m", "slbsync", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        time.sleep(2)
        waiting = run.poll() is None
    finally:
        holder.release()
    output, _ = run.communicate(timeout=60)
    assert waiting, f"slbsync {args[0]} did not wait for the lock: {output}"
    assert run.returncode == code, output
    return output


def test_embedded_emulator_locks_sit_beside_its_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quick start runs as any user: with endpoint: local nothing may
    # need the host-wide directory, which only root can create.
    monkeypatch.delenv(LOCK_DIR_ENV)
    state = tmp_path / "state"
    local = AlibabaSlbTarget(
        TargetSpec(
            name="cloud",
            type="alibaba-slb",
            endpoint="local",
            options=(("state_dir", str(state)),),
        )
    )
    remote = AlibabaSlbTarget(
        TargetSpec(name="cloud", type="alibaba-slb", endpoint="http://127.0.0.1:1")
    )

    local_lock = lock_factory()(local, "chat-gateway")
    remote_lock = lock_factory()(remote, "chat-gateway")

    assert isinstance(local_lock, FileLoadBalancerLock)
    assert local_lock.directory == state / "locks"
    assert isinstance(remote_lock, FileLoadBalancerLock)
    assert remote_lock.directory == DEFAULT_LOCK_DIR
    # An explicit choice still wins over the target's own default.
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "env"))
    env_lock = lock_factory()(local, "chat-gateway")
    assert isinstance(env_lock, FileLoadBalancerLock)
    assert env_lock.directory == tmp_path / "env"
