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


def ip_group_spec(
    aws: Vpc, count: int, *, spare: bool = True, spare_listener: bool = True
) -> str:
    members = "".join(
        f"\n                  - {{address: 10.0.1.{10 + i}, port: 8080}}"
        for i in range(count)
    )
    group = (
        "\n              spare:"
        "\n                servers: [{address: 10.0.1.250, port: 9000}]"
        if spare
        else ""
    )
    listener = (
        "\n              - {protocol: tcp, port: 9000, server_group: spare,"
        "\n                  health_check: {interval: 10s}}"
        if spare_listener
        else ""
    )
    return spec_yaml(
        f"""
        load_balancers:
          fleet:
            target: aws
            subnets: [{aws.subnets[0]}]
            server_groups:
              nodes:
                servers:{members}{group}
            listeners:
              - {{protocol: tcp, port: 443, server_group: nodes,
                  health_check: {{interval: 10s}}}}{listener}
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
        "GetResources": 1,  # owned load balancers and groups, with their tags
        "DescribeLoadBalancers": 1,  # by the spec's names, 20 a call
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
        if not action.startswith(("Describe", "Get")) and count != before.get(action, 0)
    }
    assert actions(changes) == [] and writes == {}


def test_owned_group_no_listener_uses_is_pruned(aws, target):
    converge(target, load_spec_text(ip_group_spec(aws, 1)))
    # The listener goes first; the group is left with nothing forwarding to it.
    converge(
        target, load_spec_text(ip_group_spec(aws, 1, spare_listener=False)), prune=True
    )
    without_group = ip_group_spec(aws, 1, spare=False, spare_listener=False)

    _, changes = plan(target, load_spec_text(without_group), prune=True)

    assert actions(changes) == ["DeleteTargetGroup"]
