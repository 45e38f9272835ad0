"""Set*ListenerAttribute for UDP, HTTP and HTTPS through the official SDK.

Each set answers a body the SDK can parse, with a RequestId, and the change
shows in the protocol's Describe*ListenerAttribute; knobs it does not name
keep their values, and a refused set changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    refused,
    upload_server_certificate,
)


@pytest.fixture
def lb(client: Any) -> str:
    return make_load_balancer(client)


def describe(client: Any, protocol: str, lb_id: str, port: int) -> Any:
    return call(
        client,
        f"DescribeLoadBalancer{protocol}ListenerAttribute",
        load_balancer_id=lb_id,
        listener_port=port,
    )


def set_attribute(
    client: Any, protocol: str, lb_id: str, port: int, **fields: Any
) -> Any:
    body = call(
        client,
        f"SetLoadBalancer{protocol}ListenerAttribute",
        load_balancer_id=lb_id,
        listener_port=port,
        **fields,
    )
    assert body.request_id, "every answer carries a RequestId"
    return body


def test_udp_set_changes_the_probe_and_scheduler(client: Any, lb: str) -> None:
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=53,
        bandwidth=-1,
        backend_server_port=5353,
        health_check_req="ping",
        health_check_exp="pong",
    )

    set_attribute(
        client,
        "UDP",
        lb,
        53,
        scheduler="rr",
        health_check_req="hello",
        health_check_exp="world",
        health_check_interval=11,
        unhealthy_threshold=6,
    )

    body = describe(client, "UDP", lb, 53)
    assert body.scheduler == "rr"
    assert (body.health_check_req, body.health_check_exp) == ("hello", "world")
    assert body.health_check_interval == 11
    assert body.unhealthy_threshold == 6
    assert body.backend_server_port == 5353  # not named, so kept
    assert body.status == "stopped"


def test_udp_set_refuses_a_bad_probe_and_changes_nothing(client: Any, lb: str) -> None:
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=53,
        bandwidth=-1,
        backend_server_port=53,
    )

    error = refused(
        client,
        "SetLoadBalancerUDPListenerAttribute",
        load_balancer_id=lb,
        listener_port=53,
        scheduler="rr",
        health_check_req="no spaces",
    )

    assert (error.code, error.status_code) == ("InvalidParameter", 400)
    assert "HealthCheckReq" in error.message
    assert describe(client, "UDP", lb, 53).scheduler == "wrr"


def _make_http_listener(client: Any, lb: str) -> None:
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        backend_server_port=8080,
        health_check="on",
        health_check_uri="/healthz",
    )


def test_http_set_changes_health_check_stickiness_and_headers(
    client: Any, lb: str
) -> None:
    _make_http_listener(client, lb)

    set_attribute(
        client,
        "HTTP",
        lb,
        80,
        health_check_uri="/ready",
        health_check_http_code="http_2xx",
        sticky_session="on",
        sticky_session_type="server",
        cookie="session_id",
        idle_timeout=45,
        xforwarded_for_proto="on",
        scheduler="wlc",
    )

    body = describe(client, "HTTP", lb, 80)
    assert body.health_check_uri == "/ready"
    assert body.health_check_http_code == "http_2xx"
    assert (body.sticky_session, body.sticky_session_type) == ("on", "server")
    assert body.cookie == "session_id"
    assert body.idle_timeout == 45
    assert body.xforwarded_for_proto == "on"
    assert body.scheduler == "wlc"
    assert body.backend_server_port == 8080


def test_http_set_refuses_a_hash_scheduler(client: Any, lb: str) -> None:
    _make_http_listener(client, lb)

    error = refused(
        client,
        "SetLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="sch",
        idle_timeout=10,
    )

    assert error.code == "InvalidParameter"
    assert "Scheduler" in error.message
    body = describe(client, "HTTP", lb, 80)
    assert (body.scheduler, body.idle_timeout) == ("wrr", 15)


def _make_https_listener(client: Any, lb: str) -> str:
    cert_id = upload_server_certificate(client)
    call(
        client,
        "CreateLoadBalancerHTTPSListener",
        load_balancer_id=lb,
        listener_port=443,
        bandwidth=-1,
        backend_server_port=8443,
        health_check="on",
        server_certificate_id=cert_id,
    )
    return cert_id


def test_https_set_swaps_the_certificate_and_tls_settings(client: Any, lb: str) -> None:
    first = _make_https_listener(client, lb)
    second = upload_server_certificate(client)
    assert second != first

    set_attribute(
        client,
        "HTTPS",
        lb,
        443,
        server_certificate_id=second,
        enable_http_2="off",
        tlscipher_policy="tls_cipher_policy_1_2",
        request_timeout=120,
    )

    body = describe(client, "HTTPS", lb, 443)
    assert body.server_certificate_id == second
    assert body.enable_http_2 == "off"
    assert body.tlscipher_policy == "tls_cipher_policy_1_2"
    assert body.request_timeout == 120
    assert body.backend_server_port == 8443


def test_https_set_refuses_an_unknown_certificate(client: Any, lb: str) -> None:
    cert_id = _make_https_listener(client, lb)

    error = refused(
        client,
        "SetLoadBalancerHTTPSListenerAttribute",
        load_balancer_id=lb,
        listener_port=443,
        server_certificate_id="123-cn-hangzhou",
        enable_http_2="off",
    )

    assert (error.code, error.status_code) == ("ServerCertificateId.NotFound", 404)
    assert "The specified ServerCertificateId does not exist." in error.message
    body = describe(client, "HTTPS", lb, 443)
    assert (body.server_certificate_id, body.enable_http_2) == (cert_id, "on")
