"""The call log: how many signed calls the emulator answered, and how.

Tests and benchmarks read it through ``GET /_emulator/calls`` to count the
API calls a piece of slbsync made, including retries and refused calls,
and through ``GET /_emulator/calls/outcomes`` to see what became of them:
answered, refused with an error code (an injected fault or a handler's own
refusal, such as a busy listener), held until the client timed out, or
carried out with the answer lost. A test of retries can then prove that
the faults it is about really happened, instead of trusting the client.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

ANSWERED = "ok"
LOST_RESPONSE = "lost-response"
TIMED_OUT = "timed-out"


class CallLog:
    """Counts of signed calls, and of their outcomes, since the last ``clear``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_action: Counter[str] = Counter()
        self._outcomes: Counter[tuple[str, str]] = Counter()

    def record(self, action: str) -> None:
        with self._lock:
            self._by_action[action] += 1

    def record_outcome(self, action: str, outcome: str) -> None:
        """What became of a recorded call: ``ok``, an error code, or a drop."""
        with self._lock:
            self._outcomes[(action, outcome)] += 1

    def clear(self) -> None:
        with self._lock:
            self._by_action.clear()
            self._outcomes.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            by_action = dict(sorted(self._by_action.items()))
        return {"total": sum(by_action.values()), "by_action": by_action}

    def outcomes(self) -> dict[str, Any]:
        """``{"by_outcome": {outcome: n}, "by_action": {action: {outcome: n}}}``."""
        with self._lock:
            pairs = sorted(self._outcomes.items())
        by_outcome: Counter[str] = Counter()
        by_action: dict[str, dict[str, int]] = {}
        for (action, outcome), count in pairs:
            by_outcome[outcome] += count
            by_action.setdefault(action, {})[outcome] = count
        return {"by_outcome": dict(sorted(by_outcome.items())), "by_action": by_action}
