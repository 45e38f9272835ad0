"""Forwarding rules on application load balancer listeners.

A spec rule ``{name, domain, url, server_group}`` is an ALB listener rule:

- ``domain`` is a ``host-header`` condition with that one value. An exact
  name matches that host (AWS compares it without case, as nginx and SLB
  do); ``*.example.com`` matches any host ending in ``.example.com``, at
  any depth, as nginx's ``server_name`` and HAProxy's ``-m end`` do.
- ``url`` is a path prefix in the spec (nginx ``location /api``, HAProxy
  ``path_beg``, SLB's Url), so it is the ``path-pattern`` ``<url>*``. AWS
  compares paths with case, like the others. ``*`` and ``?`` are AWS
  wildcards, so the validator refuses them in a url.
- the action forwards to the rule's target group.
- the rule's name is the ``slbsync-rule`` tag (ELBv2 rules have no name);
  a rule without it reads as ``rule-<priority>``.

AWS takes the first rule by priority that matches; the spec's order is that
order (the validator refuses an order in which an earlier rule hides a more
specific later one, where nginx and HAProxy would pick the later). See
``assign_priorities`` for how numbers follow the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slbsync.spec.model import ForwardingRule

PRIORITY_STEP = 10
MAX_PRIORITY = 50000
MAX_PATTERN = 128  # characters of a host-header or path-pattern value
UNMAPPED = "aws:"
"""Prefix of a live rule's value that the spec cannot say (drift shows it)."""


@dataclass(frozen=True)
class RuleFacts:
    """What the planner needs of one live listener rule."""

    arn: str
    name: str
    priority: int
    named: bool  # carries the slbsync-rule tag
    owned: bool


def conditions_of(rule: ForwardingRule) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = []
    if rule.domain:
        conditions.append(
            {"Field": "host-header", "HostHeaderConfig": {"Values": [rule.domain]}}
        )
    if rule.url:
        conditions.append(
            {"Field": "path-pattern", "PathPatternConfig": {"Values": [f"{rule.url}*"]}}
        )
    return conditions


def rule_from(
    raw: dict[str, Any], name: str, group_names: Mapping[str, str]
) -> ForwardingRule:
    """A live rule as the spec would say it; what it cannot say starts ``aws:``."""
    domain: str | None = None
    url: str | None = None
    others = []
    for condition in raw.get("Conditions", []):
        field = condition.get("Field", "")
        values = _values(condition)
        if field == "host-header" and len(values) == 1 and domain is None:
            domain = values[0]
        elif field == "path-pattern" and len(values) == 1 and url is None:
            url = _prefix(values[0])
        else:
            others.append(f"{field}={','.join(values)}")
    if others:
        # A condition the spec has no word for: shown, never equal to a spec url.
        url = f"{UNMAPPED}{'; '.join(others)}" + (f"; url={url}" if url else "")
    return ForwardingRule(
        name=name,
        server_group=_group_of(raw.get("Actions", []), group_names),
        domain=domain,
        url=url,
    )


def unmapped_parts(rule: ForwardingRule) -> list[str]:
    """The parts of a live rule that no spec rule can say."""
    return [
        f"{field} {value[len(UNMAPPED) :]}"
        for field, value in (
            ("server_group", rule.server_group),
            ("domain", rule.domain),
            ("conditions", rule.url),
        )
        if value and value.startswith(UNMAPPED)
    ]


def _values(condition: dict[str, Any]) -> list[str]:
    for key in ("HostHeaderConfig", "PathPatternConfig"):
        if key in condition:
            return [str(v) for v in condition[key].get("Values", [])]
    return [str(v) for v in condition.get("Values", [])]


def _prefix(pattern: str) -> str:
    """``/api*`` is the prefix ``/api``; any other pattern is not a prefix."""
    stem = pattern[:-1]
    if pattern.endswith("*") and stem.startswith("/") and not set("*?") & set(stem):
        return stem
    return f"{UNMAPPED}path-pattern={pattern}"


