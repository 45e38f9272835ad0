"""Plan and apply against moto's mock_aws: creates, updates, deletes converge."""

from __future__ import annotations

import pytest

from slbsync.errors import PlanError
from tests.targets.aws_elbv2.conftest import (
    Vpc,
    actions,
    apply_all,
    converge,
    load_spec_text,
    plan,
    spec_yaml,
)


def chat_spec(
    aws: Vpc, *, servers: int = 2, extra: str = "", listener: str = ""
) -> str:
    members = "\n".join(
        f"                  - {{id: {aws.instances[i]}, port: 8080}}"
        for i in range(servers)
    )
    return spec_yaml(
        f"""
        load_balancers:
          chat:
            target: aws
            subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
            security_groups: [{aws.security_group}]
            tags: {{app: chat}}
            {extra}
            server_groups:
              web:
                servers:
{members}
            listeners:
              - protocol: http
                port: 80
                server_group: web
                scheduler: least_connections
                health_check: {{type: http, interval: 10s, path: /healthz}}
                {listener}
        """
    )


def test_new_application_load_balancer_is_created_and_plans_clean(aws, target):
    spec = load_spec_text(chat_spec(aws))

    changes = converge(target, spec)

    assert actions(changes) == [
        "CreateLoadBalancer",
        "CreateTargetGroup",
        "ModifyTargetGroupAttributes",
        "RegisterTargets",
        "CreateListener",
    ]
    lb = aws.elbv2.describe_load_balancers(Names=["chat"])["LoadBalancers"][0]
    assert lb["Type"] == "application"
    assert lb["Scheme"] == "internet-facing"
    groups = aws.elbv2.describe_target_groups(Names=["chat-web"])["TargetGroups"]
    assert groups[0]["HealthCheckPath"] == "/healthz"
    assert groups[0]["HealthCheckIntervalSeconds"] == 10
    attributes = aws.elbv2.describe_target_group_attributes(
        TargetGroupArn=groups[0]["TargetGroupArn"]
    )["Attributes"]
    assert {
        "Key": "load_balancing.algorithm.type",
        "Value": "least_outstanding_requests",
    } in attributes
    tags = aws.elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])
    assert {"Key": "slbsync-owner", "Value": "slbsync"} in tags["TagDescriptions"][0][
        "Tags"
    ]


def test_members_join_and_leave_in_one_call_each(aws, target):
    converge(target, load_spec_text(chat_spec(aws, servers=1)))

    joined = converge(target, load_spec_text(chat_spec(aws, servers=3)))
    left = converge(target, load_spec_text(chat_spec(aws, servers=1)))

    assert actions(joined) == ["RegisterTargets"]
    assert len(joined[0].get("params")["Targets"]) == 2
    assert actions(left) == ["DeregisterTargets"]
    assert [f.field for f in left[0].fields] == [
        f"{aws.instances[1]}:8080",
        f"{aws.instances[2]}:8080",
    ]


def test_listener_settings_land_on_its_target_group(aws, target):
    converge(target, load_spec_text(chat_spec(aws)))
    sticky = "sticky_session: {type: insert, cookie_timeout: 600s}"

    changes = converge(target, load_spec_text(chat_spec(aws, listener=sticky)))

    assert actions(changes) == ["ModifyTargetGroupAttributes"]
    arn = aws.elbv2.describe_target_groups(Names=["chat-web"])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    values = {
        a["Key"]: a["Value"]
        for a in aws.elbv2.describe_target_group_attributes(TargetGroupArn=arn)[
            "Attributes"
        ]
    }
    assert values["stickiness.enabled"] == "true"
    assert values["stickiness.lb_cookie.duration_seconds"] == "600"


def test_tags_and_deletion_protection_update_in_place(aws, target):
    converge(target, load_spec_text(chat_spec(aws)))
    changed = chat_spec(aws, extra="deletion_protection: true").replace(
        "{app: chat}", "{app: chat, team: im}"
    )

    changes = converge(target, load_spec_text(changed))

    assert sorted(actions(changes)) == ["AddTags", "ModifyLoadBalancerAttributes"]


def test_scheme_change_is_refused_with_the_way_out(aws, target):
    converge(target, load_spec_text(chat_spec(aws)))
    internal = load_spec_text(chat_spec(aws, extra="address_type: intranet"))

    with pytest.raises(PlanError) as caught:
        plan(target, internal)

    assert "address_type 'internet' -> 'intranet' cannot change" in str(caught.value)
    assert "create one under another name" in str(caught.value)


def test_prune_deletes_listener_group_and_load_balancer(aws, target):
    converge(target, load_spec_text(chat_spec(aws)))
    empty = load_spec_text(spec_yaml("load_balancers: {}\n"))

    _, changes = plan(target, empty, prune=True)
    apply_all(target, changes)

    assert actions(changes) == [
        "DeleteListener",
        "DeleteTargetGroup",
        "DeleteLoadBalancer",
    ]
    assert aws.elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert aws.elbv2.describe_target_groups()["TargetGroups"] == []


def test_without_prune_an_owned_load_balancer_stays(aws, target):
    converge(target, load_spec_text(chat_spec(aws)))
    empty = load_spec_text(spec_yaml("load_balancers: {}\n"))

    _, changes = plan(target, empty)

    assert changes == []


def test_unowned_load_balancer_is_left_alone_until_adopted(aws, target):
    aws.elbv2.create_load_balancer(Name="chat", Subnets=aws.subnets)
    spec = load_spec_text(chat_spec(aws))

    _, untouched = plan(target, spec)
    adopted = load_spec_text(chat_spec(aws, extra="adopt: true"))
    _, changes = plan(target, adopted)

    assert untouched == []
    assert "AddTags" in actions(changes)


def test_server_cookie_stickiness_round_trips(aws, target):
    sticky = "sticky_session: {type: server, cookie: SESSIONID}"

    converge(target, load_spec_text(chat_spec(aws, listener=sticky)))

    arn = aws.elbv2.describe_target_groups(Names=["chat-web"])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    values = {
        a["Key"]: a["Value"]
        for a in aws.elbv2.describe_target_group_attributes(TargetGroupArn=arn)[
            "Attributes"
        ]
    }
    assert values["stickiness.type"] == "app_cookie"
    assert values["stickiness.app_cookie.cookie_name"] == "SESSIONID"


def test_protected_load_balancer_is_not_pruned(aws, target):
    converge(target, load_spec_text(chat_spec(aws, extra="deletion_protection: true")))
    empty = load_spec_text(spec_yaml("load_balancers: {}\n"))

    with pytest.raises(PlanError) as caught:
        plan(target, empty, prune=True)

    assert "deletion protection is on" in str(caught.value)
    assert "set deletion_protection: false in the spec, apply" in str(caught.value)


def test_listener_moves_to_another_group_with_its_settings(aws, target):
    two_groups = chat_spec(aws).replace(
        "\n    listeners:",
        f"\n      api:\n        servers: [{{id: {aws.instances[2]}, port: 9000}}]"
        "\n    listeners:",
    )
    converge(target, load_spec_text(two_groups))
    moved = two_groups.replace("server_group: web", "server_group: api")

    changes = converge(target, load_spec_text(moved))

    assert actions(changes) == [
        "ModifyListener",
        "ModifyTargetGroup",
        "ModifyTargetGroupAttributes",
    ]
