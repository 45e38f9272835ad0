"""All emulator resources, behind one lock, optionally persisted to a file.

Resources live in named tables of records (mutable dataclasses, one module
per resource kind under ``state/``). ``Store.table(name, RecordType)`` gives
a table; records loaded from a file are turned into their type the first
time their table is asked for.

Persistence writes the whole store to a temporary file, fsyncs it and
renames it over the state file before a write is acknowledged, so a killed
emulator loses nothing it answered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class StateFileError(ValueError):
    """The state file exists but is not a state this emulator wrote."""


class Store:
    """Tables of records, guarded by ``lock``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        # Persistence: snapshots are numbered; the file holds _saved_version.
        self._save_lock = threading.Lock()
        self._version = 0
        self._saved_version = 0
        self._latest: tuple[int, str] = (0, "")
        self.path = Path(path) if path else None
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
        if self.path and self.path.exists():
            self._load()

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

    def _serialise(self) -> str:
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
        return json.dumps({"tables": tables, "counters": self.counters})

    def save(self) -> None:
        """Persist the state as it is now; return once it is on disk.

        The state is serialised under the lock, and written outside it when
        the caller does not hold the lock: concurrent writers then share one
        fsync (group commit), since a write covers every snapshot before it.
        """
        if self.path is None:
            return
        with self.lock:
            self._version += 1
            self._latest = (self._version, self._serialise())
            version = self._version
        self._write_through(version)

    def _write_through(self, version: int) -> None:
        assert self.path is not None
        with self._save_lock:
            if self._saved_version >= version:
                return  # another writer already put this change on disk
            latest_version, document = self._latest
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(document)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            self._saved_version = latest_version

    def _load(self) -> None:
        assert self.path is not None
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise ValueError("the top level is not an object")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise StateFileError(
                f"state file {self.path} cannot be read ({err}); "
                "move it away to start with an empty emulator"
            ) from err
        self._raw = document.get("tables", {})
        self.counters = document.get("counters", {})
