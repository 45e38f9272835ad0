"""Drift on AWS ELBv2 under moto's mock_aws: a listener deleted and a target
registered in the console, behind slbsync's back, show through the CLI as
missing and unexpected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.drift.conftest import invoke
from tests.targets.aws_elbv2.conftest import (
    Vpc,
    aws,  # noqa: F401  (a fixture)
    aws_env,  # noqa: F401  (a fixture)
    spec_yaml,
)


@pytest.fixture
def gateway(
    aws: Vpc,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Load balancer gateway applied: group admin of one instance, two listeners."""
    spec = tmp_path / "gateway.yaml"
    spec.write_text(
        spec_yaml(
            f"""
            load_balancers:
              gateway:
                target: aws
                address_type: intranet
                subnets: [{aws.subnets[0]}]
                server_groups:
                  admin:
                    servers: [{{id: {aws.instances[0]}, port: 9000}}]
                listeners:
                  - {{protocol: tcp, port: 443, server_group: admin,
                      health_check: {{interval: 10s}}}}
                  - {{protocol: tcp, port: 9000, server_group: admin,
                      health_check: {{interval: 10s}}}}
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    applied = invoke("apply", str(spec), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert invoke("drift", str(spec)).exit_code == 0
    return spec


def _only_item(spec: Path) -> dict[str, Any]:
    found = invoke("drift", str(spec), "--format", "json")
    assert found.exit_code == 2, found.output
    (item,) = json.loads(found.output)["targets"][0]["drift"]
    return dict(item)


def _arn_of_load_balancer(vpc: Vpc) -> str:
    found = vpc.elbv2.describe_load_balancers(Names=["gateway"])["LoadBalancers"]
    return str(found[0]["LoadBalancerArn"])


def test_listener_deleted_in_console_is_missing(
    gateway: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    listeners = aws.elbv2.describe_listeners(
        LoadBalancerArn=_arn_of_load_balancer(aws)
    )["Listeners"]
    (on_9000,) = [item for item in listeners if item["Port"] == 9000]
    aws.elbv2.delete_listener(ListenerArn=on_9000["ListenerArn"])

    item = _only_item(gateway)

    assert (item["status"], item["kind"], item["name"]) == (
        "missing",
        "listener",
        "tcp/9000",
    )
    assert item["load_balancer"] == "gateway"


def test_target_registered_in_console_is_unexpected(
    gateway: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    group = aws.elbv2.describe_target_groups(Names=["gateway-admin"])
    arn = group["TargetGroups"][0]["TargetGroupArn"]
    aws.elbv2.register_targets(
        TargetGroupArn=arn, Targets=[{"Id": aws.instances[1], "Port": 9000}]
    )

    item = _only_item(gateway)

    assert (item["status"], item["kind"], item["name"]) == (
        "unexpected",
        "servers",
        f"admin/{aws.instances[1]}:9000",
    )


@pytest.fixture
def routed(
    aws: Vpc,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """An ALB applied: an http listener with one forwarding rule, /api to api."""
    spec = tmp_path / "routed.yaml"
    spec.write_text(
        spec_yaml(
            f"""
            load_balancers:
              routed:
                target: aws
                subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
                server_groups:
                  web:
                    servers: [{{id: {aws.instances[0]}, port: 8080}}]
                  api:
                    servers: [{{id: {aws.instances[1]}, port: 8080}}]
                listeners:
                  - protocol: http
                    port: 80
                    server_group: web
                    health_check: {{interval: 10s}}
                    rules: [{{name: api, url: /api, server_group: api}}]
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    applied = invoke("apply", str(spec), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert invoke("drift", str(spec)).exit_code == 0
    return spec


def _routed_listener(vpc: Vpc) -> str:
    lb = vpc.elbv2.describe_load_balancers(Names=["routed"])["LoadBalancers"][0]
    found = vpc.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])
    return str(found["Listeners"][0]["ListenerArn"])


def test_rule_added_in_console_is_unexpected(
    routed: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    web = aws.elbv2.describe_target_groups(Names=["routed-web"])["TargetGroups"][0]
    aws.elbv2.create_rule(
        ListenerArn=_routed_listener(aws),
        Priority=3,
        Conditions=[{"Field": "host-header", "Values": ["hand.example.com"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}],
    )

    item = _only_item(routed)

    assert (item["status"], item["kind"], item["name"]) == (
        "unexpected",
        "rule",
        "http/80/rule-3",
    )


def test_rule_changed_in_console_is_modified(
    routed: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    rules = aws.elbv2.describe_rules(ListenerArn=_routed_listener(aws))["Rules"]
    (api,) = [rule for rule in rules if not rule["IsDefault"]]
    aws.elbv2.modify_rule(
        RuleArn=api["RuleArn"],
        Conditions=[{"Field": "path-pattern", "Values": ["/v2*"]}],
    )

    item = _only_item(routed)

    assert (item["status"], item["kind"], item["name"]) == (
        "modified",
        "rule",
        "http/80/api",
    )
    assert "/v2" in json.dumps(item)


@pytest.fixture
def two_rules(
    aws: Vpc,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """An ALB applied: an http listener with rules admin (a host) then api."""
    spec = tmp_path / "ordered.yaml"
    spec.write_text(
        spec_yaml(
            f"""
            load_balancers:
              ordered:
                target: aws
                subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
                server_groups:
                  web:
                    servers: [{{id: {aws.instances[0]}, port: 8080}}]
                  api:
                    servers: [{{id: {aws.instances[1]}, port: 8080}}]
                listeners:
                  - protocol: http
                    port: 80
                    server_group: web
                    health_check: {{interval: 10s}}
                    rules:
                      - {{name: admin, domain: admin.example.com, server_group: web}}
                      - {{name: api, url: /api, server_group: api}}
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    applied = invoke("apply", str(spec), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert invoke("drift", str(spec)).exit_code == 0
    return spec


def _rules_by_priority(vpc: Vpc) -> list[dict[str, Any]]:
    lb = vpc.elbv2.describe_load_balancers(Names=["ordered"])["LoadBalancers"][0]
    (listener,) = vpc.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ]
    found = vpc.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    return sorted(
        (rule for rule in found if not rule["IsDefault"]),
        key=lambda rule: int(rule["Priority"]),
    )


def _rule_names_by_priority(vpc: Vpc) -> list[str]:
    arns = [rule["RuleArn"] for rule in _rules_by_priority(vpc)]
    tags = vpc.elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
    by_arn = {
        item["ResourceArn"]: {t["Key"]: t["Value"] for t in item["Tags"]}
        for item in tags
    }
    return [by_arn[arn]["slbsync-rule"] for arn in arns]


def _swap_rules_by_hand(vpc: Vpc) -> None:
    """Swap the two rules' priorities in the console, one rule at a time
    (moto refuses a priority held when a call starts: go via a spare one)."""
    first, second = _rules_by_priority(vpc)
    spare = int(second["Priority"]) + 1
    for rule, priority in (
        (first, spare),
        (second, int(first["Priority"])),
        (first, int(second["Priority"])),
    ):
        vpc.elbv2.set_rule_priorities(
            RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": priority}]
        )
    assert _rule_names_by_priority(vpc) == ["api", "admin"]


def test_rules_reordered_in_console_are_modified_positions(
    two_rules: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    _swap_rules_by_hand(aws)

    found = invoke("drift", str(two_rules), "--format", "json")

    assert found.exit_code == 2, found.output
    items = json.loads(found.output)["targets"][0]["drift"]
    assert [(i["status"], i["kind"], i["name"], i["fields"]) for i in items] == [
        (
            "modified",
            "rule",
            "http/80/admin",
            [{"field": "position", "spec": 1, "live": 2}],
        ),
        (
            "modified",
            "rule",
            "http/80/api",
            [{"field": "position", "spec": 2, "live": 1}],
        ),
    ]


def test_rules_reordered_in_console_are_put_back_by_remediate(
    two_rules: Path,
    aws: Vpc,  # noqa: F811
) -> None:
    _swap_rules_by_hand(aws)

    remediated = invoke("drift", str(two_rules), "--remediate")
    again = invoke("drift", str(two_rules))

    assert remediated.exit_code == 2, remediated.output  # found, and undone
    assert _rule_names_by_priority(aws) == ["admin", "api"]
    assert again.exit_code == 0, again.output
