"""Forwarding rules on ALB listeners against moto's mock_aws.

moto models rules, their conditions, actions, priorities and tags. It does
not check a host-header or path-pattern value's characters (AWS does), nor
the 100-rules quota, and its SetRulePriorities refuses any priority held at
the time of the call, even by a rule the same call moves (so slbsync moves
rules to numbers no rule holds, which AWS accepts too).
"""

from __future__ import annotations

from typing import Any

import pytest

from slbsync.diff.changes import FieldChange
from slbsync.diff.compare import compare
from slbsync.errors import PlanError, SlbsyncError
from slbsync.importer.run import ImportFilters, import_spec
from slbsync.targets.aws_elbv2.rules import assign_priorities, rule_from, unmapped_parts
from slbsync.targets.aws_elbv2.target import AwsElbv2Target
from tests.targets.aws_elbv2.conftest import (
    Vpc,
    actions,
    apply_all,
    converge,
    load_spec_text,
    plan,
    spec_yaml,
)

API = "{name: api, url: /api, server_group: api}"
ADMIN = "{name: admin, domain: admin.example.com, server_group: admin}"
CERTIFICATE = "certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc"
WILD = "{name: wild, domain: '*.example.com', url: /chat, server_group: api}"


def rules_spec(
    aws: Vpc, rules: str, *, kind: str = "application", protocol: str = "http"
) -> str:
    certificate = CERTIFICATE if protocol == "https" else ""
    return spec_yaml(
        f"""
        load_balancers:
          chat:
            target: aws
            type: {kind}
            subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
            server_groups:
              web:
                servers: [{{id: {aws.instances[0]}, port: 8080}}]
              api:
                servers: [{{id: {aws.instances[1]}, port: 8080}}]
              admin:
                servers: [{{id: {aws.instances[2]}, port: 8080}}]
            listeners:
              - protocol: {protocol}
                port: 80
                server_group: web
                health_check: {{interval: 10s}}
                {certificate}
                rules: [{rules}]
        """
    )


def live_rules(aws: Vpc) -> list[dict[str, Any]]:
    """The listener's rules by priority, the default one left out."""
    lb = aws.elbv2.describe_load_balancers(Names=["chat"])["LoadBalancers"][0]
    (listener,) = aws.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ]
    found = aws.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    rules = [rule for rule in found if not rule["IsDefault"]]
    return sorted(rules, key=lambda rule: int(rule["Priority"]))


def rule_name(aws: Vpc, rule: dict[str, Any]) -> str:
    tags = aws.elbv2.describe_tags(ResourceArns=[rule["RuleArn"]])
    pairs = {t["Key"]: t["Value"] for t in tags["TagDescriptions"][0]["Tags"]}
    return pairs.get("slbsync-rule", "")


def conditions(rule: dict[str, Any]) -> dict[str, list[str]]:
    found = {}
    for item in rule["Conditions"]:
        config = item.get("HostHeaderConfig") or item.get("PathPatternConfig") or {}
        found[item["Field"]] = config.get("Values") or item.get("Values")
    return found


def group_arn(aws: Vpc, name: str) -> str:
    found = aws.elbv2.describe_target_groups(Names=[name])["TargetGroups"]
    return str(found[0]["TargetGroupArn"])


def test_rules_are_created_in_spec_order_and_plan_clean(aws, target):
    spec = load_spec_text(rules_spec(aws, f"{ADMIN}, {API}"))

    changes = converge(target, spec)

    assert actions(changes).count("CreateRule") == 2
    rules = live_rules(aws)
    assert [rule_name(aws, r) for r in rules] == ["admin", "api"]
    assert [r["Priority"] for r in rules] == ["10", "20"]
    assert conditions(rules[0]) == {"host-header": ["admin.example.com"]}
    assert conditions(rules[1]) == {"path-pattern": ["/api*"]}
    assert rules[1]["Actions"][0]["TargetGroupArn"] == group_arn(aws, "chat-api")


def test_wildcard_domain_and_url_prefix_become_both_conditions(aws, target):
    converge(target, load_spec_text(rules_spec(aws, WILD)))

    (rule,) = live_rules(aws)
    assert conditions(rule) == {
        "host-header": ["*.example.com"],
        "path-pattern": ["/chat*"],
    }


def test_changed_rule_is_one_modify_rule(aws, target):
    converge(target, load_spec_text(rules_spec(aws, f"{ADMIN}, {API}")))
    moved = "{name: api, url: /v2, server_group: admin}"

    changes = converge(target, load_spec_text(rules_spec(aws, f"{ADMIN}, {moved}")))

    assert actions(changes) == ["ModifyRule"]
    api = live_rules(aws)[1]
    assert conditions(api) == {"path-pattern": ["/v2*"]}
    assert api["Actions"][0]["TargetGroupArn"] == group_arn(aws, "chat-admin")


def test_reorder_is_one_set_rule_priorities(aws, target):
    one = "{name: one, url: /one, server_group: api}"
    two = "{name: two, url: /two, server_group: admin}"
    converge(target, load_spec_text(rules_spec(aws, f"{one}, {two}")))

    changes = converge(target, load_spec_text(rules_spec(aws, f"{two}, {one}")))

    assert actions(changes) == ["SetRulePriorities"]
    assert [rule_name(aws, r) for r in live_rules(aws)] == ["two", "one"]
    assert [r["Priority"] for r in live_rules(aws)] == ["30", "40"]


