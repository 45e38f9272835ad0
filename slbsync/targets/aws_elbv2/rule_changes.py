"""Listener rule differences to ELBv2 calls, one listener at a time.

Per listener, in this order: ``AddTags`` naming untagged live rules about to
move (their name would follow their priority otherwise), one
``SetRulePriorities`` for every live rule that moves, ``ModifyRule`` for a
rule whose host, path or group changed, ``CreateRule`` for a new one (its
priority in the call), and ``DeleteRule`` for an owned rule the spec no
longer has, with ``--prune`` (a rule slbsync did not make is left alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    ResourceKind,
)
from slbsync.diff.changes import (
    call_change as change,
)
from slbsync.diff.differences import RULE_POSITION, Difference, DifferenceStatus
from slbsync.spec.model import ForwardingRule, Listener
from slbsync.targets.aws_elbv2.calls import ref
from slbsync.targets.aws_elbv2.names import RULE_TAG, owned_tags, tag_list
from slbsync.targets.aws_elbv2.read import Catalogue
from slbsync.targets.aws_elbv2.rules import (
    RuleFacts,
    assign_priorities,
    conditions_of,
)

MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED


@dataclass
class RulePlanner:
    """The rule changes of one plan for one target."""

    target: str
    owner: str
    catalogue: Catalogue
    refusals: list[str] = field(default_factory=list)

    def build(self, differences: Sequence[Difference], gone: set[str]) -> list[Change]:
        per_listener: dict[tuple[str, str], dict[str, Difference]] = {}
        for diff in differences:
            label, _, name = diff.address.name.rpartition("/")
            key = (diff.address.load_balancer, label)
            per_listener.setdefault(key, {})[name] = diff
        # A reorder also comes as position differences (diff.compare); every
        # listener with rules is planned so the numbers follow the spec's
        # order whatever the differences name.
        for desired in self.catalogue.desired.values():
            for listener in desired.listeners:
                if listener.rules:
                    per_listener.setdefault((desired.name, listener.label), {})
        steps: list[Change] = []
        for (lb, label), diffs in sorted(per_listener.items()):
            if lb not in gone:
                steps += self._listener(lb, label, diffs)
        return steps

    # -- one listener --

    def _listener(
        self, lb: str, label: str, diffs: dict[str, Difference]
    ) -> list[Change]:
        wanted = self._wanted(lb, label)
        if self._protocol_changes(lb, label):
            self.refusals.append(
                f"{self._address(lb, label, '*')}: the listener changes protocol and "
                "has rules on AWS, which it keeps; slbsync cannot match them to the "
                "spec's yet: remove the rules (apply with --prune), change the "
                "protocol, then add them back"
            )
            return []
        live = {
            facts.name: facts for facts in self.catalogue.rules.get((lb, label), [])
        }
        priorities, moving = _priorities(wanted, live)
        steps = [
            self._name_tag(lb, label, facts) for facts in moving if not facts.named
        ]
        if moving:
            steps.append(self._set_priorities(lb, label, moving, priorities))
        for rule in wanted:
            diff = diffs.get(rule.name)
            if diff is None:
                continue
            if diff.status == MODIFIED and _rule_fields(diff):
                steps.append(self._modify(lb, label, rule, diff))
            elif diff.status == MISSING:
                steps.append(self._create(lb, label, rule, priorities[rule.name], diff))
        for name, diff in sorted(diffs.items()):
            if diff.status == UNEXPECTED and name in live and live[name].owned:
                steps.append(self._delete(lb, label, live[name], diff))
        return steps

    def _protocol_changes(self, lb: str, label: str) -> bool:
        """Live rules on this port under another protocol: ModifyListener keeps them."""
        if (lb, label) in self.catalogue.rules:
            return False
        port = label.partition("/")[2]
        return any(
            facts
            for (other_lb, other), facts in self.catalogue.rules.items()
            if other_lb == lb and other.partition("/")[2] == port
        )

    def _wanted(self, lb: str, label: str) -> tuple[ForwardingRule, ...]:
        desired = self.catalogue.desired.get(lb)
        listener: Listener | None = None
        if desired is not None:
            listener = next((x for x in desired.listeners if x.label == label), None)
        return listener.rules if listener is not None else ()

    def _address(self, lb: str, label: str, name: str) -> ResourceAddress:
        return ResourceAddress(self.target, lb, ResourceKind.RULE, f"{label}/{name}")

    def _listener_arn(self, lb: str, label: str) -> Any:
        return self.catalogue.listeners.get((lb, label)) or ref("listener", lb, label)

    def _group_arn(self, lb: str, group: str) -> Any:
        facts = self.catalogue.groups.get((lb, group))
        return facts.arn if facts else ref("group", lb, group)

    def _actions(self, lb: str, rule: ForwardingRule) -> list[dict[str, Any]]:
        return [
            {
                "Type": "forward",
                "TargetGroupArn": self._group_arn(lb, rule.server_group),
            }
        ]

    # -- the calls --

    def _name_tag(self, lb: str, label: str, facts: RuleFacts) -> Change:
        return change(
            ChangeOp.UPDATE,
            self._address(lb, label, facts.name),
            "AddTags",
            {"ResourceArns": [facts.arn], "Tags": tag_list([(RULE_TAG, facts.name)])},
            fields=[FieldChange("name tag", None, facts.name)],
            live_id=facts.arn,
            lb=lb,
            listener=label,
            note="keeps the rule's name when its priority changes",
        )

    def _set_priorities(
        self,
        lb: str,
        label: str,
        moving: Sequence[RuleFacts],
        priorities: dict[str, int],
    ) -> Change:
        return change(
            ChangeOp.UPDATE,
            self._address(lb, label, "(order)"),
            "SetRulePriorities",
            {
                "RulePriorities": [
                    {"RuleArn": facts.arn, "Priority": priorities[facts.name]}
                    for facts in moving
                ]
            },
            fields=[
                FieldChange(f"{f.name}.priority", f.priority, priorities[f.name])
                for f in moving
            ],
            lb=lb,
            listener=label,
            note="the spec's order of rules",
        )

    def _modify(
        self, lb: str, label: str, rule: ForwardingRule, diff: Difference
    ) -> Change:
        return change(
            ChangeOp.UPDATE,
            diff.address,
            "ModifyRule",
            {
                "RuleArn": diff.live_id,
                "Conditions": conditions_of(rule),
                "Actions": self._actions(lb, rule),
            },
            fields=_rule_fields(diff),
            live_id=diff.live_id,
            lb=lb,
            listener=label,
        )

    def _create(
        self,
        lb: str,
        label: str,
        rule: ForwardingRule,
        priority: int,
        diff: Difference,
    ) -> Change:
        tags = owned_tags(self.owner, ((RULE_TAG, rule.name),))
        return change(
            ChangeOp.CREATE,
            diff.address,
            "CreateRule",
            {
                "ListenerArn": self._listener_arn(lb, label),
                "Conditions": conditions_of(rule),
                "Priority": priority,
                "Actions": self._actions(lb, rule),
                "Tags": tags,
            },
            fields=[
                FieldChange(key, None, value)
                for key, value in (
                    ("domain", rule.domain),
                    ("url", rule.url),
                    ("server_group", rule.server_group),
                    ("priority", priority),
                )
                if value is not None
            ],
            lb=lb,
            listener=label,
            rule=rule.name,
            note="tagged as owned in the create call",
        )

    def _delete(
        self, lb: str, label: str, facts: RuleFacts, diff: Difference
    ) -> Change:
        return change(
            ChangeOp.DELETE,
            diff.address,
            "DeleteRule",
            {"RuleArn": facts.arn},
            fields=[FieldChange("priority", facts.priority, None)],
            live_id=facts.arn,
            lb=lb,
            listener=label,
        )


def _rule_fields(diff: Difference) -> tuple[FieldChange, ...]:
    """What ModifyRule changes: a ``position`` is SetRulePriorities' to put back."""
    return tuple(f for f in diff.fields if f.field != RULE_POSITION)


def _priorities(
    wanted: Sequence[ForwardingRule], live: dict[str, RuleFacts]
) -> tuple[dict[str, int], list[RuleFacts]]:
    """Each wanted rule's priority, and the live rules that move to theirs."""
    names = [rule.name for rule in wanted]
    # The listener's other rules keep their numbers until deleted, if ever.
    held = {facts.priority for name, facts in live.items() if name not in names}
    current = {name: live[name].priority for name in names if name in live}
    priorities = assign_priorities(names, current, held)
    moving = [live[n] for n in current if current[n] != priorities[n]]
    return priorities, moving
