"""The spec checks ask each target class what it takes beyond the tables."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from slbsync.spec.load import load_spec
from slbsync.spec.model import Spec
from slbsync.spec.problems import SpecValidationError
from slbsync.spec.target_terms import (
    declared_by,
    field_protocols_by_type,
    types_taking_protocol,
)
from slbsync.targets.base import Target

TARGETS = {
    "alibaba-slb": "{type: alibaba-slb, region: cn-hangzhou}",
    "aws-elbv2": "{type: aws-elbv2, region: eu-west-1}",
    "nginx": "{type: nginx, config_path: nginx.conf}",
}
SERVERS = {"alibaba-slb": "id: i-1", "aws-elbv2": "id: i-1", "nginx": "address: a"}


def load(tmp_path: Path, kind: str, listener: str) -> Spec:
    path = tmp_path / "spec.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            targets:
              here: {TARGETS[kind]}
            load_balancers:
              chat:
                target: here
                {"subnets: [subnet-1]" if kind == "aws-elbv2" else ""}
                server_groups:
                  web: {{servers: [{{{SERVERS[kind]}, port: 8080}}]}}
                listeners:
                  - {{server_group: web, port: 443, {listener}}}
            """
        )
    )
    return load_spec([path], environ={})


def problems(tmp_path: Path, kind: str, listener: str) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        load(tmp_path, kind, listener)
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_a_certificate_arn_is_aws_own_reference(tmp_path):
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    listener = f"protocol: https, certificate: {arn}, health_check: {{interval: 10s}}"

    spec = load(tmp_path, "aws-elbv2", listener)

    assert spec.load_balancers[0].listeners[0].certificate == arn


def test_an_id_reference_is_alibaba_own_not_aws(tmp_path):
    listener = "protocol: https, certificate: id:1234_cn-hangzhou"

    spec = load(tmp_path, "alibaba-slb", listener)
    on_aws = problems(tmp_path, "aws-elbv2", listener)

    assert spec.load_balancers[0].listeners[0].certificate == "id:1234_cn-hangzhou"
    assert on_aws == [
        "load_balancers.chat.listeners[0].certificate: "
        'there is no certificate "id:1234_cn-hangzhou" in the spec'
    ]


def test_an_arn_on_alibaba_is_a_missing_certificate(tmp_path):
    listener = "protocol: https, certificate: arn:aws:acm:x"

    assert problems(tmp_path, "alibaba-slb", listener) == [
        "load_balancers.chat.listeners[0].certificate: "
        'there is no certificate "arn:aws:acm:x" in the spec'
    ]


def test_tls_names_the_targets_that_take_it(tmp_path):
    listener = "protocol: tls, certificate: arn:aws:acm:x"

    found = problems(tmp_path, "nginx", listener)

    assert (
        'load_balancers.chat.listeners[0].protocol: "tls" listeners are for '
        "aws-elbv2 targets; on nginx use tcp, udp, http or https"
    ) in found


def test_only_declaring_targets_add_to_the_tables():
    assert types_taking_protocol("tls") == ("aws-elbv2",)
    assert types_taking_protocol("udp") == ()
    assert field_protocols_by_type("connection_drain") == {
        "aws-elbv2": ("udp", "http", "https")
    }
    assert field_protocols_by_type("sticky_session") == {}


def test_an_unknown_type_declares_nothing():
    assert declared_by("f5-bigip") is Target
    assert declared_by(None).native_certificate_prefix is None


def test_only_a_target_that_needs_a_region_asks_for_one(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  cloud: {type: alibaba-slb}\n"
        "  aws: {type: aws-elbv2}\n"
        "  edge: {type: nginx, config_path: nginx.conf}\n"
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    assert [f"{p.path}: {p.message}" for p in caught.value.problems] == [
        "targets.cloud: an alibaba-slb target needs a region, e.g. cn-hangzhou"
    ]


def test_a_native_scheduler_is_asked_of_the_target(tmp_path):
    spec = load(tmp_path, "alibaba-slb", "protocol: udp, scheduler: qch")
    on_nginx = problems(tmp_path, "nginx", "protocol: tcp, scheduler: wlc")
    mistyped = problems(tmp_path, "alibaba-slb", "protocol: tcp, scheduler: WLC")
    not_text = problems(tmp_path, "alibaba-slb", "protocol: tcp, scheduler: 5")

    assert spec.load_balancers[0].listeners[0].scheduler == "qch"
    assert on_nginx == [
        'load_balancers.chat.listeners[0].scheduler: "wlc" is native to another '
        "target; on nginx use round_robin, weighted_round_robin, least_connections "
        "or source_hash"
    ]
    assert mistyped == [
        'load_balancers.chat.listeners[0].scheduler: "WLC" is not a scheduler; '
        'did you mean "wlc"?'
    ]
    assert not_text == [
        "load_balancers.chat.listeners[0].scheduler: 5 is not a scheduler; "
        "use round_robin, weighted_round_robin, least_connections or source_hash "
        "(on alibaba-slb targets also rr, wrr, wlc, sch, tch or qch)"
    ]
