"""A load balancer setting the target would ignore is refused where written."""

from __future__ import annotations

from pathlib import Path

from slbsync.spec.fields import LOAD_BALANCER
from slbsync.spec.load import load_spec
from slbsync.spec.target_terms import description_of
from tests.spec.helpers import problems_of

FILE = "settings_of_other_targets.yaml"


def test_aws_settings_on_alibaba_say_what_slb_uses():
    found = [p for p in problems_of(FILE) if ".on-slb." in p]

    assert found == [
        f"{FILE}:11:5 load_balancers.on-slb.type: type is an aws-elbv2 setting; "
        "an SLB instance serves every protocol, layer 4 and 7: remove type",
        f"{FILE}:12:5 load_balancers.on-slb.subnets: subnets is an aws-elbv2 "
        "setting; the alibaba-slb target places a load balancer by vswitch_id "
        "(and vpc_id): use those",
        f"{FILE}:13:5 load_balancers.on-slb.security_groups: security_groups is an "
        "aws-elbv2 setting; SLB filters clients with ACLs: give the listeners an acl",
    ]


def test_alibaba_settings_on_aws_are_each_refused_once():
    found = [p for p in problems_of(FILE) if ".on-aws." in p]

    # bandwidth without the Alibaba billing rules' own complaints on top.
    assert found == [
        f"{FILE}:17:5 load_balancers.on-aws.vswitch_id: vswitch_id is an "
        "alibaba-slb setting; the aws-elbv2 target places a load balancer by "
        "subnets (the VPC and zones follow from them): use subnets",
        f"{FILE}:18:5 load_balancers.on-aws.internet_charge_type: "
        "internet_charge_type is an alibaba-slb setting; AWS bills load balancers "
        "by capacity units used: remove it",
        f"{FILE}:19:5 load_balancers.on-aws.bandwidth: bandwidth is an alibaba-slb "
        "setting; AWS bills load balancers by capacity units used: remove it",
    ]


def test_cloud_settings_on_proxies_are_refused():
    found = [p for p in problems_of(FILE) if ".on-haproxy." in p or ".on-nginx." in p]

    assert found == [
        f"{FILE}:22:5 load_balancers.on-haproxy.address_type: address_type is an "
        "alibaba-slb and aws-elbv2 setting; the haproxy target has none: remove it",
        f"{FILE}:23:5 load_balancers.on-haproxy.subnets: subnets is an aws-elbv2 "
        "setting; the haproxy target has none: remove it",
        f"{FILE}:26:5 load_balancers.on-nginx.tags: tags is an alibaba-slb and "
        "aws-elbv2 setting; the nginx target has none: remove it",
        f"{FILE}:27:5 load_balancers.on-nginx.deletion_protection: "
        "deletion_protection is an alibaba-slb and aws-elbv2 setting; the nginx "
        "target has none: remove it",
    ]


def test_settings_left_out_are_not_refused(tmp_path: Path):
    # The model's defaults (address_type internet, PayByCLCU...) are nobody's
    # request, and an empty value is the same as leaving the field out.
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  edge: {type: nginx, config_path: /tmp/slbsync.conf}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: edge\n"
        "    tags:\n"
        "    server_groups: {web: {servers: [{address: 10.0.0.1, port: 80}]}}\n"
        "    listeners: [{protocol: tcp, port: 80, server_group: web}]\n"
    )

    spec = load_spec([path], environ={})

    assert spec.load_balancers[0].address_type == "internet"


def test_reference_names_the_targets_taking_a_setting():
    rule = LOAD_BALANCER.field("subnets")
    assert rule is not None

    assert description_of(rule).endswith("On aws-elbv2 targets only.")
