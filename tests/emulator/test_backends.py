"""The default server group through the official SDK."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.slb_helpers import call, make_load_balancer, refused


def default_group(*servers: tuple[str, int]) -> str:
    return json.dumps([{"ServerId": sid, "Weight": weight} for sid, weight in servers])


def attached(client: Any, lb: str) -> list[tuple[str, int]]:
    body = call(client, "DescribeLoadBalancerAttribute", load_balancer_id=lb)
    return [(s.server_id, s.weight) for s in body.backend_servers.backend_server]


def test_add_set_and_remove(client: Any) -> None:
    lb = make_load_balancer(client)

    added = call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-a", 100), ("i-b", 50)),
    )
    # The SDK model types Weight as a string in this response.
    assert [(s.server_id, s.weight) for s in added.backend_servers.backend_server] == [
        ("i-a", "100"),
        ("i-b", "50"),
    ]
    assert added.load_balancer_id == lb

    updated = call(
        client,
        "SetBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-b", 0)),
    )
    assert updated.backend_servers.backend_server[1].weight == "0"

    removed = call(
        client,
        "RemoveBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-a", 100), ("i-absent", 100)),
    )
    assert [
        (s.server_id, s.weight) for s in removed.backend_servers.backend_server
    ] == [("i-b", 0)]
    assert attached(client, lb) == [("i-b", 0)]


def test_adding_an_attached_server_again_is_ignored(client: Any) -> None:
    lb = make_load_balancer(client)
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-a", 100)),
    )

    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-a", 10)),
    )

    assert attached(client, lb) == [("i-a", 100)]


def test_set_refuses_a_server_not_attached(client: Any) -> None:
    lb = make_load_balancer(client)

    error = refused(
        client,
        "SetBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(("i-a", 10)),
    )

    assert error.code == "InvalidParameter"
    assert "i-a is not attached" in error.message


def test_more_than_twenty_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    servers = [(f"i-{n}", 100) for n in range(21)]

    error = refused(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=default_group(*servers),
    )

    assert error.code == "TooManyBackendServers"
    assert attached(client, lb) == []


def test_missing_backend_servers_is_refused(client: Any) -> None:
    lb = make_load_balancer(client)
    error = refused(client, "AddBackendServers", load_balancer_id=lb)
    assert error.code == "MissingParameter"
    assert "BackendServers" in error.message


def test_unknown_load_balancer_is_refused(client: Any) -> None:
    error = refused(
        client,
        "AddBackendServers",
        load_balancer_id="lb-missing",
        backend_servers=default_group(("i-a", 100)),
    )
    assert error.code == "InvalidLoadBalancerId.NotFound"
