"""Master-slave server groups through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    refused,
)

MASTER = {"ServerId": "i-a", "Port": 80, "Weight": 100, "ServerType": "Master"}
SLAVE = {"ServerId": "i-b", "Port": 80, "Weight": 100, "ServerType": "Slave"}


def create(client: Any, lb: str, *servers: dict[str, Any]) -> Any:
    return call(
        client,
        "CreateMasterSlaveServerGroup",
        load_balancer_id=lb,
        master_slave_server_group_name="pair",
        master_slave_backend_servers=json.dumps(list(servers)),
    )


def test_create_describe_list_and_delete(client: Any) -> None:
    lb = make_load_balancer(client)
    created = create(client, lb, MASTER, SLAVE)
    group = created.master_slave_server_group_id
    members = created.master_slave_backend_servers.master_slave_backend_server
    assert [(m.server_id, m.server_type, m.port) for m in members] == [
        ("i-a", "Master", 80),
        ("i-b", "Slave", 80),
    ]

    body = call(
        client,
        "DescribeMasterSlaveServerGroupAttribute",
        master_slave_server_group_id=group,
    )
    assert body.master_slave_server_group_name == "pair"
    assert body.load_balancer_id == lb
    assert len(body.master_slave_backend_servers.master_slave_backend_server) == 2

    make_tcp_listener(client, lb, 80, master_slave_server_group_id=group)
    listed = call(
        client,
        "DescribeMasterSlaveServerGroups",
        load_balancer_id=lb,
        include_listener=True,
    )
    entry = listed.master_slave_server_groups.master_slave_server_group[0]
    assert entry.master_slave_server_group_id == group
    listeners = entry.associated_objects.listeners.listener
    assert [(item.port, item.protocol) for item in listeners] == [(80, "tcp")]

    in_use = refused(
        client, "DeleteMasterSlaveServerGroup", master_slave_server_group_id=group
    )
    assert in_use.code == "RspoolVipExist"

    call(client, "DeleteLoadBalancerListener", load_balancer_id=lb, listener_port=80)
    call(client, "DeleteMasterSlaveServerGroup", master_slave_server_group_id=group)
    gone = refused(
        client,
        "DescribeMasterSlaveServerGroupAttribute",
        master_slave_server_group_id=group,
    )
    assert "The specified MasterSlaveGroupId does not exist." in gone.message


@pytest.mark.parametrize(
    ("servers", "code"),
    [
        ([MASTER], "BACKEND_SERVERS_NUM_MUST_BE_TWO"),
        ([MASTER, SLAVE, SLAVE], "BACKEND_SERVERS_NUM_MUST_BE_TWO"),
        (
            [MASTER, {**SLAVE, "ServerType": "Master"}],
            "BACKEND_SERVERS_CAN_ONLY_CONTAIN_ONE_MASTER_AND_ONE_SLAVE",
        ),
        (
            [MASTER, {**SLAVE, "ServerId": "i-a"}],
            "BACKEND_SERVERS_HAVE_SAME_PORT_AND_SERVERID",
        ),
        ([MASTER, {**SLAVE, "ServerId": ""}], "BACKEND_SERVER_ID_CAN_NOT_EMPTY"),
        ([MASTER, {**SLAVE, "Port": ""}], "BACKEND_SERVER_PORT_CAN_NOT_EMPTY"),
        ([MASTER, {**SLAVE, "ServerType": "Backup"}], "INVALID_SERVER_TYPE"),
    ],
)
def test_documented_validation_codes(
    client: Any, servers: list[dict[str, Any]], code: str
) -> None:
    lb = make_load_balancer(client)

    error = refused(
        client,
        "CreateMasterSlaveServerGroup",
        load_balancer_id=lb,
        master_slave_backend_servers=json.dumps(servers),
    )

    assert error.code == code
    listed = call(client, "DescribeMasterSlaveServerGroups", load_balancer_id=lb)
    assert listed.master_slave_server_groups.master_slave_server_group == []


def test_listener_cannot_use_another_load_balancers_pair(client: Any) -> None:
    lb = make_load_balancer(client)
    other = make_load_balancer(client, "other")
    group = create(client, other, MASTER, SLAVE).master_slave_server_group_id

    error = refused(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        bandwidth=-1,
        master_slave_server_group_id=group,
    )

    assert error.code == "VipNotMatchRspool"
