"""Parameters read as leniently as the gateway reads them, on the raw wire.

The SDK always sends one spelling, so these requests are built and signed by
hand (tests/emulator/raw_wire.py) to send the other shapes real clients use.
"""

from __future__ import annotations

from typing import Any

import pytest

from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID as KEY_ID
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_SECRET as SECRET
from tests.emulator.raw_wire import rpc_params, send_rpc, timestamp

REGION = "cn-hangzhou"


def rpc(emulator: Any, action: str, **params: str) -> dict[str, Any]:
    """The answer of a hand-signed RPC call that must succeed."""
    signed = rpc_params(action, KEY_ID, SECRET, **params)
    status, body = send_rpc(emulator.endpoint, "POST", signed, where="form")
    assert status == 200, body
    assert body["RequestId"]
    return body


def rpc_refused(emulator: Any, action: str, **params: str) -> dict[str, Any]:
    signed = rpc_params(action, KEY_ID, SECRET, **params)
    status, body = send_rpc(emulator.endpoint, "POST", signed, where="form")
    assert status == 400, body
    return body


@pytest.fixture
def lb(emulator: Any) -> str:
    return str(rpc(emulator, "CreateLoadBalancer", RegionId=REGION)["LoadBalancerId"])


def tcp_attribute(emulator: Any, lb_id: str) -> dict[str, Any]:
    return rpc(
        emulator,
        "DescribeLoadBalancerTCPListenerAttribute",
        LoadBalancerId=lb_id,
        ListenerPort="80",
    )


def make_tcp_listener(emulator: Any, lb_id: str, **params: str) -> None:
    rpc(
        emulator,
        "CreateLoadBalancerTCPListener",
        LoadBalancerId=lb_id,
        ListenerPort="80",
        BackendServerPort="8080",
        Bandwidth="-1",
        **params,
    )


@pytest.mark.parametrize(("sent", "read"), [("TRUE", True), ("True", True)])
def test_booleans_in_any_case(emulator: Any, lb: str, sent: str, read: bool) -> None:
    make_tcp_listener(emulator, lb, ProxyProtocolV2Enabled=sent)
    assert tcp_attribute(emulator, lb)["ProxyProtocolV2Enabled"] is read

    rpc(
        emulator,
        "SetLoadBalancerTCPListenerAttribute",
        LoadBalancerId=lb,
        ListenerPort="80",
        ProxyProtocolV2Enabled="False",
    )
    assert tcp_attribute(emulator, lb)["ProxyProtocolV2Enabled"] is False


def test_on_off_switches_in_any_case(emulator: Any, lb: str) -> None:
    make_tcp_listener(emulator, lb, ConnectionDrain="ON", ConnectionDrainTimeout="60")
    assert tcp_attribute(emulator, lb)["ConnectionDrain"] == "on"


def test_a_word_that_is_no_boolean_is_refused(emulator: Any, lb: str) -> None:
    body = rpc_refused(
        emulator,
        "CreateLoadBalancerTCPListener",
        LoadBalancerId=lb,
        ListenerPort="80",
        BackendServerPort="8080",
        Bandwidth="-1",
        ProxyProtocolV2Enabled="yes",
    )
    assert body["Code"] == "InvalidParameter"
    assert '"yes" is not a boolean' in body["Message"]


def test_either_first_letter_case_names_the_same_parameter(
    emulator: Any, lb: str
) -> None:
    make_tcp_listener(emulator, lb, healthCheckInterval="7")
    assert tcp_attribute(emulator, lb)["HealthCheckInterval"] == 7

    rpc(
        emulator,
        "SetLoadBalancerTCPListenerAttribute",
        LoadBalancerId=lb,
        ListenerPort="80",
        HealthCheckInterval="9",
    )
    assert tcp_attribute(emulator, lb)["HealthCheckInterval"] == 9


def test_parameters_the_api_does_not_define_are_ignored(emulator: Any) -> None:
    body = rpc(
        emulator,
        "CreateLoadBalancer",
        RegionId=REGION,
        LoadBalancerName="kept",
        NoSuchParameter="anything",
    )
    listed = rpc(emulator, "DescribeLoadBalancers", RegionId=REGION)
    [record] = listed["LoadBalancers"]["LoadBalancer"]
    assert record["LoadBalancerId"] == body["LoadBalancerId"]
    assert record["LoadBalancerName"] == "kept"


def test_json_lists_with_single_quotes_and_numbers_as_strings(
    emulator: Any, lb: str
) -> None:
    rpc(
        emulator,
        "AddBackendServers",
        LoadBalancerId=lb,
        BackendServers="[{'ServerId': 'i-a', 'Weight': '40'}]",
    )
    group = rpc(
        emulator,
        "CreateVServerGroup",
        LoadBalancerId=lb,
        VServerGroupName="web",
        BackendServers="[{'ServerId': 'i-b', 'Port': '8080', 'Weight': '30'}]",
    )

    attribute = rpc(emulator, "DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    [default] = attribute["BackendServers"]["BackendServer"]
    assert (default["ServerId"], int(default["Weight"])) == ("i-a", 40)
    members = rpc(
        emulator,
        "DescribeVServerGroupAttribute",
        VServerGroupId=group["VServerGroupId"],
    )
    [member] = members["BackendServers"]["BackendServer"]
    assert (member["ServerId"], member["Port"], member["Weight"]) == ("i-b", 8080, 30)


def test_a_json_list_that_parses_neither_way_is_refused(emulator: Any, lb: str) -> None:
    body = rpc_refused(
        emulator,
        "AddBackendServers",
        LoadBalancerId=lb,
        BackendServers="[{'ServerId': 'i-a'",
    )
    assert body["Code"] == "BackendServersMalformed"
    assert "BackendServers is malformed" in body["Message"]


@pytest.mark.parametrize("fraction", [False, True])
def test_rpc_timestamps_with_or_without_fractions(
    emulator: Any, fraction: bool
) -> None:
    stamp = timestamp(fraction=fraction)
    assert ("." in stamp) is fraction
    body = rpc(emulator, "DescribeRegions", Timestamp=stamp)
    assert body["Regions"]["Region"]
