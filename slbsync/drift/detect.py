"""Detect drift: read what is live, compare it with the spec, classify.

The reading and comparing are the plan's own (``plan.make``), so drift and
plan never disagree about what differs; only the classification differs
(see ``drift.classify``). A target that cannot be read makes the run an
error, but the targets that could be read are still reported.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slbsync.diff.compare import compare
from slbsync.diff.differences import DifferenceStatus
from slbsync.drift.classify import DriftItem, classify
from slbsync.errors import SlbsyncError
from slbsync.plan.make import read_with_retries
from slbsync.spec.model import Spec
from slbsync.targets.base import LiveState, Target

log = logging.getLogger(__name__)

DEFAULT_READ_DEADLINE = 30.0  # seconds of reading again after transient errors


@dataclass(frozen=True)
class TargetDrift:
    """One target's drift, and the live state it was found in."""

    target: str
    items: tuple[DriftItem, ...] = ()
    reads: tuple[tuple[str, int], ...] = ()
    skipped: tuple[str, ...] = ()
    live: LiveState | None = field(default=None, compare=False, repr=False)
    error: str | None = None

    @property
    def read_calls(self) -> int:
        return sum(count for _, count in self.reads)


@dataclass(frozen=True)
class DriftResult:
    """What one drift run found, over every target."""

    targets: tuple[TargetDrift, ...]
    started: str  # ISO 8601, UTC
    duration: float  # seconds

    @property
    def items(self) -> tuple[DriftItem, ...]:
        return tuple(item for part in self.targets for item in part.items)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(part.error for part in self.targets if part.error)

    @property
    def status(self) -> str:
        """``error`` if a target could not be read, else ``drift`` or ``clean``."""
        if self.errors:
            return "error"
        return "drift" if self.items else "clean"

    @property
    def read_calls(self) -> int:
        return sum(part.read_calls for part in self.targets)

    def counts(self) -> dict[str, int]:
        """Drifted resources by status: modified, missing, unexpected."""
        found = Counter(str(item.status) for item in self.items)
        return {str(status): found.get(str(status), 0) for status in _STATUSES}


_STATUSES = (
    DifferenceStatus.MODIFIED,
    DifferenceStatus.MISSING,
    DifferenceStatus.UNEXPECTED,
)


def detect_drift(
    spec: Spec,
    targets: Sequence[Target],
    *,
    read_deadline: float = DEFAULT_READ_DEADLINE,
    parallelism: int = 4,
    clock: Callable[[], float] = time.monotonic,
) -> DriftResult:
    """Read every target (concurrently) and classify what differs from ``spec``."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    begin = clock()
    workers = max(1, min(parallelism, len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda t: detect_target(spec, t, read_deadline), targets))
    return DriftResult(tuple(parts), started, clock() - begin)


def detect_target(spec: Spec, target: Target, read_deadline: float) -> TargetDrift:
    """One target's drift; a read that fails is the part's ``error``."""
    try:
        live = read_with_retries(target, spec, deadline=read_deadline)
    except SlbsyncError as err:
        return TargetDrift(target.name, error=str(err))

    # prune=True: an unexpected listener or group on an owned load balancer
    # is drift even though apply leaves it alone without --prune. No
    # discovery hook: discovered and external members are not drift.
    comparison = compare(spec, live, target, prune=True)
    for warning in comparison.skipped:
        log.debug("drift: skipped %s", warning)
    return TargetDrift(
        target=target.name,
        items=classify(comparison.differences),
        reads=live.reads,
        skipped=tuple(comparison.skipped),
        live=live,
    )
