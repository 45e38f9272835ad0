"""The control API under /_emulator/: calls, reset, state, ECS seeding, health."""

from __future__ import annotations

from typing import Any
from urllib.error import HTTPError

import pytest

from slbsync.emulator.control import emulated_actions, handle_control
from tests.emulator.slb_helpers import call

REGION = "cn-hangzhou"


def test_calls_counts_signed_calls_by_action(emulator: Any, client: Any) -> None:
    call(client, "DescribeRegions")
    call(client, "DescribeRegions")
    call(client, "CreateLoadBalancer", region_id=REGION)
    emulator.control("GET", "state")  # control calls are not counted
    assert emulator.calls() == {
        "total": 3,
        "by_action": {"CreateLoadBalancer": 1, "DescribeRegions": 2},
    }
    emulator.clear_calls()
    assert emulator.calls() == {"total": 0, "by_action": {}}


def test_reset_forgets_resources_calls_and_faults(emulator: Any, client: Any) -> None:
    call(client, "CreateLoadBalancer", region_id=REGION)
    emulator.set_faults(latency_ms=1)
    emulator.reset()
    assert call(client, "DescribeLoadBalancers", region_id=REGION).total_count == 0
    assert emulator.control("GET", "faults")["latency_ms"] == 0
    assert emulator.calls()["total"] == 1


def test_state_dump_shows_every_table(emulator: Any, client: Any) -> None:
    lb = call(
        client, "CreateLoadBalancer", region_id=REGION, load_balancer_name="dumped"
    )
    state = emulator.control("GET", "state")
    record = state["tables"]["load_balancers"][lb.load_balancer_id]
    assert record["name"] == "dumped"


def test_seed_change_and_delete_instances(emulator: Any) -> None:
    emulator.seed_instances({"id": "i-a", "tags": {"role": "chat"}})
    changed = emulator.control("PATCH", "ecs/instances/i-a", {"status": "Stopped"})
    assert changed["status"] == "Stopped"
    listed = emulator.control("GET", "ecs/instances")
    assert [(i["instance_id"], i["status"], i["tags"]) for i in listed] == [
        ("i-a", "Stopped", [["role", "chat"]])
    ]
    emulator.control("DELETE", "ecs/instances/i-a")
    assert emulator.control("GET", "ecs/instances") == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "ecs/instances", {"id": "web-1"}, 400, "look like i-"),
        (
            "POST",
            "ecs/instances",
            [{"id": "i-a", "status": "Sleeping"}],
            400,
            "status must be one of",
        ),
        ("PATCH", "ecs/instances/i-none", {"status": "Running"}, 404, "no seeded"),
        (
            "PUT",
            "health",
            {"server_id": "i-a", "status": "sick"},
            400,
            "normal, abnormal, unavailable",
        ),
        ("GET", "nothing-here", None, 404, "no control endpoint"),
    ],
)
def test_bad_control_requests_are_explained(
    emulator: Any, method: str, path: str, body: Any, status: int, message: str
) -> None:
    with pytest.raises(HTTPError) as info:
        emulator.control(method, path, body)
    assert info.value.code == status
    assert message in info.value.read().decode()
    assert emulator.control("GET", "ecs/instances") == []


def test_health_override_shows_in_describe_health_status(
    emulator: Any, client: Any
) -> None:
    import json

    lb = call(client, "CreateLoadBalancer", region_id=REGION).load_balancer_id
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=8080,
        bandwidth=-1,
    )
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=json.dumps([{"ServerId": "i-node1"}]),
    )
    call(client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80)
    emulator.control("PUT", "health", {"server_id": "i-node1", "status": "abnormal"})
    body = call(client, "DescribeHealthStatus", load_balancer_id=lb)
    statuses = {
        (s.server_id, s.server_health_status)
        for s in body.backend_servers.backend_server
    }
    assert statuses == {("i-node1", "abnormal")}


def test_only_loopback_clients_are_answered(emulator: Any) -> None:
    status, body = handle_control(
        emulator.server, "GET", "/_emulator/calls", b"", "10.1.2.3"
    )
    assert status == 403
    assert "loopback" in body["error"]
    status, _ = handle_control(emulator.server, "GET", "/_emulator/calls", b"", "::1")
    assert status == 200


def test_actions_lists_the_coverage(emulator: Any) -> None:
    actions = emulator.control("GET", "actions")
    assert actions == emulated_actions()
    assert "CreateLoadBalancer" in actions["2014-05-15"]
    assert actions["2014-05-26"] == ["DescribeInstances"]
