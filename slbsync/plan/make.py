"""Make a plan: read each target, compare, turn differences into changes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from slbsync import __version__
from slbsync.diff.changes import Change, ResourceKind
from slbsync.diff.compare import Comparison, Discover, compare
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.diff.order import order_by_dependency
from slbsync.plan.model import Plan, SafetyFacts, ServerRemoval, TargetPlan
from slbsync.spec.model import ServerGroup, Spec
from slbsync.targets.base import LiveLoadBalancer, LiveState, Target

log = logging.getLogger(__name__)

UNEXPECTED = DifferenceStatus.UNEXPECTED
READ_DEADLINE = 120.0  # seconds of retrying a read before giving up


def make_plan(
    spec: Spec,
    targets: Sequence[Target],
    *,
    prune: bool = False,
    discover: Discover | None = None,
    parallelism: int = 4,
) -> Plan:
    """Read every target (concurrently) and plan its changes."""
    workers = max(1, min(parallelism, len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(
            pool.map(
                lambda target: plan_target(
                    spec, target, prune=prune, discover=discover
                ),
                targets,
            )
        )
    return Plan(
        targets=tuple(parts),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        version=__version__,
        prune=prune,
        sources=spec.sources,
        documents=spec_documents(spec),
    )


def spec_documents(spec: Spec) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The spec's raw documents with the file each came from."""
    names = getattr(spec, "document_sources", ()) or ()
    if len(names) != len(spec.documents):
        names = ("<spec>",) * len(spec.documents)
    return tuple(zip(names, spec.documents, strict=True))


def plan_target(
    spec: Spec,
    target: Target,
    *,
    prune: bool = False,
    discover: Discover | None = None,
) -> TargetPlan:
    """One target's part of a plan, from a fresh read of its live state."""
    live = read_with_retries(target, spec)
    if discover is None:
        discover = discovery_for(target)
    comparison = compare(spec, live, target, prune=prune, discover=discover)
    return target_plan_from(target, live, comparison)


def discovery_for(target: Target) -> Discover | None:
    """The target's discovery hook for one plan, None if it cannot discover.

    Discovered groups reconcile with what the target finds now (ECS tags);
    a fresh hook lists afresh.
    """
    hook = getattr(target, "discovery", None)
    return hook() if hook is not None else None


def read_with_retries(
    target: Target,
    spec: Spec,
    *,
    deadline: float = READ_DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
) -> LiveState:
    """Read the live state, reading again after a transient error.

    Reads have no side effects, so a read whose answer was lost is simply
    made again. This retries the whole read; a target that retries its own
    calls one by one makes this a rare fallback.
    """

    def is_retryable(error: BaseException) -> bool:
        return target.is_transient(error) or target.is_outcome_unknown(error)

    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        wait=wait_random_exponential(multiplier=0.5, max=10),
        stop=stop_after_delay(deadline),
        sleep=sleep,
        before_sleep=lambda state: log.info(
            "plan: read again target=%s attempt=%d delay=%.2fs cause=%s",
            target.name,
            state.attempt_number,
            state.upcoming_sleep,
            state.outcome.exception() if state.outcome else "unknown",
        ),
        reraise=True,
    )
    live: LiveState = retrying(target.read_live_state, spec)
    return live


def target_plan_from(
    target: Target, live: LiveState, comparison: Comparison
) -> TargetPlan:
    """Changes for ``comparison``, in dependency order, with safety facts."""
    for warning in comparison.skipped:
        log.warning("plan: %s", warning)
    changes = order_by_dependency(target.changes_for(comparison.differences, live))
    log.info(
        "plan: target=%s differences=%d changes=%d reads=%d",
        target.name,
        len(comparison.differences),
        len(changes),
        live.read_calls,
    )
    return TargetPlan(
        target=target.name,
        facts=tuple(sorted(target.describe().items())),
        changes=tuple(changes),
        reads=live.reads,
        live_fingerprint=live.fingerprint(),
        skipped=tuple(comparison.skipped),
        load_balancer_ids=_load_balancer_ids(changes, live),
        safety=safety_facts(comparison.differences, live),
    )


def _load_balancer_ids(
    changes: Sequence[Change], live: LiveState
) -> tuple[tuple[str, str], ...]:
    touched = {change.address.load_balancer for change in changes}
    return tuple(
        sorted(
            (lb.spec.name, lb.id)
            for lb in live.load_balancers
            if lb.id and lb.spec.name in touched
        )
    )


def safety_facts(differences: Sequence[Difference], live: LiveState) -> SafetyFacts:
    """Which servers, listeners and protected load balancers a plan removes."""
    removed: dict[str, int] = {}
    totals: dict[str, int] = {}
    live_by_name = {lb.spec.name: lb for lb in live.load_balancers}
    listeners: list[str] = []
    protected: list[str] = []

    def remove_group(lb: str, group: ServerGroup) -> None:
        key = f"{lb}/{group.name}"
        removed[key] = len(group.servers)
        totals[key] = len(group.servers)

    for diff in differences:
        lb, kind = diff.address.load_balancer, diff.kind
        if kind == ResourceKind.SERVERS and diff.status == UNEXPECTED:
            group_name = diff.address.name.split("/", 1)[0]
            key = f"{lb}/{group_name}"
            removed[key] = removed.get(key, 0) + 1
            totals[key] = _live_group_size(live_by_name.get(lb), group_name)
        elif kind == ResourceKind.SERVER_GROUP and diff.status == UNEXPECTED:
            remove_group(lb, diff.live)
        elif kind == ResourceKind.LISTENER and (
            diff.status == UNEXPECTED or "protocol" in diff.field_names()
        ):
            listeners.append(f"{lb} {diff.live.label}")
        elif kind == ResourceKind.LOAD_BALANCER and diff.status == UNEXPECTED:
            for group in diff.live.server_groups:
                remove_group(lb, group)
            listeners.extend(f"{lb} {item.label}" for item in diff.live.listeners)
            if diff.live.deletion_protection:
                protected.append(lb)

    removals = tuple(
        ServerRemoval(key, count, totals[key])
        for key, count in sorted(removed.items())
        if count
    )
    return SafetyFacts(removals, tuple(listeners), tuple(protected))


def _live_group_size(live_lb: LiveLoadBalancer | None, group: str) -> int:
    found = live_lb.spec.server_group(group) if live_lb else None
    return len(found.servers) if found else 0
