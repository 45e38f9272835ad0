"""The call log: how many signed calls the emulator answered, by action.

Tests and benchmarks read it through ``GET /_emulator/calls`` to count the
API calls a piece of slbsync made, including retries and refused calls.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallLog:
    """Counts of signed calls since the last ``clear``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_action: Counter[str] = Counter()

    def record(self, action: str) -> None:
        with self._lock:
            self._by_action[action] += 1

    def clear(self) -> None:
        with self._lock:
            self._by_action.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            by_action = dict(sorted(self._by_action.items()))
        return {"total": sum(by_action.values()), "by_action": by_action}
