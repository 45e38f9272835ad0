"""Put a rendered file live: validate, swap atomically, reload, confirm.

1. write the candidate next to the owned file (same filesystem, so the swap
   is one ``os.replace``);
2. ``nginx -t`` the whole configuration with the candidate in place;
3. copy the current file to ``<file>.previous`` and swap the candidate in;
4. SIGHUP the master and confirm a new generation of workers;
5. if the reload did not happen, put the previous file back, reload again
   and raise ``ConfigRejectedError`` saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil

from slbsync.errors import ConfigRejectedError, TargetError
from slbsync.targets.nginx.options import NginxOptions
from slbsync.targets.nginx.reload import (
    ReloadFailed,
    read_master_pid,
    reload_and_confirm,
)
from slbsync.targets.nginx.validate import check_candidate

log = logging.getLogger(__name__)


def deploy(text: str, options: NginxOptions, target: str, empty_text: str) -> str:
    """Make ``text`` the live owned file; a note for people on what happened.

    ``empty_text`` is what the file holds when nothing is configured: the
    rollback target when there was no file before.
    """
    path = options.config_path
    candidate = f"{path}.candidate"
    _write(candidate, text, target)
    try:
        check_candidate(options, candidate, target)
    except BaseException:
        _remove(candidate)
        raise

    previous = f"{path}.previous"
    had_file = os.path.exists(path)
    if had_file:
        shutil.copy2(path, previous)
    os.replace(candidate, path)
    log.info("apply: target=%s swapped=%s", target, path)

    master = read_master_pid(options.pid_file) if options.pid_file else None
    if master is None:
        log.warning(
            "apply: target=%s nginx is not running (pid_file=%s); %s is in place "
            "for its next start",
            target,
            options.pid_file,
            path,
        )
        return "written; nginx is not running, so no reload"

    try:
        reload_and_confirm(master, options.reload_timeout, options.error_log)
    except ReloadFailed as failure:
        _roll_back(options, target, master, previous if had_file else None, empty_text)
        raise ConfigRejectedError(
            f"target {target}: nginx did not take the new config on reload "
            f"({failure}); restored the previous {path} and reloaded it, so the "
            "running nginx is unchanged; fix the cause (a port in use?) and apply "
            "again"
        ) from failure
    return "rendered, validated with nginx -t, reloaded and confirmed"


def _roll_back(
    options: NginxOptions,
    target: str,
    master: int,
    previous: str | None,
    empty_text: str,
) -> None:
    path = options.config_path
    restore = f"{path}.restore"
    if previous:
        shutil.copy2(previous, restore)
    else:
        _write(restore, empty_text, target)
    os.replace(restore, path)
    log.warning("apply: target=%s restored=%s reloading again", target, path)
    try:
        # Not the error log: the failed attempt may still be logging (nginx
        # retries a busy port for ~2.5s); new workers are the proof.
        reload_and_confirm(master, options.reload_timeout, error_log=None)
    except ReloadFailed as failure:
        raise ConfigRejectedError(
            f"target {target}: nginx did not take the new config, and the reload "
            f"of the restored previous {path} did not confirm either ({failure}); "
            "check nginx's error log and the processes of master "
            f"{master} by hand"
        ) from failure


def _write(path: str, text: str, target: str) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise TargetError(
            f"target {target}: cannot write {path}: {err.strerror}; check that "
            "the directory of config_path exists and is writable"
        ) from err


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
