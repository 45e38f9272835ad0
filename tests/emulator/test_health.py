"""DescribeHealthStatus through the official SDK."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
    on_listener,
    refused,
)


def health(client: Any, lb: str, **fields: Any) -> list[tuple[str, int, int, str]]:
    body = call(client, "DescribeHealthStatus", load_balancer_id=lb, **fields)
    return [
        (s.server_id, s.port, s.listener_port, s.server_health_status)
        for s in body.backend_servers.backend_server
    ]


def test_running_listener_reports_normal_backends(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, ("i-a", 8080, 100), ("i-b", 8080, 100))
    make_tcp_listener(client, lb, 80, vserver_group_id=group)
    on_listener(client, "StartLoadBalancerListener", lb, 80)

    assert health(client, lb) == [
        ("i-a", 8080, 80, "normal"),
        ("i-b", 8080, 80, "normal"),
    ]


def test_stopped_listener_and_check_off_are_unavailable(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, ("i-a", 8080, 100))
    make_tcp_listener(client, lb, 80, vserver_group_id=group)
    make_tcp_listener(client, lb, 81, vserver_group_id=group, health_check_switch="off")
    on_listener(client, "StartLoadBalancerListener", lb, 81)

    assert health(client, lb) == [
        ("i-a", 8080, 80, "unavailable"),
        ("i-a", 8080, 81, "unavailable"),
    ]


def test_override_from_the_control_api(emulator: Any, client: Any) -> None:
    emulator.seed_instances({"id": "i-a", "private_ip": "10.0.0.5"})
    lb = make_load_balancer(client)
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=json.dumps([{"ServerId": "i-a", "Weight": 100}]),
    )
    make_tcp_listener(client, lb, 80, backend_server_port=9000)
    make_tcp_listener(client, lb, 81, backend_server_port=9001)
    on_listener(client, "StartLoadBalancerListener", lb, 80)
    on_listener(client, "StartLoadBalancerListener", lb, 81)
    emulator.control(
        "PUT",
        "health",
        {"server_id": "i-a", "status": "abnormal", "port": 9000},
    )

    body = call(client, "DescribeHealthStatus", load_balancer_id=lb)

    entries = body.backend_servers.backend_server
    assert [(e.port, e.server_health_status) for e in entries] == [
        (9000, "abnormal"),
        (9001, "normal"),
    ]
    assert entries[0].server_ip == "10.0.0.5"
    assert entries[0].protocol == "tcp"
    assert health(client, lb, listener_port=81) == [("i-a", 9001, 81, "normal")]


def test_unknown_load_balancer_is_refused(client: Any) -> None:
    error = refused(client, "DescribeHealthStatus", load_balancer_id="lb-missing")
    assert error.code == "InvalidLoadBalancerId.NotFound"
