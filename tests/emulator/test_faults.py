"""Injected faults: throttling, server errors, timeouts, lost responses,
rate limits and latency, repeatable from a seed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import UnretryableException

from slbsync.emulator.faults import Faults, FaultSettings
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import call, refused

REGION = "cn-hangzhou"


def count_lbs(client: Any) -> int:
    return int(call(client, "DescribeLoadBalancers", region_id=REGION).total_count)


def test_throttling_refuses_with_throttling_user(
    emulator: Any, slb_client: Any
) -> None:
    emulator.set_faults(throttle_rate=1.0)
    error = refused(slb_client, "CreateLoadBalancer", region_id=REGION)
    assert (error.code, error.status_code) == ("Throttling.User", 400)
    assert "flow control" in error.message
    emulator.set_faults()
    assert count_lbs(slb_client) == 0


def test_server_errors_are_5xx_and_change_nothing(
    emulator: Any, slb_client: Any
) -> None:
    emulator.set_faults(error_rate=1.0, seed=3)
    for _ in range(4):
        error = refused(slb_client, "CreateLoadBalancer", region_id=REGION)
        assert (error.code, error.status_code) in (
            ("InternalError", 500),
            ("ServiceUnavailable", 503),
        )
    emulator.set_faults()
    assert count_lbs(slb_client) == 0


def test_lost_response_commits_then_drops_the_connection(
    emulator: Any, slb_client: Any
) -> None:
    emulator.set_faults(lost_response_rate=1.0)
    with pytest.raises(UnretryableException):
        call(slb_client, "CreateLoadBalancer", region_id=REGION)
    # Reads are never lost: only writes, whose outcome a client must settle.
    assert count_lbs(slb_client) == 1


def test_timeout_holds_past_the_read_timeout_without_a_change(emulator: Any) -> None:
    client = make_slb_client(emulator, read_timeout=200)
    emulator.set_faults(timeout_rate=1.0, timeout_ms=400)
    started = time.monotonic()
    with pytest.raises(UnretryableException):
        call(client, "CreateLoadBalancer", region_id=REGION)
    assert time.monotonic() - started < 2
    emulator.set_faults()
    assert count_lbs(client) == 0


def test_rate_limit_throttles_calls_over_the_bucket(
    emulator: Any, slb_client: Any
) -> None:
    emulator.set_faults(rate_limits={"DescribeRegions": 2})
    call(slb_client, "DescribeRegions")
    call(slb_client, "DescribeRegions")
    error = refused(slb_client, "DescribeRegions")
    assert error.code == "Throttling.User"
    call(slb_client, "DescribeZones", region_id=REGION)  # other actions still pass


def test_token_bucket_refills_with_time() -> None:
    now = [100.0]
    faults = Faults(FaultSettings(rate_limits={"*": 2}), clock=lambda: now[0])
    outcomes = [faults.decide("A").refusal is None for _ in range(3)]
    assert outcomes == [True, True, False]
    now[0] += 0.5  # half a second buys one call at 2 per second
    assert faults.decide("B").refusal is None
    assert faults.decide("B").refusal is not None


def test_latency_delays_each_call(emulator: Any, slb_client: Any) -> None:
    emulator.set_faults(latency_ms=[60, 80])
    started = time.monotonic()
    call(slb_client, "DescribeRegions")
    assert time.monotonic() - started >= 0.06


def test_the_same_seed_gives_the_same_faults(emulator: Any, slb_client: Any) -> None:
    def outcomes() -> list[bool]:
        emulator.set_faults(seed=42, throttle_rate=0.5)
        results = []
        for _ in range(16):
            try:
                call(slb_client, "DescribeRegions")
                results.append(True)
            except AlibabaCloudException:
                results.append(False)
        return results

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_faulted_calls_are_counted(emulator: Any, slb_client: Any) -> None:
    emulator.set_faults(throttle_rate=1.0)
    refused(slb_client, "DescribeRegions")
    assert emulator.calls() == {"total": 1, "by_action": {"DescribeRegions": 1}}


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"throttle_rate": 2}, "between 0 and 1"),
        ({"latency_ms": [5, 1]}, "min"),
        ({"rate_limits": {"*": 0}}, "above 0"),
        ({"jitter": 1}, "unknown fault setting 'jitter'"),
        ({"seed": "x"}, "seed must be a number"),
    ],
)
def test_bad_fault_settings_are_refused(
    emulator: Any, faults: dict, message: str
) -> None:
    from urllib.error import HTTPError

    with pytest.raises(HTTPError) as info:
        emulator.control("PUT", "faults", faults)
    assert info.value.code == 400
    assert message in info.value.read().decode()
    assert emulator.control("GET", "faults")["throttle_rate"] == 0


def test_empty_faults_clear_everything(emulator: Any) -> None:
    emulator.set_faults(throttle_rate=0.3, latency_ms=5, configuring_ms=100)
    assert emulator.control("GET", "faults")["configuring_ms"] == 100
    cleared = emulator.set_faults()
    assert cleared["throttle_rate"] == 0 and cleared["latency_ms"] == 0
    assert cleared["configuring_ms"] == 0


def test_a_call_refused_by_one_bucket_spends_no_token_from_another() -> None:
    now = [0.0]
    faults = Faults(
        FaultSettings(rate_limits={"*": 10, "CreateVServerGroup": 0.1}),
        clock=lambda: now[0],
    )
    for _ in range(10):
        assert faults.decide("DescribeRegions").refusal is None
    # Refused by "*": the group's single token (refilled every 10 s) is kept.
    assert faults.decide("CreateVServerGroup").refusal is not None
    now[0] += 0.2
    assert faults.decide("CreateVServerGroup").refusal is None


def test_outcomes_count_each_fault_that_happened(
    emulator: Any, slb_client: Any
) -> None:
    emulator.set_faults(throttle_rate=1.0)
    refused(slb_client, "DescribeRegions")
    emulator.set_faults(lost_response_rate=1.0)
    with pytest.raises(UnretryableException):
        call(slb_client, "CreateLoadBalancer", region_id=REGION)
    call(slb_client, "DescribeRegions")  # a read is never lost

    outcomes = emulator.control("GET", "calls/outcomes")

    assert outcomes == {
        "by_outcome": {"Throttling.User": 1, "lost-response": 1, "ok": 1},
        "by_action": {
            "CreateLoadBalancer": {"lost-response": 1},
            "DescribeRegions": {"Throttling.User": 1, "ok": 1},
        },
    }
    assert sum(outcomes["by_outcome"].values()) == emulator.calls()["total"]
    emulator.clear_calls()
    assert emulator.control("GET", "calls/outcomes")["by_outcome"] == {}


def test_outcomes_count_refusals_by_handlers_too(
    emulator: Any, slb_client: Any
) -> None:
    refused(slb_client, "DescribeLoadBalancerAttribute", load_balancer_id="lb-none")

    outcomes = emulator.control("GET", "calls/outcomes")["by_outcome"]

    assert list(outcomes) == ["InvalidLoadBalancerId.NotFound"]


def test_outcomes_count_rate_limit_and_5xx_refusals_by_code(
    emulator: Any, slb_client: Any
) -> None:
    # One token, refilled only after 1000 s: the second call is refused
    # however slowly a loaded machine makes it.
    emulator.set_faults(rate_limits={"DescribeRegions": 0.001})
    call(slb_client, "DescribeRegions")
    refused(slb_client, "DescribeRegions")
    emulator.set_faults(error_rate=1.0, seed=1)
    with pytest.raises(AlibabaCloudException):
        call(slb_client, "DescribeRegions")

    by_outcome = emulator.control("GET", "calls/outcomes")["by_outcome"]

    assert emulator.calls()["total"] == 3
    assert by_outcome["ok"] == 1
    assert by_outcome["Throttling.User"] == 1
    assert sum(by_outcome.values()) == 3  # and one server error
