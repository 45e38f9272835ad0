"""Backend changes open the configuring window of the listeners they feed.

Through the official SDK, in both signature modes: a change of the default
backend servers, or of a VServer group that only a forwarding rule uses, is a
backend change of the listeners behind it, so a listener write right after it
gets the documented busy code, and goes through once the window has passed.
(A member change of a group a listener names directly is tested in
test_server_groups.py; a master-slave group has no modify action.)
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
    refused,
    servers_json,
)

# Long enough that the refused write surely lands inside it on a busy machine,
# short enough to wait out in a test.
WINDOW_MS = 800
BUSY = ("OperationFailed.ListenerStatusNotSupport", 400)


def default_servers(*servers: tuple[str, int]) -> str:
    return json.dumps([{"ServerId": sid, "Weight": weight} for sid, weight in servers])


def wait_out_the_window() -> None:
    time.sleep(WINDOW_MS / 1000 + 0.1)


def set_tcp_scheduler(client: Any, lb: str, port: int) -> Any:
    return call(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=port,
        scheduler="rr",
    )


def tcp_scheduler(client: Any, lb: str, port: int) -> str:
    body = call(
        client,
        "DescribeLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=port,
    )
    return str(body.scheduler)


def assert_busy(client: Any, lb: str, port: int) -> None:
    error = refused(
        client,
        "SetLoadBalancerTCPListenerAttribute",
        load_balancer_id=lb,
        listener_port=port,
        scheduler="rr",
    )
    assert (error.code, error.status_code) == BUSY
    assert "try again later" in error.message
    assert tcp_scheduler(client, lb, port) == "wrr"


@pytest.mark.parametrize(
    ("action", "servers"),
    [
        ("AddBackendServers", default_servers(("i-b", 100))),
        ("SetBackendServers", default_servers(("i-a", 50))),
        ("RemoveBackendServers", default_servers(("i-a", 100))),
    ],
)
def test_default_server_change_opens_the_window_of_its_listeners(
    emulator: Any, client: Any, action: str, servers: str
) -> None:
    lb = make_load_balancer(client)
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb,
        backend_servers=default_servers(("i-a", 100)),
    )
    make_tcp_listener(client, lb, 80, backend_server_port=8080)
    make_tcp_listener(client, lb, 81, vserver_group_id=make_vserver_group(client, lb))
    emulator.set_faults(configuring_ms=WINDOW_MS)

    call(client, action, load_balancer_id=lb, backend_servers=servers)

    assert_busy(client, lb, 80)
    # A listener forwarding to a VServer group is not fed by the default group.
    set_tcp_scheduler(client, lb, 81)
    wait_out_the_window()
    set_tcp_scheduler(client, lb, 80)
    assert tcp_scheduler(client, lb, 80) == "rr"


def test_default_server_call_that_changes_nothing_opens_no_window(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80, backend_server_port=8080)
    emulator.set_faults(configuring_ms=60_000)

    call(
        client,
        "RemoveBackendServers",
        load_balancer_id=lb,
        backend_servers=default_servers(("i-absent", 100)),
    )

    set_tcp_scheduler(client, lb, 80)
    assert tcp_scheduler(client, lb, 80) == "rr"


def make_http_listener_with_rule(client: Any, lb: str, group: str) -> None:
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb,
        listener_port=80,
        backend_server_port=8080,
        bandwidth=-1,
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


def set_http_scheduler(client: Any, lb: str) -> Any:
    return call(
        client,
        "SetLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
    )


def test_member_change_of_a_rule_only_group_opens_the_rule_listeners_window(
    emulator: Any, client: Any
) -> None:
    lb = make_load_balancer(client)
    group = make_vserver_group(client, lb)
    make_http_listener_with_rule(client, lb, group)
    emulator.set_faults(configuring_ms=WINDOW_MS)

    call(
        client,
        "AddVServerGroupBackendServers",
        vserver_group_id=group,
        backend_servers=servers_json(("i-a", 80, 100)),
    )

    error = refused(
        client,
        "SetLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
        scheduler="rr",
    )
    assert (error.code, error.status_code) == BUSY
    start = refused(
        client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=80
    )
    assert (start.code, start.status_code) == ("ServiceIsConfiguring", 400)
    wait_out_the_window()
    set_http_scheduler(client, lb)
    body = call(
        client,
        "DescribeLoadBalancerHTTPListenerAttribute",
        load_balancer_id=lb,
        listener_port=80,
    )
    assert body.scheduler == "rr"
