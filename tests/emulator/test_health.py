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
    servers_json,
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


def make_http_listener_with_rules(client: Any, lb: str, *groups: str) -> list[str]:
    """An HTTP listener on 80 over the default group, one rule per group."""
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=8080,
        bandwidth=-1,
        health_check="on",
        health_check_uri="/healthz",
    )
    rule_list = [
        {"RuleName": f"r{n}", "Url": f"/r{n}", "VServerGroupId": group}
        for n, group in enumerate(groups)
    ]
    body = call(
        client,
        "CreateRules",
        load_balancer_id=lb,
        listener_port=80,
        rule_list=json.dumps(rule_list),
    )
    return [rule.rule_id for rule in body.rules.rule]


def test_members_of_rule_groups_are_reported(emulator: Any, client: Any) -> None:
    emulator.seed_instances({"id": "i-api", "private_ip": "10.0.0.7"})
    lb = make_load_balancer(client)
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=json.dumps([{"ServerId": "i-web", "Weight": 100}]),
    )
    # i-web:8080 is reached both ways and is reported once.
    api = make_vserver_group(client, lb, ("i-api", 9000, 100), ("i-web", 8080, 100))
    make_http_listener_with_rules(client, lb, api)
    on_listener(client, "StartLoadBalancerListener", lb, 80)
    emulator.control(
        "PUT", "health", {"server_id": "i-api", "status": "abnormal", "port": 9000}
    )

    body = call(client, "DescribeHealthStatus", load_balancer_id=lb, listener_port=80)

    entries = body.backend_servers.backend_server
    assert [
        (e.server_id, e.port, e.listener_port, e.protocol, e.server_health_status)
        for e in entries
    ] == [
        ("i-web", 8080, 80, "http", "normal"),
        ("i-api", 9000, 80, "http", "abnormal"),
    ]
    assert entries[1].server_ip == "10.0.0.7"


def test_rule_group_member_follows_its_rule_health_check(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    api = make_vserver_group(client, lb, ("i-api", 9000, 100))
    static = make_vserver_group(client, lb, ("i-static", 9100, 100))
    rule_ids = make_http_listener_with_rules(client, lb, api, static)
    on_listener(client, "StartLoadBalancerListener", lb, 80)
    call(
        client,
        "SetRule",
        rule_id=rule_ids[1],
        listener_sync="off",
        health_check="off",
    )

    assert health(client, lb) == [
        ("i-api", 9000, 80, "normal"),
        ("i-static", 9100, 80, "unavailable"),
    ]

    # A member added to a rule's group shows up at once.
    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=api,
        backend_servers=servers_json(("i-api2", 9000, 100)),
    )
    assert ("i-api2", 9000, 80, "normal") in health(client, lb)
