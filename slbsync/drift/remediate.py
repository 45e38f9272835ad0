"""Remediate drift: apply the plan that puts the live state back.

The plan is made from the very live state the drift run read (no second
read), with the run's own ``prune`` (off unless asked: an unexpected
listener or group is reported, never deleted, without ``--prune``). It
goes through the usual safety check and the apply runner, holding each
load balancer's lock, so a remediation is exactly an ``apply`` that was
not asked to confirm.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from slbsync import __version__
from slbsync.apply.report import ApplyReport
from slbsync.apply.runner import DEFAULT_RATE_LIMIT, PlanRunner
from slbsync.diff.compare import compare
from slbsync.drift.detect import DriftResult
from slbsync.errors import SafetyError
from slbsync.membership.locks import lock_factory
from slbsync.plan.make import target_plan_from
from slbsync.plan.model import Plan
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL, check_safety
from slbsync.ratelimit import AdaptiveRateLimiter
from slbsync.spec.model import Spec
from slbsync.targets.base import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemediationOptions:
    prune: bool = False
    force: bool = False
    max_removal: float = DEFAULT_MAX_REMOVAL
    rate_limit: float = DEFAULT_RATE_LIMIT
    lock_dir: Path | None = None  # None: the shared rule, lock_dir_for


@dataclass
class Remediation:
    """What a remediation did: the plan, the apply report, or why it stopped."""

    plan: Plan
    report: ApplyReport = field(default_factory=ApplyReport)
    refused: str | None = None  # the safety check's message

    @property
    def writes(self) -> int:
        return len(self.report.results)

    @property
    def failed(self) -> bool:
        return bool(self.refused or self.report.failures or self.report.commit_errors)


def remediation_plan(
    spec: Spec, result: DriftResult, targets: Sequence[Target], *, prune: bool
) -> Plan:
    """The changes that undo ``result``'s drift, from the live state it read."""
    by_name = {target.name: target for target in targets}
    parts = []
    for part in result.targets:
        if part.live is None or not part.items:
            continue
        target = by_name[part.target]
        comparison = compare(spec, part.live, target, prune=prune)
        parts.append(target_plan_from(target, part.live, comparison))
    return Plan(
        targets=tuple(parts),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__,
        prune=prune,
        sources=spec.sources,
    )


def remediate(
    spec: Spec,
    result: DriftResult,
    targets: Sequence[Target],
    options: RemediationOptions,
) -> Remediation:
    """Apply the remediation plan within the safety limits; never raises them."""
    plan = remediation_plan(spec, result, targets, prune=options.prune)
    remediation = Remediation(plan)
    if plan.is_empty:
        return remediation
    try:
        check_safety(plan, max_removal=options.max_removal, force=options.force)
    except SafetyError as err:
        remediation.refused = str(err)
        log.warning("drift: remediation refused: %s", err)
        return remediation

    runner = PlanRunner(
        _by_name(targets),
        limiter=AdaptiveRateLimiter(options.rate_limit),
        locks=lock_factory(options.lock_dir),
    )
    remediation.report = runner.run(plan)
    return remediation


def _by_name(targets: Sequence[Target]) -> Mapping[str, Target]:
    return {target.name: target for target in targets}
