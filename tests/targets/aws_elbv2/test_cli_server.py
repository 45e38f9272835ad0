"""End to end: the slbsync CLI in subprocesses against moto's server on loopback.

``ThreadedMotoServer`` answers the AWS API on 127.0.0.1 and a free port;
the spec's ``endpoint`` points the target at it and dummy credentials come
through the environment, the way boto3's chain takes them. No request
leaves loopback. moto marks targets healthy at once and deregisters them
without a draining period, so the drain here is immediate (the drain
itself is tested on a fake clock in test_membership.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.targets.aws_elbv2.conftest import FAKE_AMI, REGION, spec_yaml

pytestmark = pytest.mark.slow

SECRET = "s3cret-key-never-printed"
TOKEN = "session-token-never-printed"
CLI = [sys.executable, "-c", "from slbsync.cli.app import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().endswith("_PROXY") and not key.startswith("AWS_")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SESSION_TOKEN=TOKEN,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        NO_PROXY="127.0.0.1",
    )
    return env


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_plan_apply_drift_register_deregister(moto_endpoint, tmp_path):
    ec2 = client("ec2", moto_endpoint)
    elbv2 = client("elbv2", moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZone=f"{REGION}a"
    )["Subnet"]["SubnetId"]
    nodes = sorted(
        item["InstanceId"]
        for item in ec2.run_instances(
            ImageId=FAKE_AMI, MinCount=3, MaxCount=3, SubnetId=subnet
        )["Instances"]
    )
    spec = tmp_path / "gateway.yaml"
    spec.write_text(
        spec_yaml(
            f"""
            load_balancers:
              gateway:
                target: aws
                address_type: intranet
                subnets: [{subnet}]
                tags: {{app: chat}}
                server_groups:
                  ws:
                    membership: external
                  admin:
                    servers: [{{id: {nodes[0]}, port: 9000}}]
                listeners:
                  - {{protocol: tcp, port: 443, server_group: ws, backend_port: 8080,
                      scheduler: source_hash, connection_drain: 30s,
                      health_check: {{interval: 10s}}}}
                  - {{protocol: tcp, port: 9000, server_group: admin,
                      health_check: {{interval: 10s}}}}
            """,
            endpoint=moto_endpoint,
        )
    )
    env = cli_env(tmp_path)

    def ok(*args: str, code: int = 0) -> str:
        done = run(env, tmp_path, "--debug", *args)
        assert done.returncode == code, done.stdout + done.stderr
        assert SECRET not in done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr
        return done.stdout

    ok("validate", str(spec))
    saved = tmp_path / "plan.json"
    planned = ok("plan", str(spec), "--detailed-exitcode", "--out", str(saved), code=2)
    assert "CreateLoadBalancer" in planned
    # The reviewed plan, applied by a later process: references resolve by name.
    ok("apply", "--plan", str(saved), "--auto-approve")
    ok("plan", str(spec), "--detailed-exitcode")
    ok("drift", str(spec))

    # A hand edit in the console shows as drift, and apply puts it back.
    arn = elbv2.describe_target_groups(Names=["gateway-admin"])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    elbv2.modify_target_group(TargetGroupArn=arn, HealthCheckIntervalSeconds=30)
    drifted = ok("drift", str(spec), code=2)
    assert "health_check.interval" in drifted
    ok("apply", str(spec), "--auto-approve")
    ok("drift", str(spec))

    group = ["-l", "gateway", "-g", "ws", "--port", "8080"]
    locks = ["--lock-dir", str(tmp_path / "locks")]
    ok("register", str(spec), *group, "--server", nodes[1], "--wait-healthy", *locks)
    ok("register", str(spec), *group, "--server", nodes[2], *locks)
    ws = elbv2.describe_target_groups(Names=["gateway-ws"])["TargetGroups"][0]
    health = elbv2.describe_target_health(TargetGroupArn=ws["TargetGroupArn"])
    assert sorted(t["Target"]["Id"] for t in health["TargetHealthDescriptions"]) == [
        nodes[1],
        nodes[2],
    ]
    ok("deregister", str(spec), *group, "--server", nodes[1], "--drain", "30s", *locks)
    health = elbv2.describe_target_health(TargetGroupArn=ws["TargetGroupArn"])
    assert [t["Target"]["Id"] for t in health["TargetHealthDescriptions"]] == [nodes[2]]
    # External members are not the spec's business: still no drift.
    ok("drift", str(spec))


def test_bad_spec_never_reaches_aws(moto_endpoint, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        spec_yaml(
            """
            load_balancers:
              web:
                target: aws
                subnets: [subnet-1]
                server_groups:
                  app: {servers: [{id: i-1, port: 80}]}
                listeners:
                  - {protocol: http, port: 80, server_group: app,
                     scheduler: source_hash, health_check: {interval: 10s}}
            """,
            endpoint=moto_endpoint,
        )
    )

    done = run(cli_env(tmp_path), tmp_path, "plan", str(spec))

    assert done.returncode == 1
    assert "listeners[0].scheduler" in done.stderr + done.stdout
    assert "no equivalent on an application load balancer" in done.stderr + done.stdout


def test_import_adopt_then_plan_clean(moto_endpoint, tmp_path):
    ec2 = client("ec2", moto_endpoint)
    elbv2 = client("elbv2", moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.2.1.0/24", AvailabilityZone=f"{REGION}a"
    )["Subnet"]["SubnetId"]
    lb = elbv2.create_load_balancer(Name="edge-nlb", Subnets=[subnet], Type="network")
    group = elbv2.create_target_group(
        Name="edge-nlb-tcp", Protocol="TCP", Port=7000, VpcId=vpc
    )["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="TCP",
        Port=7000,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )
    env = cli_env(tmp_path)
    out = tmp_path / "imported.yaml"

    done = run(
        env,
        tmp_path,
        *("import", "--type", "aws-elbv2", "--region", REGION),
        *("--endpoint", moto_endpoint, "--target-name", "aws", "--name", "edge-*"),
        *("--adopt", "--lock-dir", str(tmp_path / "state")),
        *("-o", str(out)),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Adopted (tagged as owned): edge-nlb." in done.stderr
    text = out.read_text()
    assert "type: network" in text
    clean = run(env, tmp_path, "plan", str(out), "--detailed-exitcode")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_rules_plan_apply_reorder_through_the_cli(moto_endpoint, tmp_path):
    ec2 = client("ec2", moto_endpoint)
    elbv2 = client("elbv2", moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.3.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    node = ec2.run_instances(
        ImageId=FAKE_AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0]
    )["Instances"][0]["InstanceId"]
    one = "{name: one, url: /one, server_group: api}"
    two = "{name: two, url: /two, server_group: web}"

    def write(rules: str) -> Path:
        spec = tmp_path / "routes.yaml"
        spec.write_text(
            spec_yaml(
                f"""
                load_balancers:
                  routes:
                    target: aws
                    subnets: [{subnets[0]}, {subnets[1]}]
                    server_groups:
                      web:
                        servers: [{{id: {node}, port: 8080}}]
                      api:
                        servers: [{{id: {node}, port: 8081}}]
                    listeners:
                      - protocol: http
                        port: 80
                        server_group: web
                        health_check: {{interval: 10s}}
                        rules: [{rules}]
                """,
                endpoint=moto_endpoint,
            )
        )
        return spec

    env = cli_env(tmp_path)

    def ok(*args: str, code: int = 0) -> str:
        done = run(env, tmp_path, *args)
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout

    spec = write(f"{two}, {one}")
    ok("validate", str(spec))
    saved = tmp_path / "plan.json"
    planned = ok("plan", str(spec), "--detailed-exitcode", "--out", str(saved), code=2)
    assert planned.count("CreateRule") == 2
    # Applied by a later process: the new listener's ARN resolves by name.
    ok("apply", "--plan", str(saved), "--auto-approve")
    ok("plan", str(spec), "--detailed-exitcode")

    spec = write(f"{one}, {two}")
    reordered = ok("plan", str(spec), "--detailed-exitcode", code=2)
    assert "SetRulePriorities" in reordered
    assert "CreateRule" not in reordered
    ok("apply", str(spec), "--auto-approve")
    ok("plan", str(spec), "--detailed-exitcode")
    ok("drift", str(spec))
    lb = elbv2.describe_load_balancers(Names=["routes"])["LoadBalancers"][0]
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ]
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    by_priority = sorted(
        (int(r["Priority"]), r["Conditions"][0]["PathPatternConfig"]["Values"])
        for r in rules
        if not r["IsDefault"]
    )
    assert [paths for _, paths in by_priority] == [["/one*"], ["/two*"]]
