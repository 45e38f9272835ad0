"""Reload nginx gracefully and confirm that the reload really happened.

SIGHUP makes the master start new workers with the new config and ask the
old ones to finish their connections (up to ``worker_shutdown_timeout``).
A reload that fails (a port that cannot be bound, a file that went bad)
still leaves the old workers serving and reports nothing to the sender, so
success means: a new, complete set of workers replaced the old one. An
``[emerg]`` in the error log after the signal means failure at once.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
LIVE_WORKER = "nginx: worker process"
SHUTTING_DOWN = "is shutting down"


class ReloadFailed(Exception):
    """The master did not replace its workers; the message says why."""


def read_master_pid(pid_file: str) -> int | None:
    """The master's pid, or None when nginx is not running."""
    try:
        with open(pid_file) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def live_workers(master: int) -> set[int]:
    """The master's workers that serve new connections (not shutting down)."""
    workers = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue  # the process ended while we looked
        parent = int(stat.rpartition(")")[2].split()[1])
        serving = cmdline.startswith(LIVE_WORKER) and SHUTTING_DOWN not in cmdline
        if parent == master and serving:
            workers.add(int(entry))
    return workers


def reload_and_confirm(
    master: int,
    timeout: float,
    error_log: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> set[int]:
    """SIGHUP the master and wait for a new generation; its worker pids."""
    before = live_workers(master)
    log_offset = _size(error_log)
    os.kill(master, signal.SIGHUP)

    deadline = clock() + timeout
    while True:
        now = live_workers(master)
        if now and now.isdisjoint(before) and len(now) >= len(before):
            log.debug("reload: master=%d workers=%s", master, sorted(now))
            return now
        emergencies = _new_emergencies(error_log, log_offset)
        if emergencies:
            raise ReloadFailed("; ".join(emergencies))
        if clock() >= deadline:
            raise ReloadFailed(
                f"the workers of nginx master {master} were not replaced within "
                f"{timeout:g}s"
            )
        sleep(POLL_SECONDS)


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _new_emergencies(path: str | None, offset: int) -> list[str]:
    if not path:
        return []
    try:
        with open(path, errors="replace") as handle:
            handle.seek(offset)
            text = handle.read()
    except OSError:
        return []
    return [
        line.split("[emerg]", 1)[1].strip().split(": ", 1)[-1]
        for line in text.splitlines()
        if "[emerg]" in line
    ]
