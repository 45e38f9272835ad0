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


def test_throttling_refuses_with_throttling_user(emulator: Any, client: Any) -> None:
    emulator.set_faults(throttle_rate=1.0)
    error = refused(client, "CreateLoadBalancer", region_id=REGION)
    assert (error.code, error.status_code) == ("Throttling.User", 400)
    assert "flow control" in error.message
    emulator.set_faults()
    assert count_lbs(client) == 0


def test_server_errors_are_5xx_and_change_nothing(emulator: Any, client: Any) -> None:
    emulator.set_faults(error_rate=1.0, seed=3)
    for _ in range(4):
        error = refused(client, "CreateLoadBalancer", region_id=REGION)
        assert (error.code, error.status_code) in (
            ("InternalError", 500),
            ("ServiceUnavailable", 503),
        )
    emulator.set_faults()
    assert count_lbs(client) == 0


def test_lost_response_commits_then_drops_the_connection(
    emulator: Any, client: Any
) -> None:
    emulator.set_faults(lost_response_rate=1.0)
    with pytest.raises(UnretryableException):
        call(client, "CreateLoadBalancer", region_id=REGION)
    # Reads are never lost: only writes, whose outcome a client must settle.
    assert count_lbs(client) == 1


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_timeout_holds_past_the_read_timeout_without_a_change(
    emulator: Any, signature: str
) -> None:
    client = make_slb_client(emulator, signature, read_timeout=200)
    emulator.set_faults(timeout_rate=1.0, timeout_ms=400)
    started = time.monotonic()
    with pytest.raises(UnretryableException):
        call(client, "CreateLoadBalancer", region_id=REGION)
    assert time.monotonic() - started < 2
    emulator.set_faults()
    assert count_lbs(client) == 0


def test_rate_limit_throttles_calls_over_the_bucket(emulator: Any, client: Any) -> None:
    emulator.set_faults(rate_limits={"DescribeRegions": 2})
    call(client, "DescribeRegions")
    call(client, "DescribeRegions")
    error = refused(client, "DescribeRegions")
    assert error.code == "Throttling.User"
    call(client, "DescribeZones", region_id=REGION)  # other actions still pass


def test_token_bucket_refills_with_time() -> None:
    now = [100.0]
    faults = Faults(FaultSettings(rate_limits={"*": 2}), clock=lambda: now[0])
    outcomes = [faults.decide("A").refusal is None for _ in range(3)]
    assert outcomes == [True, True, False]
    now[0] += 0.5  # half a second buys one call at 2 per second
    assert faults.decide("B").refusal is None
    assert faults.decide("B").refusal is not None


def test_latency_delays_each_call(emulator: Any, client: Any) -> None:
    emulator.set_faults(latency_ms=[60, 80])
    started = time.monotonic()
    call(client, "DescribeRegions")
    assert time.monotonic() - started >= 0.06


def test_the_same_seed_gives_the_same_faults(emulator: Any, client: Any) -> None:
    def outcomes() -> list[bool]:
        emulator.set_faults(seed=42, throttle_rate=0.5)
        results = []
        for _ in range(16):
            try:
                call(client, "DescribeRegions")
                results.append(True)
            except AlibabaCloudException:
                results.append(False)
        return results

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_faulted_calls_are_counted(emulator: Any, client: Any) -> None:
    emulator.set_faults(throttle_rate=1.0)
    refused(client, "DescribeRegions")
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


def test_outcomes_count_each_fault_that_happened(emulator: Any, client: Any) -> None:
    emulator.set_faults(throttle_rate=1.0)
    refused(client, "DescribeRegions")
    emulator.set_faults(lost_response_rate=1.0)
    with pytest.raises(UnretryableException):
        call(client, "CreateLoadBalancer", region_id=REGION)
    call(client, "DescribeRegions")  # a read is never lost

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


def test_outcomes_count_refusals_by_handlers_too(emulator: Any, client: Any) -> None:
    refused(client, "DescribeLoadBalancerAttribute", load_balancer_id="lb-none")

    outcomes = emulator.control("GET", "calls/outcomes")["by_outcome"]

    assert list(outcomes) == ["InvalidLoadBalancerId.NotFound"]


