"""DescribeLoadBalancerListeners, HTTPS listeners, redirects and listener rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
    on_listener,
    refused,
    upload_server_certificate,
)


def list_listeners(client: Any, **fields: Any) -> Any:
    return call(
        client, "DescribeLoadBalancerListeners", region_id="cn-hangzhou", **fields
    )


def make_https_listener(client: Any, lb: str, port: int = 443, **fields: Any) -> str:
    cert_id = upload_server_certificate(client)
    call(
        client,
        "CreateLoadBalancerHTTPSListener",
        load_balancer_id=lb,
        listener_port=port,
        bandwidth=-1,
        backend_server_port=8443,
        health_check="on",
        server_certificate_id=cert_id,
        **fields,
    )
    return cert_id


def test_every_protocol_comes_with_its_full_config(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(
        client, lb, 80, connection_drain="on", connection_drain_timeout=60
    )
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=53,
        bandwidth=-1,
        backend_server_port=53,
        health_check_req="hi",
        health_check_exp="ok",
    )
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=8080,
        backend_server_port=8080,
        health_check="on",
        health_check_uri="/ping",
        gzip="off",
    )
    cert_id = make_https_listener(
        client, lb, tlscipher_policy="tls_cipher_policy_1_2", enable_http_2="off"
    )

    body = list_listeners(client, load_balancer_id=[lb])

    assert body.total_count == 4
    by_port = {entry.listener_port: entry for entry in body.listeners}
    assert [entry.listener_protocol for entry in body.listeners] == [
        "udp",
        "tcp",
        "https",
        "http",
    ]
    tcp = by_port[80].tcplistener_config
    assert (tcp.connection_drain, tcp.connection_drain_timeout) == ("on", 60)
    assert tcp.proxy_protocol_v2enabled == "false"
    assert tcp.health_check == "on"
    udp = by_port[53].udplistener_config
    assert (udp.health_check_req, udp.health_check_exp) == ("hi", "ok")
    http = by_port[8080].httplistener_config
    assert (http.health_check_uri, http.gzip) == ("/ping", "off")
    assert http.listener_forward == "off"
    https = by_port[443].httpslistener_config
    assert https.server_certificate_id == cert_id
    assert https.tlscipher_policy == "tls_cipher_policy_1_2"
    assert https.enable_http_2 == "off"
    assert by_port[80].status == "stopped"
    assert by_port[80].backend_server_port == 8080
    assert by_port[80].tags == []


def test_paging_with_next_token(client: Any) -> None:
    lb = make_load_balancer(client)
    for port in range(1, 6):
        make_tcp_listener(client, lb, port)

    seen = []
    token = None
    for _ in range(5):
        page = list_listeners(
            client, load_balancer_id=[lb], max_results=2, next_token=token
        )
        assert page.total_count == 5
        assert page.max_results == 2
        seen += [entry.listener_port for entry in page.listeners]
        token = page.next_token
        if not token:
            break

    assert seen == [1, 2, 3, 4, 5]


def test_default_page_holds_twenty(client: Any) -> None:
    lb = make_load_balancer(client)
    for port in range(1, 23):
        make_tcp_listener(client, lb, port)

    page = list_listeners(client, load_balancer_id=[lb])

    assert len(page.listeners) == 20
    assert page.max_results == 20
    assert page.next_token


def test_filters_by_protocol_port_and_description(client: Any) -> None:
    lb = make_load_balancer(client)
    other = make_load_balancer(client, "other")
    make_tcp_listener(client, lb, 80, description="web")
    make_tcp_listener(client, lb, 81)
    make_tcp_listener(client, other, 80)
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        backend_server_port=80,
    )

    by_protocol = list_listeners(client, load_balancer_id=[lb], listener_protocol="udp")
    by_port = list_listeners(client, load_balancer_id=[lb], listener_port=80)
    by_text = list_listeners(client, description="web")
    both = list_listeners(client, load_balancer_id=[lb, other])

    assert [e.listener_protocol for e in by_protocol.listeners] == ["udp"]
    assert by_port.total_count == 2
    assert [(e.load_balancer_id, e.listener_port) for e in by_text.listeners] == [
        (lb, 80)
    ]
    assert both.total_count == 4


def test_filter_by_tag(client: Any) -> None:
    from alibabacloud_slb20140515 import models

    lb = make_load_balancer(client)
    tag = models.CreateLoadBalancerTCPListenerRequestTag(key="app", value="chat")
    make_tcp_listener(client, lb, 80, tag=[tag])
    make_tcp_listener(client, lb, 81)

    wanted = models.DescribeLoadBalancerListenersRequestTag(key="app", value="chat")
    body = list_listeners(client, load_balancer_id=[lb], tag=[wanted])

    assert [entry.listener_port for entry in body.listeners] == [80]
    assert body.listeners[0].tags[0].tag_key == "app"


def test_more_than_ten_load_balancer_ids_is_refused(client: Any) -> None:
    ids = [f"lb-{n}" for n in range(11)]
    error = refused(client, "DescribeLoadBalancerListeners", load_balancer_id=ids)
    assert error.code == "InvalidParameter"
    assert "At most 10" in error.message


@pytest.mark.parametrize("max_results", [0, 101])
def test_max_results_out_of_range_is_refused(client: Any, max_results: int) -> None:
    error = refused(client, "DescribeLoadBalancerListeners", max_results=max_results)
    assert error.code == "InvalidParameter"
    assert "MaxResults" in error.message


def test_bad_next_token_is_refused(client: Any) -> None:
    error = refused(client, "DescribeLoadBalancerListeners", next_token="nope")
    assert error.code == "InvalidParameter"
    assert "NextToken" in error.message


def test_https_attribute_and_certificate_checks(client: Any) -> None:
    lb = make_load_balancer(client)
    cert_id = make_https_listener(client, lb)

    body = call(
        client,
        "DescribeLoadBalancerHTTPSListenerAttribute",
        load_balancer_id=lb,
        listener_port=443,
    )
    assert body.server_certificate_id == cert_id
    assert body.tlscipher_policy == "tls_cipher_policy_1_0"
    assert body.enable_http_2 == "on"
    assert body.domain_extensions.domain_extension == []

    missing = refused(
        client,
        "CreateLoadBalancerHTTPSListener",
        load_balancer_id=lb,
        listener_port=8443,
        bandwidth=-1,
        backend_server_port=8443,
        health_check="off",
    )
    assert missing.code == "MissingParameter"
    assert "ServerCertificateId" in missing.message

    unknown = refused(
        client,
        "CreateLoadBalancerHTTPSListener",
        load_balancer_id=lb,
        listener_port=8443,
        bandwidth=-1,
        backend_server_port=8443,
        health_check="off",
        server_certificate_id="123-cn-hangzhou",
    )
    assert unknown.code == "ServerCertificateId.NotFound"


def test_http_redirect_points_at_an_https_listener(client: Any) -> None:
    lb = make_load_balancer(client)
    fields = {
        "load_balancer_id": lb,
        "listener_port": 80,
        "health_check": "off",
        "listener_forward": "on",
        "forward_port": 443,
    }

    error = refused(client, "CreateLoadBalancerHTTPListener", **fields)
    assert error.code == "InvalidParameter"
    assert "ForwardPort" in error.message

    make_https_listener(client, lb)
    call(client, "CreateLoadBalancerHTTPListener", **fields)
    body = call(
        client,
        "DescribeLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )
    assert (body.listener_forward, body.forward_port) == ("on", 443)


def test_rules_show_on_the_listener_and_go_with_it(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        health_check="off",
    )
    rule = {"RuleName": "api", "Url": "/api", "VServerGroupId": group}
    call(
        client,
        "CreateRules",
        load_balancer_id=lb,
        listener_port=80,
        rule_list=json.dumps([rule]),
    )

    body = call(
        client,
        "DescribeLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )
    assert [(r.rule_name, r.url) for r in body.rules.rule] == [("api", "/api")]

    on_listener(client, "DeleteLoadBalancerListener", lb, 80)
    call(client, "DeleteVServerGroup", vserver_group_id=group)


def test_https_attribute_lists_domain_extensions(client: Any) -> None:
    lb = make_load_balancer(client)
    make_https_listener(client, lb)
    extra_cert = upload_server_certificate(client)
    created = call(
        client,
        "CreateDomainExtension",
        load_balancer_id=lb,
        listener_port=443,
        domain="api.example.com",
        server_certificate_id=extra_cert,
    )

    body = call(
        client,
        "DescribeLoadBalancerHTTPSListenerAttribute",
        load_balancer_id=lb,
        listener_port=443,
    )

    extensions = body.domain_extensions.domain_extension
    assert [(e.domain, e.server_certificate_id) for e in extensions] == [
        ("api.example.com", extra_cert)
    ]
    assert extensions[0].domain_extension_id == created.domain_extension_id
