"""Put a rendered file live: check it, swap it in, reload, confirm.

HAProxy's master answers ``reload`` with nothing whether or not the new
configuration loads; a failed reload only shows in ``show proc`` (the
``failed`` counter goes up and the old worker keeps serving). So every
reload here is confirmed: the reload count goes up, a new worker pid
appears, and the failed counter stays where it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from slbsync.errors import ConfigRejectedError, TargetError
from slbsync.targets.haproxy.options import HaproxyOptions
from slbsync.targets.haproxy.runtime_api import MasterApi, ProcessTable, RuntimeApiError

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 30.0


class ReloadFailedError(TargetError):
    """HAProxy's master did not load the new configuration."""


def main_config_files(options: HaproxyOptions) -> list[Path]:
    """The user's files, as HAProxy loads them, without the owned file.

    A directory stands for its ``.cfg`` files in name order (HAProxy's own
    rule); the owned file is left out so that checking a new owned file
    does not also load the old one.
    """
    files: list[Path] = []
    for entry in options.main_config:
        if entry.is_dir():
            files += sorted(p for p in entry.iterdir() if p.suffix == ".cfg")
        else:
            files.append(entry)
    owned = options.config_path.resolve()
    return [path for path in files if path.resolve() != owned]


def check_config(options: HaproxyOptions, candidate: Path) -> None:
    """Run ``haproxy -c`` on the user's files plus ``candidate``.

    Raises ConfigRejectedError with HAProxy's own alerts, which name the
    file and line. ``-q`` is not used: it hides the reason too.
    """
    command = [options.binary, "-c"]
    for path in main_config_files(options):
        command += ["-f", str(path)]
    command += ["-f", str(candidate)]
    log.debug("haproxy: check command=%s", " ".join(command))
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False
    )
    if result.returncode == 0:
        return
    rejected = candidate.with_name(options.config_path.name + ".rejected")
    os.replace(candidate, rejected)
    output = (result.stdout + result.stderr).replace(str(candidate), str(rejected))
    alerts = [line.strip() for line in output.splitlines() if "[ALERT]" in line]
    reasons = "\n  ".join(alerts or output.strip().splitlines())
    raise ConfigRejectedError(
        f"haproxy -c rejected the configuration rendered for {options.config_path} "
        f"(kept at {rejected}); the owned file was not replaced and HAProxy "
        f"was not reloaded:\n  {reasons}"
    )


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def swap_in(options: HaproxyOptions, candidate: Path) -> None:
    """Make ``candidate`` the owned file, keeping the one it replaces."""
    live = options.config_path
    if live.exists():
        shutil.copy2(live, options.previous_config_path)
    os.replace(candidate, live)


def restore_previous(options: HaproxyOptions) -> bool:
    """Put the previous owned file back; False when there was none."""
    previous = options.previous_config_path
    if not previous.exists():
        return False
    restored = previous.with_name(previous.name + ".restore")
    shutil.copy2(previous, restored)
    os.replace(restored, options.config_path)
    return True


def reload_and_confirm(
    master: MasterApi,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ProcessTable:
    """Ask the master to reload and wait until a new worker serves."""
    before = master.show_proc()
    master.reload()
    deadline = clock() + timeout
    while True:
        sleep(0.05)
        try:
            now = master.show_proc()
        except RuntimeApiError:
            now = None  # the master re-executes itself; its socket comes back
        if now is not None and now.failed_reloads > before.failed_reloads:
            raise ReloadFailedError(
                f"HAProxy (master pid {before.master_pid}) failed to load the new "
                f"configuration (show proc: failed {now.failed_reloads}); its old "
                "worker keeps serving"
            )
        if (
            now is not None
            and now.reloads > before.reloads
            and _new_worker(before, now)
        ):
            log.info(
                "haproxy: reloaded master=%d workers=%s",
                now.master_pid,
                ",".join(map(str, now.workers)),
            )
            return now
        if clock() > deadline:
            raise ReloadFailedError(
                f"HAProxy (master pid {before.master_pid}) did not confirm a reload "
                f"within {timeout:g}s; check its log"
            )


def _new_worker(before: ProcessTable, now: ProcessTable) -> bool:
    return bool(now.workers) and not set(now.workers) & set(before.workers)