def test_outcomes_count_rate_limit_and_5xx_refusals_by_code(
    emulator: Any, client: Any
) -> None:
    # One token, refilled only after 1000 s: the second call is refused
    # however slowly a loaded machine makes it.
    emulator.set_faults(rate_limits={"DescribeRegions": 0.001})
    call(client, "DescribeRegions")
    refused(client, "DescribeRegions")
    emulator.set_faults(error_rate=1.0, seed=1)
    with pytest.raises(AlibabaCloudException):
        call(client, "DescribeRegions")

    by_outcome = emulator.control("GET", "calls/outcomes")["by_outcome"]

    assert emulator.calls()["total"] == 3
    assert by_outcome["ok"] == 1
    assert by_outcome["Throttling.User"] == 1
    assert sum(by_outcome.values()) == 3  # and one server error


def _observed_shares(settings: FaultSettings, calls: int) -> dict[str, float]:
    faults = Faults(settings)
    counts = {"throttle": 0, "error": 0, "timeout": 0, "lost": 0, "none": 0}
    for _ in range(calls):
        decision = faults.decide("CreateLoadBalancer")
        if decision.refusal is not None and decision.refusal.code == "Throttling.User":
            counts["throttle"] += 1
        elif decision.refusal is not None:
            counts["error"] += 1
        elif decision.timeout_seconds is not None:
            counts["timeout"] += 1
        elif decision.lose_response:
            counts["lost"] += 1
        else:
            counts["none"] += 1
    return {kind: count / calls for kind, count in counts.items()}


def test_each_rate_is_its_share_of_all_signed_calls() -> None:
    settings = FaultSettings(
        seed=11,
        throttle_rate=0.3,
        error_rate=0.2,
        timeout_rate=0.1,
        lost_response_rate=0.15,
    )
    shares = _observed_shares(settings, 20_000)
    # A throttled call no longer hides the later faults' shares.
    expected = {"throttle": 0.3, "error": 0.2, "timeout": 0.1, "lost": 0.15}
    for kind, share in expected.items():
        assert shares[kind] == pytest.approx(share, abs=0.015), kind
    assert shares["none"] == pytest.approx(0.25, abs=0.015)


def test_rates_adding_up_to_one_fault_every_call() -> None:
    shares = _observed_shares(
        FaultSettings(seed=5, throttle_rate=0.5, error_rate=0.5), 4_000
    )
    assert shares["throttle"] == pytest.approx(0.5, abs=0.03)
    assert shares["error"] == pytest.approx(0.5, abs=0.03)
    assert shares["none"] == 0


def test_server_errors_split_between_500_and_503() -> None:
    faults = Faults(FaultSettings(seed=9, error_rate=1.0))
    codes = [faults.decide("DescribeRegions").refusal for _ in range(2_000)]
    statuses = [refusal.status for refusal in codes if refusal is not None]
    assert len(statuses) == 2_000
    assert statuses.count(500) / 2_000 == pytest.approx(0.5, abs=0.05)
    assert set(statuses) == {500, 503}


def test_observed_shares_through_the_sdk_match_the_settings(
    emulator: Any, client: Any
) -> None:
    emulator.set_faults(seed=21, throttle_rate=0.25, error_rate=0.25)
    codes = []
    for _ in range(400):
        try:
            call(client, "DescribeRegions")
            codes.append("ok")
        except AlibabaCloudException as err:
            codes.append(str(err.code))
    throttled = codes.count("Throttling.User") / len(codes)
    failed = (codes.count("InternalError") + codes.count("ServiceUnavailable")) / 400
    assert throttled == pytest.approx(0.25, abs=0.07)
    assert failed == pytest.approx(0.25, abs=0.07)
    assert codes.count("ok") / 400 == pytest.approx(0.5, abs=0.07)


def test_rates_adding_past_one_are_refused_with_each_rate_named(
    emulator: Any,
) -> None:
    from urllib.error import HTTPError

    emulator.set_faults(throttle_rate=0.1)
    with pytest.raises(HTTPError) as info:
        emulator.control("PUT", "faults", {"throttle_rate": 0.7, "error_rate": 0.5})
    assert info.value.code == 400
    message = info.value.read().decode()
    assert "the fault rates add up to 1.2, more than 1" in message
    assert "throttle_rate=0.7, error_rate=0.5" in message
    assert emulator.control("GET", "faults")["throttle_rate"] == 0.1  # unchanged


def test_serve_refuses_rates_adding_past_one() -> None:
    from typer.testing import CliRunner

    from slbsync.cli.app import app

    rates = ["--throttle-rate", "0.6", "--timeout-rate", "0.6"]
    result = CliRunner().invoke(app, ["emulator", "serve", "--port", "0", *rates])
    assert result.exit_code == 2  # a bad option, as click reports one
    assert "the fault rates add up to 1.2, more than 1" in result.output
