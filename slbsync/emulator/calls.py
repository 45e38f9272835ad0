"""The call log: how many signed calls the emulator answered, by action.

Tests and benchmarks read it through ``GET /_emulator/calls`` to count the
API calls a piece of slbsync made, including retries and refused calls,
and how many of them the injected faults refused (``refused``, by error
code: ``Throttling.User`` for throttling), so a test can tell that
throttling happened and was retried.
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
        self._refused: Counter[str] = Counter()

    def record(self, action: str) -> None:
        with self._lock:
            self._by_action[action] += 1

    def record_refusal(self, code: str) -> None:
        """A recorded call that a fault (a rate limit, throttle_rate) refused."""
        with self._lock:
            self._refused[code] += 1

    def clear(self) -> None:
        with self._lock:
            self._by_action.clear()
            self._refused.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            by_action = dict(sorted(self._by_action.items()))
            refused = dict(sorted(self._refused.items()))
        return {
            "total": sum(by_action.values()),
            "by_action": by_action,
            "refused": refused,
        }
