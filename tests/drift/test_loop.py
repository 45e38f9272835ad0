"""The drift loop: runs on a schedule, survives a failing cloud, alerts once,
serves /metrics, and stops between runs on SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slbsync.drift.loop import parse_interval, run_every
from slbsync.errors import SlbsyncError
from tests.conftest import EmulatorHandle
from tests.drift.conftest import invoke, lb_id
from tests.drift.test_alerts import Receiver
from tests.importer.handmade import set_tcp_listener

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
WAIT = 30.0  # seconds a test waits for a line before it fails


class DriftProcess:
    """``slbsync drift --every ...`` in a subprocess, its log read line by line."""

    def __init__(self, args: list[str], cwd: Path, emulator: EmulatorHandle) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = emulator.access_key_id
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = emulator.access_key_secret
        env["SLBSYNC_WEBHOOK_SECRET"] = "loop-test-secret"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "slbsync", "drift", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(
            f"no line matching {pattern!r} in:\n" + "\n".join(self.seen)
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def _scrape(port: int) -> str:
    with _NO_PROXY.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def _change_scheduler(client: Any, scheduler: str) -> None:
    set_tcp_listener(client, lb_id(client, "chat"), 443, scheduler=scheduler)


def test_loop_alerts_survives_faults_serves_metrics_and_stops(
    chat: Path,
    emulator: EmulatorHandle,
    slb_client: Any,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    textfile = tmp_path / "textfile" / "slbsync.prom"
    drift = DriftProcess(
        [
            str(chat), "--every", "200ms", "--read-deadline", "0",
            "--alert", f"webhook={receiver.url}/hook",
            "--metrics-port", "0", "--metrics-textfile", str(textfile),
        ],
        tmp_path,
        emulator,
    )  # fmt: skip
    try:
        port = int(drift.wait_for(r"listening=http://127\.0\.0\.1:(\d+)/metrics")[1])
        drift.wait_for(r"drift: run=1 status=clean modified=0 missing=0")

        # Drift made behind slbsync's back: alerted once, however many runs.
        _change_scheduler(slb_client, "wlc")
        first = int(drift.wait_for(r"drift: run=(\d+) status=drift modified=1")[1])
        drift.wait_for(rf"drift: run={first + 1} status=drift modified=1")
        metrics = _scrape(port)
        assert (
            'slbsync_drift_resources{kind="listener",load_balancer="chat",'
            'target="cloud"} 1.0' in metrics
        )
        assert re.search(
            r'slbsync_api_calls_total\{action="DescribeLoadBalancers",result="ok",'
            r'target="cloud"\} \d+',
            metrics,
        )

        # The cloud fails for a while: the runs say so and the loop goes on.
        emulator.set_faults(error_rate=1.0)
        failed = int(drift.wait_for(r"drift: run=(\d+) status=error")[1])
        emulator.set_faults(error_rate=0.0)
        drift.wait_for(rf"drift: run={failed + 1} status=drift")
        assert re.search(
            r'slbsync_api_calls_total\{action="DescribeLoadBalancers",'
            r'result="(ServiceUnavailable|InternalError)",target="cloud"\} \d+',
            _scrape(port),
        )

        # Put back by hand: resolved, once.
        _change_scheduler(slb_client, "wrr")
        drift.wait_for(r"drift: run=\d+ status=clean")
        drift.wait_for(r"drift: run=\d+ status=clean")

        drift.process.send_signal(signal.SIGTERM)
        drift.wait_for(r"drift: stopped after runs=\d+")
        assert drift.process.wait(timeout=10) == 0
    finally:
        drift.stop()

    statuses = [json.loads(body)["status"] for _, _, body in receiver.requests]
    assert statuses == ["drift", "resolved"]
    assert "slbsync_drift_last_success_timestamp_seconds" in textfile.read_text()
    for secret in ("loop-test-secret", emulator.access_key_secret):
        assert secret not in "\n".join(drift.seen)


def test_sigterm_lets_the_run_in_progress_finish(
    chat: Path, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    drift = DriftProcess([str(chat), "--every", "500ms"], tmp_path, emulator)
    try:
        drift.wait_for(r"drift: run=1 status=clean")
        # Each call now takes 0.4s: run 2 starts 0.5s after run 1 and reads in
        # three rounds, so at 0.9s it is under way.
        emulator.set_faults(latency_ms=400)
        time.sleep(0.9)
        drift.process.send_signal(signal.SIGTERM)
        drift.wait_for(r"drift: run=2 status=clean")
        drift.wait_for(r"drift: stopped after runs=2")
        assert drift.process.wait(timeout=10) == 0
    finally:
        emulator.set_faults(latency_ms=0)
        drift.stop()


def test_run_every_goes_on_after_a_failed_run() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def run_once() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("boom")

    runs = run_every(run_once, 0.001, stop, max_runs=4, rng=lambda: 0.0)

    assert runs == 4
    assert calls == [0, 1, 2, 3]


def test_run_every_waits_interval_plus_jitter() -> None:
    waits: list[float] = []

    class Recorder(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            return False

    run_every(lambda: None, 60.0, Recorder(), jitter=0.1, max_runs=3, rng=lambda: 0.5)

    assert waits == [63.0, 63.0]


def test_run_every_never_overlaps_a_run_longer_than_the_interval() -> None:
    now = [0.0]  # a fake clock: runs and waits advance it, nothing else
    runs: list[tuple[float, float]] = []  # (start, end) of each run
    active = [0, 0]  # runs in progress now, and the most ever at once
    lock = threading.Lock()

    class FakeWait(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            now[0] += timeout or 0.0
            return False

    def slow_run() -> None:
        with lock:
            active[0] += 1
            active[1] = max(active)
        started = now[0]
        # A little real time too, so runs started on a timer would overlap.
        time.sleep(0.02)
        now[0] += 25.0  # two and a half intervals
        with lock:
            active[0] -= 1
        runs.append((started, now[0]))

    count = run_every(
        slow_run, 10.0, FakeWait(), jitter=0.0, max_runs=4, rng=lambda: 0.0
    )

    assert count == 4
    assert active[1] == 1
    # Each run starts one interval after the previous one ended.
    assert runs == [(0.0, 25.0), (35.0, 60.0), (70.0, 95.0), (105.0, 130.0)]


def test_parse_interval_units() -> None:
    assert parse_interval("5m") == 300.0
    assert parse_interval("1h30m") == 5400.0
    assert parse_interval("250ms") == 0.25
    assert parse_interval("0.5s") == 0.5
    assert parse_interval("90") == 90.0
    with pytest.raises(SlbsyncError, match='--every "0s" is not an interval'):
        parse_interval("0s")


def test_loop_refuses_a_spec_that_does_not_load_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("load_balancers:\n  chat: {target: nowhere}\n")

    result = invoke("drift", str(bad), "--every", "1s", "--max-runs", "3")

    assert result.exit_code == 1
    assert "nowhere" in str(result.exception)
