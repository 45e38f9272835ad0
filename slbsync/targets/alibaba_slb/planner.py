"""Turn one plan's differences into SLB changes (``Target.changes_for``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slbsync.diff.changes import Change, ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.errors import PlanError
from slbsync.spec.model import Protocol
from slbsync.targets.alibaba_slb.changes import (
    MISSING,
    UNEXPECTED,
    PlanContext,
    acl_changes,
    certificate_changes,
    load_balancer_changes,
    old_upload_changes,
)
from slbsync.targets.alibaba_slb.changes_children import (
    SERVERS_PER_CALL,
    group_changes,
    listener_changes,
    replaced_rules,
    repoint_listener,
    rule_changes,
    rule_label,
    server_changes,
)
from slbsync.targets.alibaba_slb.refs import PlanRefs
from slbsync.targets.base import LiveState

ByKind = dict[ResourceKind, list[Difference]]
Keep = Callable[[Difference], bool]


def build_changes(
    differences: Sequence[Difference],
    live: LiveState,
    *,
    target: str,
    owner: str,
    region: str,
) -> list[Change]:
    """Changes for ``differences``; a ``PlanError`` lists what SLB cannot do."""
    ctx = PlanContext(target, owner, region, live, PlanRefs(live, differences))
    by_kind: ByKind = {}
    for diff in differences:
        by_kind.setdefault(diff.kind, []).append(diff)
    gone_lbs = {
        d.address.load_balancer
        for d in by_kind.get(ResourceKind.LOAD_BALANCER, [])
        if d.status == UNEXPECTED
    }
    ctx.kept_unnamed = tuple(
        lb
        for lb in live.load_balancers
        if lb.owned and not lb.children_read and lb.spec.name not in gone_lbs
    )

    steps: list[Change] = []
    for diff in by_kind.get(ResourceKind.LOAD_BALANCER, []):
        steps += load_balancer_changes(ctx, diff)
    modified_certs: set[str] = set()
    for diff in by_kind.get(ResourceKind.CERTIFICATE, []):
        steps += certificate_changes(ctx, diff)
        if diff.status == DifferenceStatus.MODIFIED:
            modified_certs.add(diff.address.name)
    steps += old_upload_changes(ctx)
    for diff in by_kind.get(ResourceKind.ACL, []):
        steps += acl_changes(ctx, diff)

    def keep(diff: Difference) -> bool:
        # A deleted load balancer takes its listeners and groups along.
        return diff.address.load_balancer not in gone_lbs

    steps += _groups_and_servers(ctx, by_kind, keep)
    listener_steps, replaced = _listeners(ctx, by_kind, keep, frozenset(modified_certs))
    steps += listener_steps
    steps += _rules(ctx, by_kind, keep, replaced)
    if ctx.refusals:
        problems = "\n  ".join(ctx.refusals)
        raise PlanError(
            f"target {target}: the plan asks for what SLB cannot do:\n  {problems}"
        )
    return steps


def _groups_and_servers(ctx: PlanContext, by_kind: ByKind, keep: Keep) -> list[Change]:
    groups = {
        (d.address.load_balancer, d.address.name): d
        for d in by_kind.get(ResourceKind.SERVER_GROUP, [])
        if keep(d)
    }
    servers: dict[tuple[str, str], list[Difference]] = {}
    for diff in by_kind.get(ResourceKind.SERVERS, []):
        if keep(diff):
            group = diff.address.name.split("/", 1)[0]
            servers.setdefault((diff.address.load_balancer, group), []).append(diff)

    steps: list[Change] = []
    for key in sorted(groups.keys() | servers.keys()):
        group_diff = groups.get(key)
        members = servers.get(key, [])
        if group_diff is not None and group_diff.status == UNEXPECTED:
            steps += group_changes(ctx, group_diff, ())
            continue  # its members go with it
        folded = 0
        if group_diff is not None and group_diff.status == MISSING:
            # CreateVServerGroup takes the first 20 members itself.
            first = [d.desired for d in members if d.status == MISSING]
            folded = min(len(first), SERVERS_PER_CALL)
            steps += group_changes(ctx, group_diff, first[:folded])
        elif group_diff is not None:
            steps += group_changes(ctx, group_diff, ())
        if members:
            steps += server_changes(ctx, key[0], key[1], members, folded)
    return steps


def _listeners(
    ctx: PlanContext, by_kind: ByKind, keep: Keep, repoint: frozenset[str]
) -> tuple[list[Change], set[tuple[str, str]]]:
    steps: list[Change] = []
    replaced: set[tuple[str, str]] = set()
    touched: set[tuple[str, str]] = set()
    # An HTTP listener that redirects needs its HTTPS listener to exist.
    ordered = sorted(
        by_kind.get(ResourceKind.LISTENER, []),
        key=lambda d: d.desired is not None and d.desired.redirect_to_port is not None,
    )
    for diff in ordered:
        if not keep(diff):
            continue
        lb = diff.address.load_balancer
        touched.add((lb, diff.address.name))
        if diff.live is not None:
            # Replaced by another protocol on its port: the old listener is
            # deleted, so it must not be moved to a new certificate upload.
            touched.add((lb, diff.live.label))
        listener_steps, is_replaced = listener_changes(ctx, diff, repoint)
        steps += listener_steps
        if is_replaced and diff.live is not None and diff.live.key == diff.desired.key:
            # Same protocol and port, rebuilt: its rules went with the old one.
            replaced.add((lb, diff.address.name))
            steps += replaced_rules(ctx, lb, diff.desired)
    for live_lb in ctx.live.load_balancers:
        if not live_lb.owned and not live_lb.spec.adopt:
            continue
        for listener in live_lb.spec.listeners:
            uses = {listener.certificate, listener.ca_certificate} & repoint
            key = (live_lb.spec.name, listener.label)
            if uses and listener.protocol == Protocol.HTTPS and key not in touched:
                live_id = live_lb.id_of(f"listener:{listener.label}")
                steps.append(repoint_listener(ctx, key[0], listener, live_id))
    return steps, replaced


def _rules(
    ctx: PlanContext, by_kind: ByKind, keep: Keep, replaced: set[tuple[str, str]]
) -> list[Change]:
    gone_listeners = {
        (d.address.load_balancer, d.address.name)
        for d in by_kind.get(ResourceKind.LISTENER, [])
        if d.status == UNEXPECTED
    }
    per_listener: dict[tuple[str, str], list[Difference]] = {}
    for diff in by_kind.get(ResourceKind.RULE, []):
        if not keep(diff):
            continue
        label, _ = rule_label(diff.address.name)
        key = (diff.address.load_balancer, label)
        if key in replaced:
            continue  # created again with the replaced listener
        if diff.status == UNEXPECTED and key in gone_listeners:
            continue  # deleted with its listener
        per_listener.setdefault(key, []).append(diff)
    steps: list[Change] = []
    for (lb, label), diffs in sorted(per_listener.items()):
        steps += rule_changes(ctx, lb, label, diffs)
    return steps
