"""Few calls: what a read costs, batches of targets, nothing written when clean."""

from __future__ import annotations

from tests.targets.aws_elbv2.conftest import (
    Vpc,
    actions,
    apply_all,
    converge,
    load_spec_text,
    plan,
    spec_yaml,
)


def ip_group_spec(aws: Vpc, count: int) -> str:
    members = "".join(
        f"\n                  - {{address: 10.0.1.{10 + i}, port: 8080}}"
        for i in range(count)
    )
    return spec_yaml(
        f"""
        load_balancers:
          fleet:
            target: aws
            subnets: [{aws.subnets[0]}]
            server_groups:
              nodes:
                servers:{members}
              spare:
                servers: [{{address: 10.0.1.250, port: 9000}}]
            listeners:
              - {{protocol: tcp, port: 443, server_group: nodes,
                  health_check: {{interval: 10s}}}}
              - {{protocol: tcp, port: 9000, server_group: spare,
                  health_check: {{interval: 10s}}}}
        """
    )


def test_sixty_targets_register_in_two_calls(aws, target):
    changes = converge(target, load_spec_text(ip_group_spec(aws, 60)))

    registers = [c for c in changes if c.action == "RegisterTargets"]
    assert [len(c.get("params")["Targets"]) for c in registers] == [50, 10, 1]


def test_a_read_costs_a_fixed_number_of_calls(aws, target):
    spec = load_spec_text(ip_group_spec(aws, 3))
    converge(target, spec)

    live, changes = plan(target, spec)

    assert changes == []
    assert dict(live.reads) == {
        "DescribeLoadBalancers": 1,  # the region, 400 a page
        "DescribeTags": 2,  # load balancers, then target groups, 20 a call
        "DescribeListeners": 1,
        "DescribeLoadBalancerAttributes": 1,
        "DescribeTargetGroups": 1,
        "DescribeTargetGroupAttributes": 2,  # per group
        "DescribeTargetHealth": 2,  # per group: its members
    }


def test_clean_plan_writes_nothing(aws, target):
    spec = load_spec_text(ip_group_spec(aws, 3))
    converge(target, spec)
    before = target.calls_made()

    _, changes = plan(target, spec)
    apply_all(target, changes)

    writes = {
        action: count - before.get(action, 0)
        for action, count in target.calls_made().items()
        if not action.startswith("Describe") and count != before.get(action, 0)
    }
    assert actions(changes) == [] and writes == {}
