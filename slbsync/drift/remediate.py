"""Remediate drift: apply the plan that puts the live state back.

The plan is made from the very live state the drift run read (no second
read), with the run's own ``prune`` (off unless asked: an unexpected
listener or group is reported, never deleted, without ``--prune``). It
goes through the usual safety check and the apply runner, holding each
load balancer's lock, so a remediation is exactly an ``apply`` that was
not asked to confirm.

Members of ``discovered`` groups are reconciled with what the target's
discovery finds (running, tagged ECS instances), like a plan does, even
when nothing drifted: their churn is not drift (``drift`` never reports
it), but a scheduled ``drift --remediate`` is how new instances join and
stopped ones leave, within the same safety limits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from slbsync import __version__
from slbsync.apply.report import ApplyReport
from slbsync.apply.runner import DEFAULT_RATE_LIMIT, PlanRunner
from slbsync.diff.changes import ResourceKind
from slbsync.diff.compare import Comparison, compare
from slbsync.drift.detect import DriftResult
from slbsync.errors import SafetyError
from slbsync.membership.locks import lock_factory
from slbsync.plan.make import discovery_for, target_plan_from
from slbsync.plan.model import Plan
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL, check_safety
from slbsync.ratelimit import AdaptiveRateLimiter
from slbsync.spec.model import Membership, Spec
from slbsync.targets.base import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemediationOptions:
    prune: bool = False
    force: bool = False
    max_removal: float = DEFAULT_MAX_REMOVAL
    rate_limit: float = DEFAULT_RATE_LIMIT
    lock_dir: Path | None = None  # None: the shared rule, lock_dir_for


@dataclass(frozen=True)
class Refusal:
    """Why the safety limits refused a remediation, and what would pass it."""

    reason: str  # the safety check's message
    # Nothing drifted: only discovered groups' members were to follow ECS.
    reconciliation_only: bool
    # The --max-removal that would pass the plan; None when a share cannot.
    max_removal: float | None
    forceable: bool = True  # False: delete protection, which --force cannot pass

    @property
    def way_out(self) -> str:
        """The options that would let it run ("" when none would)."""
        if not self.forceable:
            return ""
        if self.max_removal is None:
            return "--force"
        return f"--max-removal {self.max_removal:g} or --force"


@dataclass
class Remediation:
    """What a remediation did: the plan, the apply report, or why it stopped."""

    plan: Plan
    report: ApplyReport = field(default_factory=ApplyReport)
    refusal: Refusal | None = None

    @property
    def refused(self) -> str | None:
        """The safety check's message, when it refused the plan."""
        return self.refusal.reason if self.refusal is not None else None

    @property
    def writes(self) -> int:
        return len(self.report.results)

    @property
    def failed(self) -> bool:
        return bool(self.refused or self.report.failures or self.report.commit_errors)


def remediation_plan(
    spec: Spec, result: DriftResult, targets: Sequence[Target], *, prune: bool
) -> Plan:
    """The changes that undo ``result``'s drift and follow discovered groups,
    from the live state it read."""
    by_name = {target.name: target for target in targets}
    parts = []
    for part in result.targets:
        target = by_name[part.target]
        if part.live is None or not (part.items or _has_discovered(spec, target)):
            continue
        discover = discovery_for(target)
        comparison = compare(spec, part.live, target, prune=prune, discover=discover)
        if not part.items:
            # Discovered churn is not drift, yet remediating is what follows
            # it: without drift only the discovered members change.
            comparison = _discovered_members_only(comparison, spec, target)
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
        remediation.refusal = Refusal(
            reason=str(err),
            reconciliation_only=not result.items,
            max_removal=_max_removal_passing(plan),
            forceable=not any(p.safety.protected_deletes for p in plan.targets),
        )
        log.warning("drift: remediation refused: %s", err)
        return remediation

    runner = PlanRunner(
        _by_name(targets),
        limiter=AdaptiveRateLimiter(options.rate_limit),
        locks=lock_factory(options.lock_dir),
    )
    remediation.report = runner.run(plan)
    return remediation


def _max_removal_passing(plan: Plan) -> float | None:
    """The smallest --max-removal (in hundredths) under which ``plan`` passes.

    None when a share would not do: a listener delete needs --force, a
    protected delete cannot be forced at all.
    """
    facts = [part.safety for part in plan.targets]
    if any(f.listener_deletes or f.protected_deletes for f in facts):
        return None
    shares = [r.share for f in facts for r in f.server_removals]
    # The limit refuses a share above it, so the share itself, rounded up, passes.
    # round() first: 0.07 * 100 is 7.000000000000001, which must stay 7.
    return math.ceil(round(max(shares, default=0.0) * 100, 6)) / 100


def _discovered_groups(spec: Spec, target: Target) -> set[tuple[str, str]]:
    return {
        (lb.name, group.name)
        for lb in spec.load_balancers_on(target.name)
        for group in lb.server_groups
        if group.membership == Membership.DISCOVERED
    }


def _has_discovered(spec: Spec, target: Target) -> bool:
    return bool(_discovered_groups(spec, target))


def _discovered_members_only(
    comparison: Comparison, spec: Spec, target: Target
) -> Comparison:
    """The server differences of ``discovered`` groups alone."""
    groups = _discovered_groups(spec, target)
    kept = [
        diff
        for diff in comparison.differences
        if diff.kind == ResourceKind.SERVERS
        and (diff.address.load_balancer, diff.address.name.split("/", 1)[0]) in groups
    ]
    return Comparison(kept, comparison.skipped)


def _by_name(targets: Sequence[Target]) -> Mapping[str, Target]:
    return {target.name: target for target in targets}
