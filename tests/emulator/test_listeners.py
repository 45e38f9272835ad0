"""Listener actions through the official SDK: shapes, validation, state machine."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
    on_listener,
    refused,
)


@pytest.fixture
def lb(client: Any) -> str:
    return make_load_balancer(client)


def tcp_attribute(client: Any, lb_id: str, port: int = 80) -> Any:
    return call(
        client,
        "DescribeLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb_id,
        listener_port=port,
    )


# -- create and describe, per protocol --------------------------------------


def test_tcp_listener_is_created_stopped_with_its_knobs(client: Any, lb: str) -> None:
    make_tcp_listener(
        client,
        lb,
        443,
        scheduler="wlc",
        persistence_timeout=60,
        established_timeout=600,
        connection_drain="on",
        connection_drain_timeout=300,
        proxy_protocol_v2enabled=True,
        health_check_interval=4,
        health_check_connect_timeout=3,
        healthy_threshold=4,
        unhealthy_threshold=5,
        description="chat/ws",
    )

    body = tcp_attribute(client, lb, 443)

    assert body.status == "stopped"
    assert body.listener_port == 443
    assert body.backend_server_port == 8080
    assert body.scheduler == "wlc"
    assert body.persistence_timeout == 60
    assert body.established_timeout == 600
    assert (body.connection_drain, body.connection_drain_timeout) == ("on", 300)
    assert body.proxy_protocol_v2enabled is True
    assert body.health_check_interval == 4
    assert body.health_check_connect_timeout == 3
    assert (body.healthy_threshold, body.unhealthy_threshold) == (4, 5)
    assert body.description == "chat/ws"
    assert body.health_check == "on"


def test_udp_listener_reads_lower_case_probe_parameters(client: Any, lb: str) -> None:
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=53,
        bandwidth=-1,
        backend_server_port=5353,
        scheduler="qch",
        health_check_interval=7,
        health_check_req="ping",
        health_check_exp="pong",
    )

    body = call(
        client,
        "DescribeLoadBalancerUDPListenerAttribute",
        load_balancer_id=lb,
        listener_port=53,
    )

    assert body.scheduler == "qch"
    assert body.health_check_interval == 7
    assert (body.health_check_req, body.health_check_exp) == ("ping", "pong")
    assert body.proxy_protocol_v2enabled is False


def test_http_listener_with_sticky_session_and_group(client: Any, lb: str) -> None:
    group = make_vserver_group(client, lb, ("i-web1", 8080, 100))
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        vserver_group_id=group,
        health_check="on",
        health_check_uri="/healthz",
        health_check_method="get",
        health_check_http_code="http_2xx,http_3xx",
        sticky_session="on",
        sticky_session_type="insert",
        cookie_timeout=600,
        idle_timeout=30,
        request_timeout=90,
        xforwarded_for_proto="on",
    )

    body = call(
        client,
        "DescribeLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )

    assert body.vserver_group_id == group
    assert body.backend_server_port is None
    assert body.health_check_uri == "/healthz"
    assert body.health_check_method == "get"
    assert body.health_check_http_code == "http_2xx,http_3xx"
    assert (body.sticky_session, body.sticky_session_type) == ("on", "insert")
    assert body.cookie_timeout == 600
    assert (body.idle_timeout, body.request_timeout) == (30, 90)
    assert body.xforwarded_for == "on"
    assert body.xforwarded_for_proto == "on"
    assert body.rules.rule == []


def test_describe_with_the_wrong_protocol_is_not_found(client: Any, lb: str) -> None:
    make_tcp_listener(client, lb, 80)

    error = refused(
        client,
        "DescribeLoadBalancerUDPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )

    assert error.code == "InvalidParameter"
    assert "The specified resource does not exist." in error.message


# -- validation -------------------------------------------------------------


def test_missing_bandwidth_is_refused(client: Any, lb: str) -> None:
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
    )
    assert error.code == "MissingParameter"
    assert '"Bandwidth"' in error.message


def test_backend_port_needed_without_group(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
    )
    assert error.code == "MissingParameter"
    assert "BackendServerPort" in error.message


def test_http_listener_needs_health_check_switch(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
    )
    assert error.code == "MissingParameter"
    assert "HealthCheck" in error.message


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        ({"scheduler": "qch"}, "InvalidParameter", "Scheduler"),
        ({"persistence_timeout": 3601}, "InvalidParameter", "[0, 3600]"),
        ({"established_timeout": 5}, "InvalidParameter", "[10, 900]"),
        ({"health_check_interval": 51}, "InvalidParameter", "[1, 50]"),
        ({"healthy_threshold": 1}, "InvalidParameter", "[2, 10]"),
        ({"bandwidth": 0}, "InvalidParameter", "Bandwidth"),
        ({"health_check_http_code": "http_200"}, "InvalidParameter", "http_2xx"),
        ({"health_check_uri": "/"}, "InvalidParameter", "HealthCheckURI"),
        ({"connection_drain": "maybe"}, "InvalidParameter", "on, off"),
    ],
)
def test_tcp_knob_out_of_range_is_refused(
    client: Any, fields: dict[str, Any], code: str, text: str
) -> None:
    lb = make_load_balancer(client)
    fields.setdefault("bandwidth", -1)
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        **fields,
    )
    assert error.code == code
    assert text in error.message
    listed = call(client, "DescribeLoadBalancerListeners", load_balancer_id=[lb])
    assert listed.total_count == 0
    assert not listed.listeners


def test_sch_is_refused_on_http(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        health_check="off",
        scheduler="sch",
    )
    assert error.code == "InvalidParameter"
    assert "wrr, rr, wlc" in error.message


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"sticky_session": "on"}, "StickySessionType"),
        ({"sticky_session": "on", "sticky_session_type": "insert"}, "CookieTimeout"),
        ({"sticky_session": "on", "sticky_session_type": "server"}, "Cookie"),
        ({"listener_forward": "on"}, "ForwardPort"),
    ],
)
def test_http_sticky_session_and_redirect_rules(
    client: Any, fields: dict[str, Any], missing: str
) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        health_check="off",
        **fields,
    )
    assert error.code == "MissingParameter"
    assert f'"{missing}"' in error.message


def test_bad_cookie_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        health_check="off",
        sticky_session="on",
        sticky_session_type="server",
        cookie="$a;b",
    )
    assert error.code == "InvalidParameter"
    assert "Cookie" in error.message


def test_udp_probe_longer_than_64_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=53,
        bandwidth=-1,
        backend_server_port=53,
        health_check_req="a" * 65,
    )
    assert error.code == "InvalidParamLength.HealthCheckReq"


def test_port_is_unique_per_transport(client: Any, lb: str) -> None:
    make_tcp_listener(client, lb, 80)

    error = refused(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=80,
        health_check="off",
    )
    assert error.code == "ListenerAlreadyExists"
    assert "80" in error.message

    # UDP may share the port number with a TCP listener.
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        backend_server_port=80,
    )


def test_both_group_kinds_are_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        vserver_group_id=group,
        master_slave_server_group_id="rsp-other",
    )
    assert error.code == "Abs.VServerGroupIdAndMasterSlaveServerGroupId.MissMatch"


def test_group_of_another_load_balancer_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    other = make_load_balancer(client, "other")
    group = make_vserver_group(client, other)
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        vserver_group_id=group,
    )
    assert error.code == "VipNotMatchRspool"


def test_unknown_group_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        vserver_group_id="rsp-doesnotexist",
    )
    assert error.code == "InvalidParameter"
    assert "The specified VServerGroupId does not exist." in error.message


def test_unknown_load_balancer_is_refused(client: Any) -> None:
    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id="lb-missing",
        listener_port=80,
        bandwidth=-1,
        backend_server_port=80,
    )
    assert error.code == "InvalidLoadBalancerId.NotFound"


def test_listener_quota_is_fifty(client: Any) -> None:
    lb = make_load_balancer(client)
    for port in range(1, 51):
        make_tcp_listener(client, lb, port)

    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=51,
        bandwidth=-1,
        backend_server_port=80,
    )
    assert error.code == "ListenerNumberOverLimit"
    assert "50" in error.message


# -- set --------------------------------------------------------------------


def test_set_changes_only_what_it_names(client: Any, lb: str) -> None:
    make_tcp_listener(client, lb, 80, persistence_timeout=30)

    call(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
        health_check_interval=9,
        syn_proxy="enable",
    )

    body = tcp_attribute(client, lb)
    assert body.scheduler == "rr"
    assert body.health_check_interval == 9
    assert body.syn_proxy == "enable"
    assert body.persistence_timeout == 30


def test_set_switches_between_groups(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    make_tcp_listener(client, lb, 80)

    call(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        vserver_group="on",
        vserver_group_id=group,
    )
    assert tcp_attribute(client, lb).vserver_group_id == group

    call(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        vserver_group="off",
    )
    assert tcp_attribute(client, lb).vserver_group_id is None


def test_refused_set_changes_nothing(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)

    error = refused(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
        acl_status="on",
    )

    assert error.code == "MissingParameter"
    assert "AclId" in error.message
    assert tcp_attribute(client, lb).scheduler == "wrr"


def test_dry_run_validates_without_changing(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)

    error = refused(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
        dry_run=True,
    )

    assert error.code == "DryRunOperation"
    assert tcp_attribute(client, lb).scheduler == "wrr"


def test_acl_binding_is_checked_against_the_store(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)
    acl_id = call(client, "CreateAccessControlList", acl_name="office").acl_id

    error = refused(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        acl_status="on",
        acl_type="white",
        acl_id="acl-missing",
    )
    assert error.code == "AclNotExist"

    call(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        acl_status="on",
        acl_type="white",
        acl_id=acl_id,
    )
    body = tcp_attribute(client, lb)
    assert (body.acl_status, body.acl_type, body.acl_id) == ("on", "white", acl_id)
    assert body.acl_ids.acl_id == [acl_id]


# -- start, stop, delete ----------------------------------------------------


def test_listener_state_machine(client: Any, lb: str) -> None:
    make_tcp_listener(client, lb, 80)
    assert tcp_attribute(client, lb).status == "stopped"

    call(client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80)
    assert tcp_attribute(client, lb).status == "running"

    error = refused(
        client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80
    )
    assert error.code == "Operation.NotAllowed"
    assert "not allowed to operate" in error.message

    call(client, "StopLoadBalancerListener", load_balancer_id=lb, listener_port=80)
    assert tcp_attribute(client, lb).status == "stopped"


@pytest.mark.parametrize("running", [True, False])
def test_delete_from_either_state(client: Any, running: bool) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)
    make_tcp_listener(client, lb, 81)
    if running:
        on_listener(client, "StartLoadBalancerListener", lb, 80)

    on_listener(client, "DeleteLoadBalancerListener", lb, 80)

    error = refused(
        client,
        "DescribeLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )
    assert error.code == "InvalidParameter"
    assert tcp_attribute(client, lb, 81).listener_port == 81


def test_last_listener_deleted_makes_load_balancer_inactive(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)

    on_listener(client, "DeleteLoadBalancerListener", lb, 80)

    body = call(client, "DescribeLoadBalancerAttribute", load_balancer_id=lb)
    assert body.load_balancer_status == "inactive"


def test_shared_port_needs_the_protocol(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)
    call(
        client,
        "CreateLoadBalancerUDPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        backend_server_port=80,
    )

    error = refused(
        client, "DeleteLoadBalancerListener", load_balancer_id=lb, listener_port=80
    )
    assert error.code == "TooManyListeners"

    call(
        client,
        "DeleteLoadBalancerListener",
        load_balancer_id=lb,
        listener_port=80,
        listener_protocol="udp",
    )
    assert tcp_attribute(client, lb).listener_port == 80


def test_delete_load_balancer_takes_its_listeners(client: Any) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)

    call(client, "DeleteLoadBalancer", load_balancer_id=lb)

    listed = call(client, "DescribeLoadBalancerListeners", load_balancer_id=[lb])
    assert listed.total_count == 0


# -- the configuring window -------------------------------------------------


def test_writes_inside_the_configuring_window_are_refused(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    emulator.set_faults(configuring_ms=60_000)
    make_tcp_listener(client, lb, 80)

    # Create then start works at once, as clients expect; starting opens it.
    on_listener(client, "StartLoadBalancerListener", lb, 80)
    stop = refused(
        client, "StopLoadBalancerListener", load_balancer_id=lb, listener_port=80
    )
    assert (stop.code, stop.status_code) == ("ServiceIsConfiguring", 400)
    assert "The specified service is configuring." in stop.message

    update = refused(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
    )
    assert update.code == "OperationFailed.ListenerStatusNotSupport"
    assert "try again later" in update.message

    # Reads are never refused, and the window closing lets writes through.
    assert tcp_attribute(client, lb).status == "running"
    emulator.set_faults(configuring_ms=0)
    on_listener(client, "StopLoadBalancerListener", lb, 80)
