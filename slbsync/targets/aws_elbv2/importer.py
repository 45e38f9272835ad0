"""Import for aws-elbv2: find load balancers, read them as a spec would say.

``slbsync import --type aws-elbv2`` lists the region's load balancers
(``DescribeLoadBalancers``, 400 a page; ``DescribeTags`` when filtering by
tag), keeps those matching the name globs, tags and ARNs given, and reads
them with the plan's own reader. What the spec cannot say is refused with
the reason, before anything is written.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from slbsync.errors import TargetError
from slbsync.spec import fields as f
from slbsync.spec.model import ForwardingRule, LoadBalancer, Spec
from slbsync.targets.aws_elbv2.client import PAGE_SIZE
from slbsync.targets.aws_elbv2.read import LiveReader
from slbsync.targets.aws_elbv2.rules import hides, unmapped_parts
from slbsync.targets.aws_elbv2.target import AwsElbv2Target
from slbsync.targets.base import OWNER_TAG, LiveLoadBalancer, LiveState

SPEC_NAME = re.compile(f.NAME_PATTERN)
HEALTH_TYPES = ("tcp", "http", "udp")


@dataclass(frozen=True)
class FoundLoadBalancer:
    id: str
    name: str
    owned: bool


def find_load_balancers(
    target: AwsElbv2Target,
    *,
    names: Sequence[str] = (),
    tags: Sequence[tuple[str, str]] = (),
    ids: Sequence[str] = (),
) -> list[FoundLoadBalancer]:
    """Live load balancers matching every filter given (name globs: any)."""
    items = target.client.pages(
        "DescribeLoadBalancers", "LoadBalancers", PageSize=PAGE_SIZE
    )
    if ids:
        items = [item for item in items if item["LoadBalancerArn"] in set(ids)]
        missing = sorted(set(ids) - {item["LoadBalancerArn"] for item in items})
        if missing:
            raise TargetError(
                f"--id {', '.join(missing)}: no such load balancer in this region"
            )
    if names:
        items = [
            item
            for item in items
            if any(fnmatch.fnmatchcase(item["LoadBalancerName"], g) for g in names)
        ]
    reader = LiveReader(target.client, target.name, target.owner)
    found_tags = reader._tags([item["LoadBalancerArn"] for item in items])
    found = []
    for item in items:
        own = found_tags.get(item["LoadBalancerArn"], {})
        if all(own.get(key) == value for key, value in tags):
            found.append(
                FoundLoadBalancer(
                    id=item["LoadBalancerArn"],
                    name=item["LoadBalancerName"],
                    owned=own.get(OWNER_TAG) == target.owner,
                )
            )
    return sorted(found, key=lambda lb: lb.name)


def read_for_import(
    target: AwsElbv2Target, found: Sequence[FoundLoadBalancer], spec: Spec
) -> LiveState:
    """The found load balancers read whole, as a spec would list them."""
    names = {item.name for item in found}
    asked = tuple(LoadBalancer(name=name, target=target.name) for name in sorted(names))
    live = target.read_live_state(replace(spec, load_balancers=asked), every_rule=True)
    return replace(
        live,
        load_balancers=tuple(
            _as_imported(item)
            for item in live.load_balancers
            if item.spec.name in names
        ),
    )


def _as_imported(live: LiveLoadBalancer) -> LiveLoadBalancer:
    # Draining targets are on their way out: the spec lists who serves.
    groups = tuple(
        replace(group, servers=tuple(s for s in group.servers if s.weight > 0))
        for group in live.spec.server_groups
    )
    return replace(live, spec=replace(live.spec, server_groups=groups, adopt=False))


def check_importable(lbs: Sequence[LiveLoadBalancer]) -> None:
    """Refuse what a spec cannot say, naming each case and the way out."""
    problems = []
    for item in lbs:
        lb = item.spec
        if not SPEC_NAME.fullmatch(lb.name):
            problems.append(f"load balancer {lb.name}: not a spec name ({f.NAME_HINT})")
        for group in lb.server_groups:
            if not SPEC_NAME.fullmatch(group.name):
                problems.append(
                    f"{lb.name}: target group {group.name} is not a spec name "
                    f"({f.NAME_HINT}); rename it on AWS"
                )
        for listener in lb.listeners:
            where = f"{lb.name} listener {listener.label}"
            check = listener.health_check
            if check.type not in HEALTH_TYPES:
                problems.append(
                    f"{where}: its target group's {check.type} health check has no "
                    "spec equivalent; switch it to HTTP or TCP"
                )
            problems.extend(_rule_problems(where, listener.rules))
            drain = listener.connection_drain
            if drain is not None and not 10 <= drain <= 900:
                problems.append(
                    f"{where}: a deregistration delay of {drain}s is outside the "
                    "spec's connection_drain range (10s to 900s); change it on AWS"
                )
    if problems:
        listed = "\n  ".join(problems)
        raise TargetError(
            f"these load balancers cannot be imported as they are:\n  {listed}"
        )


def _rule_problems(where: str, rules: Sequence[ForwardingRule]) -> list[str]:
    problems = []
    for index, rule in enumerate(rules):
        at = f"{where} rule {rule.name}"
        if not SPEC_NAME.fullmatch(rule.name):
            problems.append(
                f"{at}: its slbsync-rule tag is not a spec name ({f.NAME_HINT}); "
                "retag it on AWS"
            )
        for part in unmapped_parts(rule):
            problems.append(
                f"{at}: {part} has no spec equivalent (one host-header, one "
                "path-pattern ending in *, a forward to one target group); change "
                "it on AWS"
            )
        earlier = next((x for x in rules[:index] if hides(x, rule)), None)
        if earlier is not None:
            problems.append(
                f"{at}: {earlier.name} has the lower priority and hides this more "
                "specific rule, which nginx and HAProxy would pick; give this rule "
                "the lower priority on AWS"
            )
    return problems