def _group_of(actions: Sequence[dict[str, Any]], group_names: Mapping[str, str]) -> str:
    forwards = [a for a in actions if a.get("Type") == "forward"]
    groups = [
        g["TargetGroupArn"]
        for a in forwards
        for g in (
            [{"TargetGroupArn": a["TargetGroupArn"]}]
            if a.get("TargetGroupArn")
            else a.get("ForwardConfig", {}).get("TargetGroups", [])
        )
    ]
    if len(actions) == 1 and len(groups) == 1 and groups[0] in group_names:
        return group_names[groups[0]]
    kinds = ",".join(str(a.get("Type")) for a in actions)
    return f"{UNMAPPED}actions={kinds} to {','.join(groups) or 'no target group'}"


def assign_priorities(
    wanted: Sequence[str], live: Mapping[str, int], held: set[int]
) -> dict[str, int]:
    """Each wanted rule's priority: the spec's order, moving as few as possible.

    ``live`` is the priority of wanted rules that exist; ``held`` those of
    the listener's other rules. Live rules already in the spec's order keep
    their numbers and a new rule takes a free number between its neighbours
    (a multiple of ten where one is free, else the middle). When that cannot
    be, every rule is numbered afresh by tens above the listener's highest
    priority, so no new number is in use while the rules move (moto refuses
    that; AWS needs the new order free of clashes).
    """
    kept = _keep_order(wanted, live, held)
    if kept is not None:
        return kept
    top = max([*live.values(), *held], default=0)
    base = top + PRIORITY_STEP - top % PRIORITY_STEP
    fresh = {name: base + PRIORITY_STEP * i for i, name in enumerate(wanted)}
    if fresh and max(fresh.values()) > MAX_PRIORITY:
        # Counting down from the top cannot work either: start from the bottom.
        fresh = _lowest_free(wanted, held | set(live.values()))
    return fresh


def _keep_order(
    wanted: Sequence[str], live: Mapping[str, int], held: set[int]
) -> dict[str, int] | None:
    result: dict[str, int] = {}
    previous = 0
    for index, name in enumerate(wanted):
        if name in live:
            if live[name] <= previous:
                return None
            previous = result[name] = live[name]
            continue
        upper = next(
            (live[later] for later in wanted[index + 1 :] if later in live),
            MAX_PRIORITY + 1,
        )
        slot = _free_between(previous, upper, held)
        if slot is None:
            return None
        previous = result[name] = slot
    return result


def _free_between(low: int, high: int, held: set[int]) -> int | None:
    first_step = low + PRIORITY_STEP - low % PRIORITY_STEP
    stepped = (p for p in range(first_step, high, PRIORITY_STEP) if p not in held)
    found = next(stepped, None)
    middle = (low + high) // 2  # leaves room for the next rule on either side
    if found is None and low < middle < high and middle not in held:
        found = middle
    if found is None:
        found = next((p for p in range(low + 1, high) if p not in held), None)
    return found


def _lowest_free(wanted: Sequence[str], taken: set[int]) -> dict[str, int]:
    free = (p for p in range(1, MAX_PRIORITY + 1) if p not in taken)
    return {name: next(free) for name in wanted}


def hides(earlier: ForwardingRule, later: ForwardingRule) -> bool:
    """Whether ``earlier`` takes requests nginx and HAProxy would give ``later``.

    They pick the most specific rule: an exact host before a wildcard (the
    longer first), a host before none, then the longest path prefix. AWS
    picks the first by priority, so a more specific rule must come first.
    """
    overlap = _domains_overlap(earlier.domain, later.domain) and _urls_overlap(
        earlier.url, later.url
    )
    return overlap and _specificity(later) > _specificity(earlier)


def _specificity(rule: ForwardingRule) -> tuple[int, int, int]:
    url = len(rule.url or "")
    if rule.domain is None:
        return (0, 0, url)
    if rule.domain.startswith("*."):
        return (1, len(rule.domain), url)
    return (2, len(rule.domain), url)


def _domains_overlap(one: str | None, other: str | None) -> bool:
    if one is None or other is None:
        return True
    one, other = one.lower(), other.lower()
    if one.startswith("*.") and other.startswith("*."):
        return one.endswith(other[1:]) or other.endswith(one[1:])
    if one.startswith("*."):
        return other.endswith(one[1:])
    if other.startswith("*."):
        return one.endswith(other[1:])
    return one == other


def _urls_overlap(one: str | None, other: str | None) -> bool:
    if one is None or other is None:
        return True
    return one.startswith(other) or other.startswith(one)
