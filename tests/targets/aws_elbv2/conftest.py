"""Fixtures for the aws-elbv2 target: moto's ``mock_aws`` and a small VPC.

moto answers in-process; no request leaves the test. What moto does not
model is stated where it matters: it marks registered targets healthy at
once and deregisters them without a draining period, and it keys a target
group's targets by id alone (one port per instance).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slbsync.diff.changes import Change
from slbsync.diff.compare import compare
from slbsync.diff.order import order_by_dependency
from slbsync.spec.load import load_spec
from slbsync.spec.model import Spec
from slbsync.targets.aws_elbv2.target import AwsElbv2Target
from slbsync.targets.base import LiveState

REGION = "eu-west-1"
TARGET = "aws"
FAKE_AMI = "ami-12345678"  # moto runs instances of any image id


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials through the environment, no user files, no proxies."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # moto's catalogue of public AMIs is slow to load and not needed here.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-creds"))


@dataclass
class Vpc:
    """A VPC with two subnets in two zones, a security group and instances."""

    vpc: str
    subnets: list[str]
    security_group: str
    instances: list[str]
    elbv2: Any
    ec2: Any


def make_vpc(instances: int = 3) -> Vpc:
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)[
        "GroupId"
    ]
    ids = []
    if instances:
        reservation = ec2.run_instances(
            ImageId=FAKE_AMI,
            MinCount=instances,
            MaxCount=instances,
            SubnetId=subnets[0],
        )
        ids = sorted(item["InstanceId"] for item in reservation["Instances"])
    return Vpc(vpc, subnets, group, ids, boto3.client("elbv2", region_name=REGION), ec2)


@pytest.fixture
def aws(aws_env: None) -> Iterator[Vpc]:
    from moto import mock_aws

    with mock_aws():
        yield make_vpc()


@pytest.fixture
def target(aws: Vpc) -> AwsElbv2Target:
    return AwsElbv2Target(load_spec_text(TARGET_YAML).targets[0])


TARGET_YAML = f"""
targets:
  {TARGET}:
    type: aws-elbv2
    region: {REGION}
"""


def load_spec_text(text: str, tmp: Path | None = None) -> Spec:
    """Load ``text`` as a spec file (in ``tmp``, or a folder removed after)."""
    import tempfile

    if tmp is not None:
        path = tmp / "spec.yaml"
        path.write_text(textwrap.dedent(text))
        return load_spec([path], environ={})
    with tempfile.TemporaryDirectory(prefix="slbsync-aws-") as folder:
        return load_spec_text(text, Path(folder))


def spec_yaml(body: str, *, endpoint: str | None = None) -> str:
    """A whole spec: the aws target, then ``body`` (load_balancers: ...)."""
    head = (
        TARGET_YAML if endpoint is None else TARGET_YAML + f"    endpoint: {endpoint}\n"
    )
    return head + textwrap.dedent(body)


def plan(
    target: AwsElbv2Target, spec: Spec, *, prune: bool = False
) -> tuple[LiveState, list[Change]]:
    live = target.read_live_state(spec)
    differences = compare(spec, live, target, prune=prune).differences
    return live, order_by_dependency(target.changes_for(differences, live))


def apply_all(target: AwsElbv2Target, changes: Sequence[Change]) -> None:
    for change in changes:
        target.apply_change(change)


def converge(
    target: AwsElbv2Target, spec: Spec, *, prune: bool = False
) -> list[Change]:
    """Apply the plan for ``spec``; the next plan must be empty. The changes made."""
    _, changes = plan(target, spec, prune=prune)
    apply_all(target, changes)
    _, again = plan(target, spec, prune=prune)
    assert [c.summary for c in again] == []
    return changes


def actions(changes: Sequence[Change]) -> list[str]:
    return [change.action for change in changes]
