"""Network load balancers (TCP, UDP, source hash, drain, PROXY protocol) and
HTTPS by certificate ARN with an HTTP redirect, against mock_aws."""

from __future__ import annotations

import boto3

from tests.targets.aws_elbv2.conftest import (
    REGION,
    Vpc,
    actions,
    converge,
    load_spec_text,
    spec_yaml,
)


def attributes(aws: Vpc, name: str) -> dict[str, str]:
    arn = aws.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    found = aws.elbv2.describe_target_group_attributes(TargetGroupArn=arn)
    return {item["Key"]: item["Value"] for item in found["Attributes"]}


def network_spec(aws: Vpc, tcp: str = "", ips: tuple[str, ...] = ()) -> str:
    members = (
        "".join(f"\n                  - {{address: {ip}, port: 8080}}" for ip in ips)
        or " []"
    )
    return spec_yaml(
        f"""
        load_balancers:
          gateway:
            target: aws
            address_type: intranet
            subnets: [{aws.subnets[0]}]
            server_groups:
              ws:
                servers:
                  - {{id: {aws.instances[0]}, port: 8080}}
                  - {{id: {aws.instances[1]}, port: 8080}}
              voice:
                servers:{members}
            listeners:
              - {{protocol: tcp, port: 443, server_group: ws,
                  health_check: {{interval: 10s, timeout: 5s}}, {tcp}}}
              - {{protocol: udp, port: 3478, server_group: voice,
                  health_check: {{interval: 10s, timeout: 5s}}}}
        """
    )


def test_network_load_balancer_maps_source_hash_drain_and_proxy_protocol(aws, target):
    knobs = "scheduler: source_hash, connection_drain: 120s, proxy_protocol: true"

    changes = converge(
        target, load_spec_text(network_spec(aws, knobs, ips=("10.0.1.20",)))
    )

    lb = aws.elbv2.describe_load_balancers(Names=["gateway"])["LoadBalancers"][0]
    assert lb["Type"] == "network"
    assert lb["Scheme"] == "internal"
    ws = attributes(aws, "gateway-ws")
    assert ws["stickiness.enabled"] == "true"
    assert ws["stickiness.type"] == "source_ip"
    assert ws["deregistration_delay.timeout_seconds"] == "120"
    assert ws["proxy_protocol_v2.enabled"] == "true"
    voice = aws.elbv2.describe_target_groups(Names=["gateway-voice"])["TargetGroups"]
    assert voice[0]["Protocol"] == "UDP"
    assert voice[0]["TargetType"] == "ip"
    assert voice[0]["HealthCheckProtocol"] == "TCP"  # AWS checks UDP over TCP
    assert actions(changes).count("CreateTargetGroup") == 2


def test_drain_off_means_no_deregistration_delay(aws, target):
    converge(target, load_spec_text(network_spec(aws, "connection_drain: 300s")))

    changes = converge(target, load_spec_text(network_spec(aws)))

    assert actions(changes) == ["ModifyTargetGroupAttributes"]
    assert attributes(aws, "gateway-ws")["deregistration_delay.timeout_seconds"] == "0"


def test_https_by_certificate_arn_and_http_redirect(aws, target):
    acm = boto3.client("acm", region_name=REGION)
    arn = acm.request_certificate(DomainName="chat.example.com")["CertificateArn"]
    text = spec_yaml(
        f"""
        load_balancers:
          web:
            target: aws
            subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
            server_groups:
              app:
                servers: [{{id: {aws.instances[0]}, port: 8080}}]
            listeners:
              - {{protocol: https, port: 443, server_group: app, certificate: {arn},
                  health_check: {{type: http, interval: 10s}}}}
              - {{protocol: http, port: 80, redirect_to_port: 443}}
        """
    )

    converge(target, load_spec_text(text))

    lb = aws.elbv2.describe_load_balancers(Names=["web"])["LoadBalancers"][0]
    listeners = aws.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])
    by_port = {item["Port"]: item for item in listeners["Listeners"]}
    assert by_port[443]["Certificates"][0]["CertificateArn"] == arn
    redirect = by_port[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Port"] == "443"


def test_tls_listener_ends_tls_and_forwards_tcp(aws, target):
    acm = boto3.client("acm", region_name=REGION)
    arn = acm.request_certificate(DomainName="im.example.com")["CertificateArn"]
    text = spec_yaml(
        f"""
        load_balancers:
          im:
            target: aws
            subnets: [{aws.subnets[0]}]
            server_groups:
              ws:
                servers: [{{id: {aws.instances[0]}, port: 8080}}]
            listeners:
              - {{protocol: tls, port: 443, server_group: ws, certificate: {arn},
                  connection_drain: 60s, health_check: {{interval: 10s}}}}
        """
    )

    converge(target, load_spec_text(text))

    lb = aws.elbv2.describe_load_balancers(Names=["im"])["LoadBalancers"][0]
    assert lb["Type"] == "network"
    listener = aws.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ][0]
    assert listener["Protocol"] == "TLS"
    assert listener["Certificates"][0]["CertificateArn"] == arn
    group = aws.elbv2.describe_target_groups(Names=["im-ws"])["TargetGroups"][0]
    assert group["Protocol"] == "TCP"
    assert attributes(aws, "im-ws")["deregistration_delay.timeout_seconds"] == "60"


def application_spec(aws: Vpc, drain: str) -> str:
    return spec_yaml(
        f"""
        load_balancers:
          chat:
            target: aws
            subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
            server_groups:
              ws:
                servers: [{{id: {aws.instances[0]}, port: 8080}}]
            listeners:
              - {{protocol: http, port: 80, server_group: ws,
                  connection_drain: {drain},
                  health_check: {{type: http, interval: 10s}}}}
        """
    )


def test_application_listener_drain_is_the_deregistration_delay(aws, target):
    converge(target, load_spec_text(application_spec(aws, "30s")))
    assert attributes(aws, "chat-ws")["deregistration_delay.timeout_seconds"] == "30"

    changes = converge(target, load_spec_text(application_spec(aws, "5m")))

    assert [(c.op.value, c.address.name, c.action) for c in changes] == [
        ("update", "http/80", "ModifyTargetGroupAttributes")
    ]
    assert [(f.field, f.old, f.new) for f in changes[0].fields] == [
        ("connection_drain", 30, 300)
    ]
    assert attributes(aws, "chat-ws")["deregistration_delay.timeout_seconds"] == "300"


def test_udp_listener_drain_is_the_deregistration_delay(aws, target):
    text = network_spec(aws, ips=("10.0.1.20",)).replace(
        "port: 3478, server_group: voice,",
        "port: 3478, server_group: voice, connection_drain: 20s,",
    )

    converge(target, load_spec_text(text))

    delay = attributes(aws, "gateway-voice")["deregistration_delay.timeout_seconds"]
    assert delay == "20"