def test_new_rule_between_two_takes_a_free_priority(aws, target):
    one = "{name: one, url: /one, server_group: api}"
    two = "{name: two, url: /two, server_group: admin}"
    converge(target, load_spec_text(rules_spec(aws, f"{one}, {two}")))

    changes = converge(target, load_spec_text(rules_spec(aws, f"{one}, {API}, {two}")))

    assert actions(changes) == ["CreateRule"]
    assert [(rule_name(aws, r), r["Priority"]) for r in live_rules(aws)] == [
        ("one", "10"),
        ("api", "15"),
        ("two", "20"),
    ]


def test_removed_rule_is_deleted_with_prune_only(aws, target):
    converge(target, load_spec_text(rules_spec(aws, f"{ADMIN}, {API}")))
    fewer = load_spec_text(rules_spec(aws, ADMIN))

    _, without_prune = plan(target, fewer)
    changes = converge(target, fewer, prune=True)

    assert without_prune == []
    assert actions(changes) == ["DeleteRule"]
    assert [rule_name(aws, r) for r in live_rules(aws)] == ["admin"]


def test_hand_added_rule_is_unexpected_and_never_deleted(aws, target):
    spec = load_spec_text(rules_spec(aws, API))
    converge(target, spec)
    listener = live_rules(aws)[0]["RuleArn"].replace(":listener-rule/", ":listener/")
    aws.elbv2.create_rule(
        ListenerArn=listener.rsplit("/", 1)[0],
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/hand*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": group_arn(aws, "chat-web")}],
    )

    live = target.read_live_state(spec)
    _, changes = plan(target, spec, prune=True)

    (listener_state,) = live.load_balancers[0].spec.listeners
    assert [r.name for r in listener_state.rules] == ["rule-5", "api"]
    assert listener_state.rules[0].url == "/hand"
    assert "DeleteRule" not in actions(changes)


def test_rules_are_read_with_one_describe_rules_per_listener(aws, target):
    spec = load_spec_text(rules_spec(aws, f"{ADMIN}, {API}"))
    converge(target, spec)

    live = target.read_live_state(spec)

    reads = dict(live.reads)
    assert reads["DescribeRules"] == 1
    assert reads["DescribeTags"] == 1  # the two rules' names in one call


def test_rules_on_network_load_balancer_are_refused(aws, target):
    # tcp listeners take no rules in any spec; an http one on an NLB is refused
    # for its protocol and, here, for its rules.
    with pytest.raises(SlbsyncError) as caught:
        load_spec_text(rules_spec(aws, API, kind="network"))

    assert (
        "listeners[0].rules: a network load balancer forwards by port only and has "
        "no forwarding rules; set type: application on the load balancer or remove "
        "rules"
    ) in str(caught.value)


def refusal(text: str) -> str:
    with pytest.raises(SlbsyncError) as caught:
        load_spec_text(text)
    return str(caught.value)


def test_url_with_aws_wildcard_is_refused(aws):
    rule = "{name: api, url: /a*b, server_group: api}"

    message = refusal(rules_spec(aws, rule))

    assert (
        'rules[0].url: "/a*b" is not a path prefix aws-elbv2 can match: start it '
        "with /, at most 127 characters, no * or ? (AWS wildcards) and no spaces"
    ) in message


def test_broader_rule_first_is_refused(aws):
    broad = "{name: all, domain: '*.example.com', server_group: admin}"
    exact = "{name: chat, domain: chat.example.com, server_group: api}"

    message = refusal(rules_spec(aws, f"{broad}, {API}, {exact}"))

    assert (
        "listeners[0].rules[2]: rules[0] (all) comes first and takes requests that "
        "chat, being more specific, gets on the other targets; AWS takes rules in "
        "the spec's order: put chat before all"
    ) in message
    assert "rules[1]" not in message  # a url-only rule is less specific than all


def test_import_brings_rules_back_and_plans_clean(aws, target, tmp_path):
    converge(target, load_spec_text(rules_spec(aws, f"{ADMIN}, {WILD}")))

    result = import_spec(
        target.spec, ImportFilters(names=("chat",)), lock_dir=tmp_path / "locks"
    )

    assert "admin.example.com" in result.text
    assert "'*.example.com'" in result.text or '"*.example.com"' in result.text
    spec = load_spec_text(result.text, tmp_path)
    (listener,) = spec.load_balancers[0].listeners
    assert [rule.name for rule in listener.rules] == ["admin", "wild"]
    _, changes = plan(target, spec)
    assert changes == []


def test_import_refuses_rule_the_spec_cannot_say(aws, target, tmp_path):
    converge(target, load_spec_text(rules_spec(aws, API)))
    (rule,) = live_rules(aws)
    aws.elbv2.modify_rule(
        RuleArn=rule["RuleArn"],
        Conditions=[{"Field": "path-pattern", "Values": ["/exact"]}],
    )

    with pytest.raises(SlbsyncError) as caught:
        import_spec(
            target.spec, ImportFilters(names=("chat",)), lock_dir=tmp_path / "locks"
        )

    assert "rule api: conditions path-pattern=/exact has no spec equivalent" in str(
        caught.value
    )


