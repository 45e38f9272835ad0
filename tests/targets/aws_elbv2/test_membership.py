"""register and deregister on aws-elbv2, and the drain on a controllable clock.

moto marks a registered target healthy at once and removes a deregistered
one at once (no ``draining`` period), so the drain itself is tested by
scripting the states ``DescribeTargetHealth`` reports, with a fake clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slbsync.membership.group import GroupHandle
from slbsync.membership.register import Membership
from slbsync.spec.model import Server
from tests.targets.aws_elbv2.conftest import (
    Vpc,
    converge,
    load_spec_text,
    spec_yaml,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def external_spec(aws: Vpc, drain: str = "120s") -> str:
    return spec_yaml(
        f"""
        load_balancers:
          gateway:
            target: aws
            subnets: [{aws.subnets[0]}]
            server_groups:
              ws: {{membership: external}}
            listeners:
              - {{protocol: tcp, port: 443, server_group: ws, backend_port: 8080,
                  connection_drain: {drain}, health_check: {{interval: 10s}}}}
        """
    )


@pytest.fixture
def joined(aws, target, tmp_path: Path):
    spec = load_spec_text(external_spec(aws))
    converge(target, spec)
    clock = FakeClock()
    membership = Membership(
        GroupHandle(spec, target, "gateway", "ws", sleep=clock.sleep),
        lock_dir=tmp_path / "locks",
        sleep=clock.sleep,
        clock=clock,
    )
    return membership, clock


def members(aws: Vpc) -> list[tuple[str, int]]:
    arn = aws.elbv2.describe_target_groups(Names=["gateway-ws"])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    found = aws.elbv2.describe_target_health(TargetGroupArn=arn)
    return sorted(
        (item["Target"]["Id"], item["Target"]["Port"])
        for item in found["TargetHealthDescriptions"]
    )


def test_register_waits_for_health_and_is_idempotent(aws, joined):
    membership, _ = joined
    server = Server(id=aws.instances[0], port=8080)

    first = membership.register(server, wait_healthy=True)
    again = membership.register(server)

    assert first.steps == ["added at weight 100", "healthy"]
    assert again.steps == ["unchanged at weight 100"]
    assert members(aws) == [(aws.instances[0], 8080)]


def test_deregister_waits_while_aws_drains_then_ends(aws, joined, target):
    membership, clock = joined
    server = Server(id=aws.instances[0], port=8080)
    membership.register(server)
    membership.register(Server(id=aws.instances[1], port=8080))
    # moto removes at once; AWS keeps the target draining for a while.
    real = target.target_states

    def states(lb: str, group: str) -> dict[tuple[str, int], str]:
        found = real(lb, group)
        if clock.now < 4:  # AWS reports the target draining for 4 seconds
            found[server.key] = "draining"
        return found

    target.target_states = states

    outcome = membership.deregister(server, drain=300)

    assert outcome.steps[0] == "weight 0: no new connections"
    assert outcome.steps[1] == "drained after 4s"
    assert clock.now == 4.0
    assert members(aws) == [(aws.instances[1], 8080)]


def test_drain_is_capped_by_the_deregistration_delay(aws, joined, target):
    membership, clock = joined
    server = Server(id=aws.instances[0], port=8080)
    membership.register(server)
    membership.register(Server(id=aws.instances[1], port=8080))
    target.target_states = lambda lb, group: {server.key: "draining"}

    outcome = membership.deregister(server, drain=300)

    assert clock.now == 120.0  # connection_drain: 120s, below --drain 300s
    assert outcome.steps[1] == "drained after 120s"  # AWS ends the drain there


def test_application_group_drains_by_its_listener_drain(aws, target, tmp_path):
    spec = load_spec_text(
        spec_yaml(
            f"""
            load_balancers:
              web:
                target: aws
                subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
                server_groups:
                  ws: {{membership: external}}
                listeners:
                  - {{protocol: http, port: 80, server_group: ws, backend_port: 8080,
                      connection_drain: 30s,
                      health_check: {{type: http, interval: 10s}}}}
            """
        )
    )
    converge(target, spec)
    clock = FakeClock()
    membership = Membership(
        GroupHandle(spec, target, "web", "ws", sleep=clock.sleep),
        lock_dir=tmp_path / "locks",
        sleep=clock.sleep,
        clock=clock,
    )
    server = Server(id=aws.instances[0], port=8080)
    membership.register(server)
    membership.register(Server(id=aws.instances[1], port=8080))
    # A WebSocket that never closes: AWS reports draining until the delay ends.
    target.target_states = lambda lb, group: {server.key: "draining"}

    outcome = membership.deregister(server, drain=300)

    assert outcome.steps[1] == "drained after 30s"  # the delay, not --drain 300s
    assert clock.now == 30.0
