import pytest

from slbsync.ratelimit import AdaptiveRateLimiter
from tests.apply.test_retry import FakeClock


def test_bucket_spaces_calls_after_the_burst():
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(10, burst=2, clock=clock, sleep=clock.sleep)

    for _ in range(12):
        limiter.acquire()

    # Two free, then ten at 10 calls/s: one second in all.
    assert clock.now == pytest.approx(1.0)


def test_throttling_halves_the_rate_and_success_recovers_gradually():
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(10, clock=clock, sleep=clock.sleep)

    limiter.slow_down()
    limiter.slow_down()
    assert limiter.rate == 2.5
    limiter.recover()
    assert limiter.rate == 3.0
    for _ in range(100):
        limiter.recover()
    assert limiter.rate == 10


def test_throttled_limiter_really_waits_longer():
    def time_for(calls, throttled):
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(10, burst=1, clock=clock, sleep=clock.sleep)
        if throttled:
            limiter.slow_down()
        for _ in range(calls):
            limiter.acquire()
        return clock.now

    # Half the rate, and no burst right after the throttle.
    assert time_for(11, throttled=False) == pytest.approx(1.0)
    assert time_for(11, throttled=True) == pytest.approx(2.2)


def test_rate_never_drops_below_the_floor():
    limiter = AdaptiveRateLimiter(4, min_rate=0.5)
    for _ in range(20):
        limiter.slow_down()
    assert limiter.rate == 0.5


def test_zero_rate_is_refused_clearly():
    with pytest.raises(ValueError, match="must be above 0 calls/s, not 0"):
        AdaptiveRateLimiter(0)
