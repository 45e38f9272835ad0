"""The embedded emulator behind ``endpoint: local`` in a spec target.

``local_emulator()`` starts the same server as ``slbsync emulator serve``,
in this process, on an ephemeral loopback port, once per process. Its state
lives in ``.slbsync/emulator-state.json`` so that ``plan`` after ``apply``
sees what ``apply`` created, offline. While it serves, the process holds an
inter-process file lock on ``.slbsync/emulator.lock``: a second invocation
waits for the first to finish rather than both writing the state file.
"""

from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path

from filelock import FileLock, Timeout

from slbsync.errors import EmulatorError

log = logging.getLogger(__name__)

STATE_FILE = "emulator-state.json"
LOCK_FILE = "emulator.lock"
LOCK_WAIT_SECONDS = 120.0

_lock = threading.Lock()
_running: dict[Path, tuple[str, str, str]] = {}


def local_emulator(
    state_dir: str | Path = ".slbsync", *, lock_wait_seconds: float = LOCK_WAIT_SECONDS
) -> tuple[str, str, str]:
    """Start (once per process) the embedded emulator.

    Returns ``(endpoint, access_key_id, access_key_secret)``: the default
    key pair, which is public by design.
    """
    from slbsync.emulator.faults import SERVED_CONFIGURING_MS, FaultSettings
    from slbsync.emulator.server import EmulatorServer
    from slbsync.emulator.signature import (
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
    )

    directory = Path(state_dir).resolve()
    with _lock:
        if directory in _running:
            return _running[directory]
        directory.mkdir(parents=True, exist_ok=True)
        file_lock = FileLock(str(directory / LOCK_FILE))
        try:
            file_lock.acquire(timeout=lock_wait_seconds)
        except Timeout:
            raise EmulatorError(
                f"embedded emulator: {directory / LOCK_FILE} is held by another "
                f"slbsync process for over {lock_wait_seconds:.0f}s; wait for it "
                "to finish, or remove the lock file if no slbsync is running"
            ) from None
        try:
            server = EmulatorServer(
                state_path=directory / STATE_FILE,
                faults=FaultSettings(configuring_ms=SERVED_CONFIGURING_MS),
            ).start()
        except BaseException:
            file_lock.release()
            raise
        atexit.register(_stop, server, file_lock)
        log.info("emulator: embedded endpoint=%s state=%s", server.endpoint, directory)
        _running[directory] = (
            server.endpoint,
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_ACCESS_KEY_SECRET,
        )
        return _running[directory]


def _stop(server: object, file_lock: FileLock) -> None:
    try:
        server.stop()  # type: ignore[attr-defined]
    finally:
        file_lock.release()
