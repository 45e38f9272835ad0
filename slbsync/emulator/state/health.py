"""Backend health as ``DescribeHealthStatus`` reports it.

The emulator sends no health checks. A backend is ``normal`` unless the
control API (``PUT /_emulator/health``) set it otherwise, for one port or
for every port of that server.
"""

from __future__ import annotations

from dataclasses import dataclass

from slbsync.emulator.state.store import Store

TABLE = "health"
HEALTH_STATES = ("normal", "abnormal", "unavailable")
_ANY_PORT = "*"


@dataclass
class HealthRecord:
    server_id: str
    port: str  # a backend port, or "*" for every port
    status: str


def _table(store: Store) -> dict[str, HealthRecord]:
    return store.table(TABLE, HealthRecord)


def health_of(store: Store, server_id: str, port: int | None) -> str | None:
    """The override for this server and port, if one was set."""
    table = _table(store)
    if port is not None:
        record = table.get(f"{server_id}:{port}")
        if record is not None:
            return record.status
    record = table.get(f"{server_id}:{_ANY_PORT}")
    return record.status if record is not None else None


def set_health(
    store: Store, server_id: str, status: str, port: int | None = None
) -> None:
    """Set (or with ``status="normal"`` and no port, keep) a server's health."""
    if status not in HEALTH_STATES:
        raise ValueError(
            f"health status must be one of {', '.join(HEALTH_STATES)}, got {status!r}"
        )
    key_port = _ANY_PORT if port is None else str(port)
    if port is None:
        # A server-wide setting replaces every per-port one.
        for key in [k for k in _table(store) if k.startswith(f"{server_id}:")]:
            del _table(store)[key]
    _table(store)[f"{server_id}:{key_port}"] = HealthRecord(server_id, key_port, status)