def test_hand_modified_rule_plans_a_modify_back(aws, target):
    spec = load_spec_text(rules_spec(aws, API))
    converge(target, spec)
    (rule,) = live_rules(aws)
    aws.elbv2.modify_rule(
        RuleArn=rule["RuleArn"],
        Conditions=[{"Field": "path-pattern", "Values": ["/exact"]}],
    )

    _, changes = plan(target, spec)
    apply_all(target, changes)

    assert actions(changes) == ["ModifyRule"]
    assert conditions(live_rules(aws)[0]) == {"path-pattern": ["/api*"]}


def swap_by_hand(aws: Vpc, first: dict[str, Any], second: dict[str, Any]) -> None:
    """Swap two rules' priorities as a console user would, one rule at a time
    (moto refuses a priority held when the call starts, so via a spare one)."""
    spare = max(int(rule["Priority"]) for rule in live_rules(aws)) + 1
    moves = [
        (first, spare),
        (second, int(first["Priority"])),
        (first, int(second["Priority"])),
    ]
    for rule, priority in moves:
        aws.elbv2.set_rule_priorities(
            RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": priority}]
        )


def test_hand_swapped_rules_are_modified_positions(aws, target):
    spec = load_spec_text(rules_spec(aws, f"{ADMIN}, {API}"))
    converge(target, spec)
    swap_by_hand(aws, *live_rules(aws))
    assert [rule_name(aws, r) for r in live_rules(aws)] == ["api", "admin"]

    live = target.read_live_state(spec)
    found = compare(spec, live, target).differences

    assert [(str(d.status), d.address.name, d.fields) for d in found] == [
        ("modified", "http/80/admin", (FieldChange("position", 2, 1),)),
        ("modified", "http/80/api", (FieldChange("position", 1, 2),)),
    ]


def test_hand_swapped_rules_plan_one_set_rule_priorities_back(aws, target):
    spec = load_spec_text(rules_spec(aws, f"{ADMIN}, {API}"))
    converge(target, spec)
    swap_by_hand(aws, *live_rules(aws))

    changes = converge(target, spec)

    # The position differences move rules; no ModifyRule rewrites them.
    assert actions(changes) == ["SetRulePriorities"]
    assert [rule_name(aws, r) for r in live_rules(aws)] == ["admin", "api"]


def test_priorities_keep_order_or_renumber_above_the_highest():
    assert assign_priorities(["a", "b"], {}, set()) == {"a": 10, "b": 20}
    assert assign_priorities(["a", "b"], {"a": 7, "b": 3}, {40}) == {"a": 50, "b": 60}
    assert assign_priorities(["a", "n", "b"], {"a": 10, "b": 11}, set()) == {
        "a": 20,
        "n": 30,
        "b": 40,
    }


def test_protocol_change_of_listener_with_rules_is_refused(aws, target):
    converge(target, load_spec_text(rules_spec(aws, API)))
    https = load_spec_text(rules_spec(aws, API, protocol="https"))

    with pytest.raises(PlanError) as caught:
        plan(target, https)

    assert (
        "chat rule https/80/*: the listener changes protocol and has rules on AWS, "
        "which it keeps; slbsync cannot match them to the spec's yet"
    ) in str(caught.value)


def test_rules_applied_by_another_process_find_their_listener(aws, target):
    # A run that created the listener and stopped: the next process (a new
    # target, nothing learned) finds the listener's ARN by reading.
    spec = load_spec_text(rules_spec(aws, f"{ADMIN}, {API}"))
    _, changes = plan(target, spec)
    rules = [c for c in changes if c.action == "CreateRule"]
    apply_all(target, [c for c in changes if c.action != "CreateRule"])

    apply_all(AwsElbv2Target(target.spec), rules)

    assert [rule_name(aws, r) for r in live_rules(aws)] == ["admin", "api"]
    _, again = plan(target, spec)
    assert again == []


def test_more_than_a_hundred_rules_are_refused(aws):
    many = ", ".join(
        f"{{name: r{i}, domain: h{i}.example.com, server_group: api}}"
        for i in range(101)
    )

    message = refusal(rules_spec(aws, many))

    assert (
        "load_balancers.chat.listeners: 101 forwarding rules; an application load "
        "balancer takes at most 100 (AWS's default quota): split the load balancer"
    ) in message


def test_live_rule_the_spec_cannot_say_reads_as_aws_values():
    raw = {
        "Conditions": [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["a.io", "b.io"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x*"]}},
        ],
        "Actions": [{"Type": "fixed-response"}],
    }

    rule = rule_from(raw, "rule-7", {})

    assert rule.domain is None
    assert rule.url == "aws:host-header=a.io,b.io; url=/x"
    assert unmapped_parts(rule) == [
        "server_group actions=fixed-response to no target group",
        "conditions host-header=a.io,b.io; url=/x",
    ]
