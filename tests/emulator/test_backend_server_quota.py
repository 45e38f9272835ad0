"""The quota on distinct backend servers per load balancer, through the SDK."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from slbsync.emulator.server import EmulatorServer
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_vserver_group,
    refused,
    servers_json,
)
from tests.emulator.test_persistence import _Where

CODE = "InstanceBackendServerNumberOverLimit"


def members(client: Any, group: str) -> list[str]:
    body = call(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
    return [f"{s.server_id}:{s.port}" for s in body.backend_servers.backend_server]


def full_load_balancer(client: Any, emulator: Any) -> tuple[str, str]:
    """A load balancer at a quota of 3, its three servers in one group."""
    emulator.control("PUT", "quotas", {"backend_servers_per_load_balancer": 3})
    lb = make_load_balancer(client)
    group = make_vserver_group(
        client, lb, ("i-1", 80, 100), ("i-2", 80, 100), ("i-3", 80, 100)
    )
    return lb, group


def assert_over_quota(error: Any, lb: str, count: int) -> None:
    assert error.code == CODE
    assert error.status_code == 400
    assert (
        f"The backend servers of load balancer {lb} would number {count}, "
        "over its quota of 3" in error.message
    )


def test_add_past_the_quota_is_refused_and_changes_nothing(
    client: Any, emulator: Any
) -> None:
    lb, group = full_load_balancer(client, emulator)
    error = refused(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-4", 80, 100)),
    )
    assert_over_quota(error, lb, 4)
    assert members(client, group) == ["i-1:80", "i-2:80", "i-3:80"]


def test_same_server_on_another_port_counts_once(client: Any, emulator: Any) -> None:
    lb, group = full_load_balancer(client, emulator)
    other = make_vserver_group(client, lb, ("i-1", 8080, 100))
    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-2", 9090, 100)),
    )
    assert members(client, other) == ["i-1:8080"]
    assert "i-2:9090" in members(client, group)


def test_create_group_past_the_quota_is_refused(client: Any, emulator: Any) -> None:
    lb, _ = full_load_balancer(client, emulator)
    error = refused(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb,
        vserver_group_name="more",
        backend_servers=servers_json(("i-4", 80, 100), ("i-5", 80, 100)),
    )
    assert_over_quota(error, lb, 5)
    listed = call(client, "DescribeVServerGroups", load_balancer_id=lb)
    assert len(listed.vserver_groups.vserver_group) == 1


def test_modify_that_grows_past_the_quota_is_refused(
    client: Any, emulator: Any
) -> None:
    lb, group = full_load_balancer(client, emulator)
    error = refused(
        client,
        "ModifyVServerGroupBackendServers",
        vserver_group_id=group,
        old_backend_servers=servers_json(("i-1", 80, 100)),
        new_backend_servers=servers_json(("i-4", 80, 100), ("i-5", 80, 100)),
    )
    assert_over_quota(error, lb, 4)
    assert members(client, group) == ["i-1:80", "i-2:80", "i-3:80"]

    # A one-for-one swap keeps the count, so a full load balancer accepts it.
    call(
        client,
        "ModifyVServerGroupBackendServers",
        vserver_group_id=group,
        old_backend_servers=servers_json(("i-1", 80, 100)),
        new_backend_servers=servers_json(("i-4", 80, 100)),
    )
    assert members(client, group) == ["i-2:80", "i-3:80", "i-4:80"]


def test_default_group_counts_with_the_vserver_groups(
    client: Any, emulator: Any
) -> None:
    lb, _ = full_load_balancer(client, emulator)
    error = refused(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=json.dumps([{"ServerId": "i-4"}]),
    )
    assert_over_quota(error, lb, 4)
    body = call(client, "DescribeLoadBalancerAttribute", load_balancer_id=lb)
    assert body.backend_servers.backend_server == []

    # A server already in a VServer group takes no more of the quota.
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=json.dumps([{"ServerId": "i-1"}]),
    )


def test_master_slave_group_past_the_quota_is_refused(
    client: Any, emulator: Any
) -> None:
    lb, _ = full_load_balancer(client, emulator)
    pair = [
        {"ServerId": "i-1", "Port": 81, "Weight": 100, "ServerType": "Master"},
        {"ServerId": "i-9", "Port": 81, "Weight": 100, "ServerType": "Slave"},
    ]
    error = refused(
        client,
        "CreateMasterSlaveServerGroup",
        load_balancer_id=lb,
        master_slave_server_group_name="pair",
        master_slave_backend_servers=json.dumps(pair),
    )
    assert_over_quota(error, lb, 4)
    listed = call(client, "DescribeMasterSlaveServerGroups", load_balancer_id=lb)
    assert listed.master_slave_server_groups.master_slave_server_group == []


def test_over_a_lowered_quota_servers_can_still_go(client: Any, emulator: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb, *[(f"i-{n}", 80, 100) for n in range(5)])
    emulator.control("PUT", "quotas", {"backend_servers_per_load_balancer": 3})
    call(
        client,
        "RemoveVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-0", 80, 100)),
    )
    assert len(members(client, group)) == 4


def test_the_default_quota_is_two_hundred(client: Any, emulator: Any) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    for start in range(0, 200, 20):
        batch = [(f"i-{n:03d}", 80, 100) for n in range(start, start + 20)]
        call(
            client,
            "AddVServerGroupBackendServers",
            vserver_group_id=group,
            backend_servers=servers_json(*batch),
        )
    error = refused(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-200", 80, 100)),
    )
    assert error.code == CODE
    assert "would number 201, over its quota of 200" in error.message


def test_quotas_endpoint_sets_and_reset_restores(emulator: Any) -> None:
    assert emulator.control("GET", "quotas") == {
        "load_balancers": 60,
        "backend_servers_per_load_balancer": 200,
    }
    answer = emulator.control(
        "PUT", "quotas", {"backend_servers_per_load_balancer": 10}
    )
    assert answer["backend_servers_per_load_balancer"] == 10
    emulator.control("POST", "reset")
    assert emulator.control("GET", "quotas")["backend_servers_per_load_balancer"] == 200


@pytest.mark.parametrize("value", [0, "10", True, 2.5])
def test_quotas_endpoint_refuses_bad_values_and_changes_nothing(
    emulator: Any, value: Any
) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        emulator.control(
            "PUT",
            "quotas",
            {"load_balancers": 5, "backend_servers_per_load_balancer": value},
        )
    assert info.value.code == 400
    message = json.loads(info.value.read())["error"]
    assert "backend_servers_per_load_balancer must be a whole number above 0" in (
        message
    )
    assert emulator.control("GET", "quotas")["load_balancers"] == 60


def test_journalled_adds_replay_under_a_lower_quota(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    server = EmulatorServer(state_path=state).start()
    client = make_slb_client(_Where(server.endpoint))  # type: ignore[arg-type]
    lb = make_load_balancer(client)
    group = make_vserver_group(
        client, lb, ("i-1", 80, 100), ("i-2", 80, 100), ("i-3", 80, 100)
    )
    journal = (tmp_path / "state.json.journal").read_text()
    server.stop()

    # As if killed before the snapshot: the writes are only in the journal.
    state.unlink()
    (tmp_path / "state.json.journal").write_text(journal)
    again = EmulatorServer(state_path=state, backend_server_quota=2).start()
    try:
        client = make_slb_client(_Where(again.endpoint))  # type: ignore[arg-type]
        # Accepted once, so replayed whatever the quota is now ...
        assert members(client, group) == ["i-1:80", "i-2:80", "i-3:80"]
        # ... while new adds meet the quota given at this start.
        error = refused(
            client,
            "AddVServerGroupBackendServers",
            vserver_group_id=group,
            backend_servers=servers_json(("i-4", 80, 100)),
        )
        assert error.code == CODE
        assert "would number 4, over its quota of 2" in error.message
    finally:
        again.stop()
