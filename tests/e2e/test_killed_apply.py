"""An apply killed with SIGKILL at random points leaves a state the next
apply finishes, with nothing duplicated."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    apply_in_process,
    clean_env,
    load_balancers_named,
    plan_in_process,
    server_group_names,
    small_load_balancer,
    write_spec,
)

pytestmark = pytest.mark.slow

TRIALS = 20
# The CLI's entry point, with its imports done before the go-ahead: the next
# trials' processes start while this one runs, so the suite does not wait
# for 20 cold starts, and the kill lands in the apply, not in the imports.
LAUNCHER = """
import sys
from slbsync.cli import app
import slbsync.targets.alibaba_slb.target
sys.stdin.readline()
sys.argv = ["slbsync", *sys.argv[1:]]
app.main()
"""
LOOK_AHEAD = 2
CALLS_IN_A_FULL_APPLY = 10  # 2 reads, then 4 writes for each load balancer


def _launch(spec):
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "apply", str(spec), "--auto-approve"],
        env=clean_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_calls(emulator, process, count):
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if emulator.control("GET", "calls")["total"] >= count:
            return
        time.sleep(0.005)


@pytest.fixture
def credentials(monkeypatch):
    for key in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)


def test_killed_applies_are_finished_by_the_next(emulator, spec_dir, credentials):
    lbs = {"chat": small_load_balancer(servers=3), "edge": small_load_balancer(2)}
    spec = write_spec(spec_dir, emulator.url, lbs)
    chance = random.Random(20261203)
    kills = []
    waiting = [_launch(spec) for _ in range(LOOK_AHEAD)]

    try:
        for trial in range(TRIALS):
            emulator.reset()
            # Latency stretches the apply so kills land between its calls too.
            emulator.set_faults(latency_ms=40)
            process = waiting.pop(0)
            if trial + LOOK_AHEAD < TRIALS:
                waiting.append(_launch(spec))
            process.stdin.write(b"go\n")
            process.stdin.close()
            # A random point: after a random number of calls, a little into the next.
            after_calls = chance.randint(0, CALLS_IN_A_FULL_APPLY - 1)
            _wait_for_calls(emulator, process, after_calls)
            time.sleep(chance.uniform(0, 0.05))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                kills.append(emulator.control("GET", "calls")["total"])
            process.wait()
            # A request the dead process had in flight still lands (after the
            # emulator's latency); the next apply starts once it has.
            time.sleep(0.2)

            emulator.set_faults()
            report = apply_in_process(spec)
            assert report.failures == [], (trial, [r.message for r in report.failures])
            plan, _ = plan_in_process(spec)
            assert plan.is_empty, (trial, [c.summary for c in plan.changes])
            assert load_balancers_named(emulator) == {"chat": 1, "edge": 1}, trial
            assert server_group_names(emulator) == ["chat/ws-nodes", "edge/ws-nodes"]
    finally:
        for leftover in waiting:
            leftover.kill()
            leftover.wait()

    # Most trials must really have killed an apply midway, at varied points.
    assert len(kills) >= TRIALS * 3 // 4, kills
    assert len(set(kills)) >= 4, kills
