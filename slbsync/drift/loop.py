"""Run drift detection on a schedule: every interval, with jitter, never
overlapping, stopped between runs.

The loop runs in one thread, and the next run is timed from the end of
the previous one, so two runs never overlap however long one takes. A stop
(SIGTERM or SIGINT, through ``stop``) lets the run in progress finish and
ends the wait before the next. Jitter spreads the runs of many drift
processes so that they do not all read the cloud at the same second.
"""

from __future__ import annotations

import logging
import random
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slbsync.errors import SlbsyncError
from slbsync.spec.durations import parse_duration

log = logging.getLogger(__name__)

DEFAULT_JITTER = 0.1  # up to this share of the interval is added to each wait
_SHORT = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """Seconds from ``5m``, ``1h30m``, ``90s``, ``0.5s``, ``250ms`` or ``300``."""
    match = _SHORT.fullmatch(text.strip())
    seconds: float | None
    if match:
        seconds = float(match["n"]) * _UNITS[match["unit"]]
    else:
        whole = parse_duration(text)
        seconds = float(whole) if whole is not None else None
    if seconds is None or seconds <= 0:
        raise SlbsyncError(
            f'--every "{text}" is not an interval; write it like 5m, 1h, 90s or 500ms'
        )
    return seconds


def run_every(
    run_once: Callable[[], Any],
    interval: float,
    stop: threading.Event,
    *,
    jitter: float = DEFAULT_JITTER,
    max_runs: int | None = None,
    rng: Callable[[], float] = random.random,
) -> int:
    """Call ``run_once`` every ``interval`` seconds until ``stop``; returns runs.

    A run that raises is logged and the loop goes on: the next run may
    well succeed (the cloud throttled, a webhook was down).
    """
    runs = 0
    while not stop.is_set():
        runs += 1
        try:
            run_once()
        except Exception:
            log.exception("drift: run=%d failed unexpectedly; the loop goes on", runs)
        if max_runs is not None and runs >= max_runs:
            break
        delay = interval + rng() * jitter * interval
        if stop.wait(delay):
            break
    log.info("drift: stopped after runs=%d", runs)
    return runs


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the run in progress finishes first)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; its caller stops us
        return

    def handle(signum: int, _frame: Any) -> None:
        log.info("drift: signal=%s stopping after the run in progress", signum)
        stop.set()

    previous = {
        sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
