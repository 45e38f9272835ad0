import logging

from slbsync.apply.report import Outcome
from slbsync.apply.retry import ChangeRunner, RetryPolicy
from slbsync.plan.make import make_plan
from slbsync.ratelimit import AdaptiveRateLimiter
from tests.fakes import (
    FakeLostResponseError,
    FakeRejectedError,
    FakeTarget,
    FakeThrottledError,
    FakeTransientError,
    make_lb,
    make_spec,
)


class FakeClock:
    """A clock that only the fake sleep moves."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _runner(target, clock, **kw):
    return ChangeRunner(target, sleep=clock.sleep, clock=clock, **kw)


def _create_lb_change(target):
    return make_plan(make_spec(make_lb()), [target]).changes[0]


def test_transient_errors_are_retried_with_growing_jittered_waits(caplog):
    target, clock = FakeTarget(), FakeClock()
    target.fail("CreateLoadBalancer", FakeTransientError("CreateLoadBalancer"), times=4)

    with caplog.at_level(logging.INFO, logger="slbsync"):
        result = _runner(target, clock).run(_create_lb_change(target))

    assert result.outcome == Outcome.OK
    assert result.attempts == 5
    assert len(clock.sleeps) == 4
    # Full jitter: each wait is random in [0, min(max, 0.5 * 2**n)].
    for n, wait in enumerate(clock.sleeps, start=1):
        assert 0 <= wait <= 0.5 * 2**n
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 4
    assert (
        "cause=target fake: CreateLoadBalancer failed with ServiceUnavailable"
        in (retries[0])
    )
    assert "delay=" in retries[0]


def test_other_errors_are_not_retried():
    target, clock = FakeTarget(), FakeClock()
    error = FakeRejectedError("CreateLoadBalancer", "bad spec value")
    target.fail("CreateLoadBalancer", error)

    result = _runner(target, clock).run(_create_lb_change(target))

    assert result.outcome == Outcome.FAILED
    assert result.attempts == 1
    assert clock.sleeps == []
    assert "InvalidParameter (request id REQ-9): bad spec value" in result.message


def test_deadline_ends_retrying():
    target, clock = FakeTarget(), FakeClock()
    target.fail("*", FakeTransientError("CreateLoadBalancer"), times=1000)
    policy = RetryPolicy(deadline=30.0, initial=1.0, max_wait=8.0)

    result = _runner(target, clock, policy=policy).run(_create_lb_change(target))

    assert result.outcome == Outcome.FAILED
    assert "ServiceUnavailable" in result.message
    assert clock.now <= 30.0
    assert result.attempts > 3


def test_lost_response_that_landed_is_settled_not_repeated():
    target, clock = FakeTarget(), FakeClock()
    lost = FakeLostResponseError("read timed out after sending")
    target.fail("CreateLoadBalancer", lost, take_effect=True)

    result = _runner(target, clock).run(_create_lb_change(target))

    assert result.outcome == Outcome.SETTLED
    assert target.calls == ["CreateLoadBalancer"]
    assert list(target.lbs) == ["chat"]


def test_lost_response_that_did_not_land_is_sent_again():
    target, clock = FakeTarget(), FakeClock()
    lost = FakeLostResponseError("read timed out after sending")
    target.fail("CreateLoadBalancer", lost, take_effect=False)

    result = _runner(target, clock).run(_create_lb_change(target))

    assert result.outcome == Outcome.OK
    assert target.calls == ["CreateLoadBalancer", "CreateLoadBalancer"]
    assert list(target.lbs) == ["chat"]


def test_unknown_outcome_that_cannot_be_read_fails_without_resending():
    class Blind(FakeTarget):
        def has_taken_effect(self, change):
            raise FakeRejectedError("DescribeLoadBalancers", "read refused")

    target, clock = Blind(), FakeClock()
    target.fail("CreateLoadBalancer", FakeLostResponseError("timed out"))

    result = _runner(target, clock).run(_create_lb_change(target))

    assert result.outcome == Outcome.FAILED
    assert target.calls == ["CreateLoadBalancer"]
    assert "its answer was lost (timed out)" in result.message
    assert "run slbsync plan to see whether it took effect" in result.message


def test_throttling_slows_the_rate_limiter_down():
    target, clock = FakeTarget(), FakeClock()
    target.fail("*", FakeThrottledError("CreateLoadBalancer"), times=2)
    limiter = AdaptiveRateLimiter(8, clock=clock, sleep=clock.sleep)

    result = _runner(target, clock, limiter=limiter).run(_create_lb_change(target))

    assert result.outcome == Outcome.OK
    # Halved twice (8 -> 2), then one success wins back 5% of 8.
    assert limiter.rate == 2.4


def test_settling_reads_spend_the_change_deadline_not_a_new_one(monkeypatch):
    class Unreadable(FakeTarget):
        reads = 0

        def has_taken_effect(self, change):
            self.reads += 1
            raise FakeTransientError("DescribeLoadBalancers")

    # The longest wait every time, so the time spent does not depend on luck.
    monkeypatch.setattr("random.uniform", lambda low, high: high)
    target, clock = Unreadable(), FakeClock()
    target.fail("CreateLoadBalancer", FakeTransientError("CreateLoadBalancer"), times=3)
    target.fail("CreateLoadBalancer", FakeLostResponseError("timed out"))
    policy = RetryPolicy(deadline=20.0, initial=1.0, max_wait=8.0)

    result = _runner(target, clock, policy=policy).run(_create_lb_change(target))

    assert result.outcome == Outcome.FAILED
    assert "reading it back failed" in result.message
    # Three retries waited 1+2+4 s; the reads had the 13 s left, not 20 more:
    # they waited 1+2+4 s again, and the next 8 s wait would end past 20.
    assert clock.sleeps == [1.0, 2.0, 4.0, 1.0, 2.0, 4.0]
    assert target.reads == 4
    assert clock.now <= 20.0
    assert target.calls == ["CreateLoadBalancer"] * 4


def test_a_lost_answer_is_read_once_even_past_the_deadline(monkeypatch):
    monkeypatch.setattr("random.uniform", lambda low, high: high)
    target, clock = FakeTarget(), FakeClock()
    target.fail("CreateLoadBalancer", FakeTransientError("CreateLoadBalancer"), times=2)
    target.fail(
        "CreateLoadBalancer", FakeLostResponseError("timed out"), take_effect=True
    )
    policy = RetryPolicy(deadline=3.5, initial=1.0, max_wait=8.0)

    result = _runner(target, clock, policy=policy).run(_create_lb_change(target))

    # 1 s and 2 s of waits leave 0.5 s: no time for another wait, but the
    # read that tells whether the create landed is still made.
    assert result.outcome == Outcome.SETTLED
    assert list(target.lbs) == ["chat"]
