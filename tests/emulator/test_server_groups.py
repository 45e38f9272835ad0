"""VServer group actions through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_slb20140515 import models

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
    refused,
    servers_json,
)


def members(client: Any, group: str) -> list[tuple[str, int, int]]:
    body = call(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    return [
        (s.server_id, s.port, s.weight) for s in body.backend_servers.backend_server
    ]


def test_create_and_describe_a_group(client: Any) -> None:
    lb = make_load_balancer(client)
    tag = models.CreateVServerGroupRequestTag(key="app", value="chat")
    created = call(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb,
        vserver_group_name="ws-nodes",
        backend_servers=servers_json(("i-a", 8080, 100), ("i-b", 8080, 50)),
        tag=[tag],
    )
    group = created.vserver_group_id
    assert group.startswith("rsp-")
    assert [s.weight for s in created.backend_servers.backend_server] == [100, 50]

    body = call(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    assert body.vserver_group_name == "ws-nodes"
    assert body.load_balancer_id == lb
    assert body.create_time.endswith("Z")
    assert [(t.tag_key, t.tag_value) for t in body.tags.tag] == [("app", "chat")]
    first = body.backend_servers.backend_server[0]
    assert (first.server_id, first.port, first.weight, first.type) == (
        "i-a",
        8080,
        100,
        "ecs",
    )


def test_list_groups_with_associated_objects(client: Any) -> None:
    lb = make_load_balancer(client)
    used = make_vserver_group(client, lb, ("i-a", 80, 100))
    idle = make_vserver_group(client, lb)
    make_tcp_listener(client, lb, 443, vserver_group_id=used)

    body = call(
        client,
        "DescribeVServerGroups",
        load_balancer_id=lb,
        include_listener=True,
        include_rule=True,
    )

    entries = {g.vserver_group_id: g for g in body.vserver_groups.vserver_group}
    assert set(entries) == {used, idle}
    assert entries[used].server_count == 1
    listeners = entries[used].associated_objects.listeners.listener
    assert [(item.port, item.protocol) for item in listeners] == [(443, "tcp")]
    assert entries[idle].associated_objects.listeners.listener == []
    assert entries[idle].associated_objects.rules.rule == []


def test_list_without_include_has_no_associated_objects(client: Any) -> None:
    lb = make_load_balancer(client)
    make_vserver_group(client, lb)

    body = call(client, "DescribeVServerGroups", load_balancer_id=lb)

    assert body.vserver_groups.vserver_group[0].associated_objects is None


def test_add_remove_modify_and_set(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, ("i-a", 80, 100))

    added = call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-b", 80, 100), ("i-a", 80, 100)),
    )
    assert added.vserver_group_id == group
    assert members(client, group) == [("i-a", 80, 100), ("i-b", 80, 100)]

    call(
        client,
        "SetVServerGroupAttribute",
        vserver_group_id=group,
        vserver_group_name="renamed",
        backend_servers=servers_json(("i-b", 80, 0)),
    )
    assert members(client, group) == [("i-a", 80, 100), ("i-b", 80, 0)]

    call(
        client,
        "ModifyVServerGroupBackendServers",
        vserver_group_id=group,
        old_backend_servers=servers_json(("i-a", 80, 100)),
        new_backend_servers=servers_json(("i-c", 81, 30)),
    )
    assert members(client, group) == [("i-b", 80, 0), ("i-c", 81, 30)]

    removed = call(
        client,
        "RemoveVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-b", 80, 0), ("i-absent", 80, 100)),
    )
    assert [s.server_id for s in removed.backend_servers.backend_server] == ["i-c"]
    body = call(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    assert body.vserver_group_name == "renamed"


def test_lenient_json_single_quotes_and_string_numbers(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)

    # What Terraform's provider sends.
    terraform_style = "[{'ServerId':'i-x','Port':'80','Weight':'100', 'Type': 'ecs'}]"
    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=terraform_style,
    )

    assert members(client, group) == [("i-x", 80, 100)]


def test_empty_backend_servers_string_changes_nothing(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, ("i-a", 80, 100))

    body = call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers="",
    )

    assert [s.server_id for s in body.backend_servers.backend_server] == ["i-a"]


def test_more_than_twenty_servers_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    twenty = [(f"i-{n}", 80, 100) for n in range(20)]
    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(*twenty),
    )

    error = refused(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(*[(f"i-x{n}", 80, 100) for n in range(21)]),
    )

    assert error.code == "TooManyBackendServers"
    assert "max supported number: 20" in error.message
    assert len(members(client, group)) == 20


@pytest.mark.parametrize(
    ("servers", "code", "text"),
    [
        ([{"ServerId": "i-a", "Port": 0}], "InvalidParameter", "[1, 65535]"),
        (
            [{"ServerId": "i-a", "Port": 80, "Weight": 101}],
            "InvalidWeight.Malformed",
            "",
        ),
        ([{"ServerId": "i-a"}], "InvalidParameter", "Port is required"),
        ([{"Port": 80}], "InvalidParameter", "ServerId is required"),
        (
            [{"ServerId": "eni-a", "Port": 80, "Type": "eni"}],
            "InvalidParameter",
            "ServerIp",
        ),
        (
            [{"ServerId": "i-a", "Port": 80, "Type": "vm"}],
            "InvalidParameter",
            "ecs, eni",
        ),
        (
            [{"ServerId": "i-a", "Port": 80}, {"ServerId": "i-a", "Port": 80}],
            "InvalidParameter",
            "more than once",
        ),
    ],
)
def test_bad_backend_servers_are_refused(
    client: Any, servers: list[dict[str, Any]], code: str, text: str
) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)

    error = refused(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=json.dumps(servers),
    )

    assert error.code == code
    assert text in error.message
    assert members(client, group) == []


def test_malformed_json_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb,
        backend_servers="[{ServerId: i-a",
    )
    assert error.code == "BackendServersMalformed"


def test_stopped_instance_is_refused(emulator: Any, client: Any) -> None:
    emulator.seed_instances({"id": "i-stopped", "status": "Stopped"})
    lb = make_load_balancer(client)

    error = refused(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb,
        backend_servers=servers_json(("i-stopped", 80, 100)),
    )

    assert error.code == "ObtainIpFail"


def test_set_refuses_servers_not_in_the_group(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, ("i-a", 80, 100))

    error = refused(
        client,
        "SetVServerGroupAttribute",
        vserver_group_id=group,
        backend_servers=servers_json(("i-a", 80, 10), ("i-z", 80, 10)),
    )

    assert error.code == "InvalidParameter"
    assert "i-z:80 is not in the group" in error.message
    assert members(client, group) == [("i-a", 80, 100)]


def test_delete_refused_while_a_listener_uses_it(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    make_tcp_listener(client, lb, 80, vserver_group_id=group)

    error = refused(client, "DeleteVServerGroup", vserver_group_id=group)
    assert error.code == "RspoolVipExist"

    call(client, "DeleteLoadBalancerListener", load_balancer_id=lb, listener_port=80)
    call(client, "DeleteVServerGroup", vserver_group_id=group)
    gone = refused(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    assert gone.code == "InvalidParameter"
    assert "The specified VServerGroupId does not exist." in gone.message


def test_delete_refused_while_a_rule_uses_it(client: Any) -> None:
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
    rule = {"RuleName": "api", "Domain": "chat.example.com", "VServerGroupId": group}
    call(
        client,
        "CreateRules",
        load_balancer_id=lb,
        listener_port=80,
        rule_list=json.dumps([rule]),
    )

    error = refused(client, "DeleteVServerGroup", vserver_group_id=group)

    assert error.code == "RspoolRuleExist"


def test_group_writes_in_the_processing_window(emulator: Any, client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    emulator.set_faults(configuring_ms=60_000)
    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-a", 80, 100)),
    )

    error = refused(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-b", 80, 100)),
    )

    assert error.code == "VServerGroupProcessing"
    assert members(client, group) == [("i-a", 80, 100)]


def test_delete_load_balancer_takes_its_groups(client: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)

    call(client, "DeleteLoadBalancer", load_balancer_id=lb)

    error = refused(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    assert error.code == "InvalidParameter"


def test_group_name_rules(client: Any) -> None:
    lb = make_load_balancer(client)

    error = refused(
        client, "CreateVServerGroup", load_balancer_id=lb, vserver_group_name="a b"
    )

    assert error.code == "InvalidParameter"
    assert "VServerGroupName" in error.message
    listed = call(client, "DescribeVServerGroups", load_balancer_id=lb)
    assert listed.vserver_groups.vserver_group == []


def test_member_change_puts_listeners_of_the_group_in_their_window(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    other = make_vserver_group(client, lb)
    make_tcp_listener(client, lb, 80, vserver_group_id=group)
    make_tcp_listener(client, lb, 81, vserver_group_id=other)
    emulator.set_faults(configuring_ms=60_000)

    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-a", 80, 100)),
    )

    error = refused(
        client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80
    )
    assert (error.code, error.status_code) == ("ServiceIsConfiguring", 400)
    assert "The specified service is configuring." in error.message
    # A listener forwarding to another group is not touched.
    call(client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=81)


def test_member_write_that_changes_nothing_opens_no_window(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    make_tcp_listener(client, lb, 80, vserver_group_id=group)
    emulator.set_faults(configuring_ms=60_000)

    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers="",
    )

    call(client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80)
