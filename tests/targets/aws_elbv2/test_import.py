"""slbsync import on aws-elbv2: load balancers made by hand become a spec
that plans clean, and --adopt tags them as owned."""

from __future__ import annotations

import pytest

from slbsync.errors import SlbsyncError
from slbsync.importer.run import ImportFilters, import_spec
from tests.targets.aws_elbv2.conftest import (
    Vpc,
    load_spec_text,
    plan,
)


def hand_made(aws: Vpc) -> None:
    """An ALB as a console user leaves it: AWS's defaults everywhere."""
    lb = aws.elbv2.create_load_balancer(
        Name="legacy", Subnets=aws.subnets, SecurityGroups=[aws.security_group]
    )["LoadBalancers"][0]
    group = aws.elbv2.create_target_group(
        Name="legacy-web", Protocol="HTTP", Port=8080, VpcId=aws.vpc
    )["TargetGroups"][0]
    aws.elbv2.register_targets(
        TargetGroupArn=group["TargetGroupArn"],
        Targets=[{"Id": aws.instances[0], "Port": 8080}],
    )
    aws.elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )


def test_import_writes_a_spec_that_plans_clean(aws, target, tmp_path):
    hand_made(aws)

    result = import_spec(
        target.spec, ImportFilters(names=("leg*",)), lock_dir=tmp_path / "locks"
    )

    assert result.load_balancers == ["legacy"]
    assert result.not_owned == ["legacy"]
    assert "type: aws-elbv2" in result.text
    assert "legacy-web" in result.text
    assert aws.instances[0] in result.text
    spec = load_spec_text(result.text, tmp_path)
    _, changes = plan(target, spec)
    assert changes == []


def test_import_adopt_tags_the_load_balancer(aws, target, tmp_path):
    hand_made(aws)

    result = import_spec(
        target.spec, ImportFilters(), adopt=True, lock_dir=tmp_path / "locks"
    )

    assert result.adopted == ["legacy"]
    lb = aws.elbv2.describe_load_balancers(Names=["legacy"])["LoadBalancers"][0]
    tags = aws.elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])
    assert {"Key": "slbsync-owner", "Value": "slbsync"} in tags["TagDescriptions"][0][
        "Tags"
    ]


def test_import_with_no_match_says_what_was_asked(aws, target, tmp_path):
    with pytest.raises(SlbsyncError) as caught:
        import_spec(target.spec, ImportFilters(names=("nothing*",)))

    assert "no load balancer in eu-west-1 matches --name nothing*" in str(caught.value)
