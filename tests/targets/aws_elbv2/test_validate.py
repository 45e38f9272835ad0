"""What aws-elbv2 cannot do fails validation, naming the field and the way out."""

from __future__ import annotations

import pytest

from slbsync.spec.problems import SpecValidationError
from tests.targets.aws_elbv2.conftest import load_spec_text, spec_yaml


def problems(body: str) -> str:
    with pytest.raises(SpecValidationError) as caught:
        load_spec_text(spec_yaml(body))
    return str(caught.value)


def lb_with(listener: str, *, kind: str = "", group: str = "") -> str:
    return f"""
    load_balancers:
      chat:
        target: aws
        subnets: [subnet-1, subnet-2]
        {kind}
        server_groups:
          web:
            servers: [{{id: i-0123, port: 8080{group}}}]
        listeners:
          - {{server_group: web, health_check: {{interval: 10s}}, {listener}}}
    """


def test_source_hash_on_application_names_field_and_type():
    text = problems(lb_with("protocol: http, port: 80, scheduler: source_hash"))

    assert "listeners[0].scheduler" in text
    assert '"source_hash" has no equivalent on an application load balancer' in text
    assert "least_connections (least outstanding requests)" in text


def test_least_connections_on_network_explains_flow_hash():
    text = problems(lb_with("protocol: tcp, port: 443, scheduler: least_connections"))

    assert "listeners[0].scheduler" in text
    assert "no equivalent on a network load balancer" in text
    assert "flow hash" in text
    assert "source_hash (stickiness by source IP)" in text


def test_mapped_schedulers_pass():
    for body in (
        lb_with("protocol: http, port: 80, scheduler: least_connections"),
        lb_with("protocol: http, port: 80, scheduler: round_robin"),
        lb_with("protocol: tcp, port: 443, scheduler: source_hash"),
    ):
        spec = load_spec_text(spec_yaml(body))
        assert spec.load_balancers[0].name == "chat"


def test_default_health_interval_is_below_aws_minimum():
    body = lb_with("protocol: tcp, port: 443").replace(
        "health_check: {interval: 10s}, ", ""
    )

    text = problems(body)

    assert "health_check.interval: 2 is outside aws-elbv2's range 5 to 300" in text


def test_per_target_weight_is_refused():
    text = problems(lb_with("protocol: tcp, port: 443", group=", weight: 50"))

    assert "servers[0].weight: aws-elbv2 has no per-target weight" in text


def test_certificate_must_be_an_arn_and_acls_do_not_exist():
    body = (
        lb_with("protocol: https, port: 443, certificate: arn:aws:acm:eu-west-1:1:c/x")
        + """
    acls:
      office: {target: aws, entries: [10.0.0.0/8]}
    """
    )

    text = problems(body)

    assert "acls.office: aws-elbv2 has no access control lists" in text


def test_listener_protocol_must_suit_the_load_balancer_type():
    text = problems(lb_with("protocol: tcp, port: 443", kind="type: application"))

    assert (
        "an application load balancer takes http and https listeners, not tcp" in text
    )


def test_alibaba_fields_are_refused_on_aws():
    text = problems(lb_with("protocol: tcp, port: 443", kind="resource_group_id: rg-1"))

    # Where it is written (line 11 of the spec conftest builds), not the
    # load balancer's line.
    assert (
        "spec.yaml:11:5 load_balancers.chat.resource_group_id: resource_group_id "
        "is an alibaba-slb setting; group AWS resources with tags: remove it"
    ) in text


def test_subnets_are_required():
    text = problems(
        lb_with("protocol: tcp, port: 443").replace("subnets: [subnet-1, subnet-2]", "")
    )

    assert "load_balancers.chat.subnets: a network load balancer needs subnets" in text


def test_tls_listener_needs_a_certificate_and_no_source_hash():
    bare = problems(lb_with("protocol: tls, port: 443"))
    sticky = problems(
        lb_with(
            "protocol: tls, port: 443, scheduler: source_hash, "
            "certificate: arn:aws:acm:eu-west-1:1:certificate/x"
        )
    )

    assert "listeners[0]: a tls listener needs a certificate" in bare
    assert "listeners[0].scheduler: AWS has no stickiness on tls listeners" in sticky


def test_tls_is_refused_on_other_targets(tmp_path):
    from tests.targets.aws_elbv2.conftest import load_spec_text as load

    text = """
    targets:
      cloud: {type: alibaba-slb, region: cn-hangzhou}
    load_balancers:
      chat:
        target: cloud
        server_groups:
          web: {servers: [{id: i-0123, port: 8080}]}
        listeners:
          - {protocol: tls, port: 443, server_group: web, certificate: x}
    """
    with pytest.raises(SpecValidationError) as caught:
        load(text)

    assert '"tls" listeners are for aws-elbv2 targets; on alibaba-slb use' in str(
        caught.value
    )


@pytest.mark.parametrize("protocol", ["http", "https", "udp"])
def test_connection_drain_is_taken_on_every_aws_listener(protocol):
    certificate = ", certificate: arn:aws:acm:eu-west-1:1:certificate/x"
    extra = certificate if protocol == "https" else ""
    listener = f"protocol: {protocol}, port: 8443, connection_drain: 30s{extra}"

    spec = load_spec_text(spec_yaml(lb_with(listener)))

    assert spec.load_balancers[0].listeners[0].connection_drain == 30


@pytest.mark.parametrize(
    ("target", "protocol"),
    [("alibaba-slb", "udp"), ("alibaba-slb", "http"), ("haproxy", "http")],
)
def test_connection_drain_stays_refused_on_other_targets(target, protocol):
    options = "region: cn-hangzhou" if target == "alibaba-slb" else "config_path: h.cfg"
    text = f"""
    targets:
      other: {{type: {target}, {options}}}
    load_balancers:
      chat:
        target: other
        server_groups:
          web: {{servers: [{{address: 10.0.0.1, port: 8080}}]}}
        listeners:
          - {{protocol: {protocol}, port: 80, server_group: web,
              connection_drain: 30s}}
    """
    with pytest.raises(SpecValidationError) as caught:
        load_spec_text(text)

    assert (
        "listeners[0].connection_drain: tcp and tls listeners take "
        f"connection_drain; this listener is {protocol}"
    ) in str(caught.value)
