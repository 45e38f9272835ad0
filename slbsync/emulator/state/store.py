"""All emulator resources, behind one lock, optionally persisted to a file.

Resources live in named tables of records (mutable dataclasses, one module
per resource kind under ``state/``). ``Store.table(name, RecordType)`` gives
a table; records loaded from a file are turned into their type the first
time their table is asked for.

With a state file, every write is journalled and fsynced before it is
answered, and the whole store is snapshotted now and then (``journal.py``),
so a killed emulator loses nothing it answered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from pathlib import Path
from typing import Any, TypeVar

from slbsync.emulator.state.journal import COMPACT_EVERY, Journal, StateFileError

__all__ = ["StateFileError", "Store"]

T = TypeVar("T")


class Store:
    """Tables of records, guarded by ``lock``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.journal = Journal(self.path) if self.path else None
        # Writes journalled after the last snapshot, for the server to replay.
        self.pending_journal: list[dict[str, Any]] = []
        self._tables: dict[str, dict[str, Any]] = {}
        self._types: dict[str, type] = {}
        self._raw: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}
        # Refuse unknown backend server ids instead of accepting them
        # (``slbsync emulator serve --strict-backends``); see state/ecs.py.
        self.strict_backends = False
        # Load balancers per region (the cloud's default quota is 60,
        # raised on request; ``--load-balancer-quota`` does the same here).
        self.load_balancer_quota = 60
        # Distinct backend servers per load balancer (the cloud's 200,
        # backendservers-per-slb; ``--backend-server-quota``).
        self.backend_server_quota = 200
        if self.journal is not None:
            self._load(self.journal)

    def table(self, name: str, record_type: type[T]) -> dict[str, T]:
        """The table ``name``; its records are ``record_type`` instances."""
        if name not in self._tables:
            self._types[name] = record_type
            raw = self._raw.pop(name, {})
            self._tables[name] = {
                key: record_type(**value) for key, value in raw.items()
            }
        return self._tables[name]

    def next_number(self, kind: str) -> int:
        """A counter per kind, persisted, for ids that never repeat."""
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def new_id(self, kind: str, prefix: str, length: int = 22) -> str:
        """A cloud-looking id (``lb-`` + 22 lower-case alphanumerics), never repeated.

        The counter is mixed through a hash so ids look random but stay
        stable for a given sequence of creates.
        """
        number = self.next_number(kind)
        digest = hashlib.sha256(f"{kind}:{number}".encode()).digest()
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        value = int.from_bytes(digest, "big")
        chars = []
        for _ in range(length):
            value, index = divmod(value, 36)
            chars.append(alphabet[index])
        return prefix + "".join(chars)

    def reset(self) -> None:
        with self.lock:
            for table in self._tables.values():
                table.clear()
            self._raw.clear()
            self.counters.clear()
            self.save()

    def dump(self) -> dict[str, Any]:
        """Every table as plain JSON-compatible data."""
        with self.lock:
            tables: dict[str, Any] = {
                name: {key: dataclasses.asdict(rec) for key, rec in table.items()}
                for name, table in self._tables.items()
            }
            for name, raw in self._raw.items():
                tables.setdefault(name, raw)
            return {"tables": tables, "counters": dict(self.counters)}

    def _serialise(self, sequence: int) -> str:
        """The store as JSON; call with the lock held.

        Records are serialised from their ``__dict__`` without the deep copy
        ``dump`` makes: nothing changes them while the lock is held.
        """
        tables: dict[str, Any] = {
            name: {key: vars(record) for key, record in table.items()}
            for name, table in self._tables.items()
        }
        for name, raw in self._raw.items():
            tables.setdefault(name, raw)
        document = {"tables": tables, "counters": self.counters, "sequence": sequence}
        return json.dumps(document)

    def save(self) -> None:
        """Snapshot the whole store to the state file, if there is one."""
        if self.journal is None:
            return
        with self.lock:
            sequence = self.journal.sequence
            self.journal.write_snapshot(self._serialise(sequence), sequence)

    def record_write(self, entry: dict[str, Any]) -> int:
        """Journal a write just made; call with the lock held. 0: no state file."""
        if self.journal is None:
            return 0
        return self.journal.append(entry)

    def commit(self, sequence: int) -> None:
        """Return once write ``sequence`` is on disk; call without the lock."""
        if self.journal is None or sequence == 0:
            return
        self.journal.flush(sequence)
        if self.journal.entries_since_snapshot >= COMPACT_EVERY:
            self.save()

    def close(self) -> None:
        """Fold the journal into the snapshot and close the files."""
        if self.journal is None:
            return
        with self.lock:
            if self.journal.entries_since_snapshot:
                self.save()
            self.journal.close()

    def _load(self, journal: Journal) -> None:
        snapshot, self.pending_journal = journal.load()
        if snapshot is not None:
            self._raw = snapshot.get("tables", {})
            self.counters = snapshot.get("counters", {})
