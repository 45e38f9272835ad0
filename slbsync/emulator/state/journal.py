"""The files behind ``--state FILE``: a snapshot and a journal of writes since.

Rewriting the whole state on every write costs time in proportion to the
state: with a fleet of a hundred load balancers it was 80 ms a write. So a
write appends one line to ``FILE.journal`` (the action and its parameters,
with the time and ids it used) and fsyncs it before it is answered; every
``COMPACT_EVERY`` writes, and on a clean stop, the whole state goes to FILE
(written to a temporary file, fsynced, renamed) and the journal is emptied.
On start the snapshot is read and the journal's later writes are replayed
through their handlers, which depend only on what the journal recorded.

Concurrent writers share fsyncs: one fsync covers every line written before
it. A line torn by a crash was never answered, so it is dropped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

COMPACT_EVERY = 1000
_PRIVATE = 0o600  # the state holds certificates' private keys


class StateFileError(ValueError):
    """The state file exists but is not a state this emulator wrote."""


class Journal:
    """The snapshot file and the journal of writes made after it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(path.name + ".journal")
        self.sequence = 0  # the last write appended
        self.entries_since_snapshot = 0
        self._synced = 0  # the last write known to be on disk
        self._lock = threading.Lock()
        self._fd: int | None = None

    def load(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The snapshot (None if there is none) and the writes to replay."""
        snapshot = self._read_snapshot()
        if snapshot is not None:
            self.sequence = int(snapshot.get("sequence", 0))
        pending = [e for e in self._read_journal() if e["seq"] > self.sequence]
        if pending:
            self.sequence = pending[-1]["seq"]
        self._synced = self.sequence
        self.entries_since_snapshot = len(pending)
        return snapshot, pending

    def _read_snapshot(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise ValueError("the top level is not an object")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise StateFileError(
                f"state file {self.path} cannot be read ({err}); "
                "move it away to start with an empty emulator"
            ) from err
        return document

    def _read_journal(self) -> list[dict[str, Any]]:
        if not self.journal_path.exists():
            return []
        entries = []
        with open(self.journal_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    log.warning("journal: dropping a torn line at the end")
                    break
                entries.append(entry)
        return entries

    def append(self, entry: dict[str, Any]) -> int:
        """Write one committed write; call with the store's lock held."""
        sequence = self.sequence + 1
        line = json.dumps({"seq": sequence, **entry}, separators=(",", ":")) + "\n"
        os.write(self._journal_fd(), line.encode("utf-8"))
        # Only now, so that a flush that sees this number covers the line.
        self.sequence = sequence
        self.entries_since_snapshot += 1
        return sequence

    def flush(self, sequence: int) -> None:
        """Return once write ``sequence`` is on disk; call without the lock."""
        with self._lock:
            if self._synced >= sequence:
                return  # another writer's fsync covered it
            covered = self.sequence
            os.fsync(self._journal_fd())
            self._synced = max(self._synced, covered)

    def write_snapshot(self, document: str, sequence: int) -> None:
        """Replace the snapshot and empty the journal; call with the lock held."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(document)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            _fsync_directory(self.path.parent)
            if self.journal_path.exists():
                os.ftruncate(self._journal_fd(), 0)
                os.fsync(self._journal_fd())
            self._synced = max(self._synced, sequence)
            self.entries_since_snapshot = 0

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _journal_fd(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            self._fd = os.open(self.journal_path, flags, _PRIVATE)
        return self._fd


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
