"""The client-side token bucket, and sharing the runner's limiter."""

from __future__ import annotations

from slbsync.apply.ratelimit import AdaptiveRateLimiter
from slbsync.targets.alibaba_slb.ratelimit import TokenBucket
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.targets.alibaba_slb.conftest import plan, spec_of
from tests.targets.alibaba_slb.test_errors import chat


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_paces_calls() -> None:
    clock = Clock()
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)

    waits = [bucket.acquire() for _ in range(5)]

    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [0.1, 0.1]


def test_bucket_halves_when_throttled_and_recovers_slowly() -> None:
    bucket = TokenBucket(20, min_rate=1)

    bucket.slow_down()
    bucket.slow_down()
    assert bucket.rate == 5
    bucket.recover()
    assert bucket.rate == 7
    for _ in range(20):
        bucket.recover()
    assert bucket.rate == 20


def test_shared_runner_limiter_paces_reads_and_leaves_writes_to_the_runner(
    target: AlibabaSlbTarget,
) -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(1000, burst=1000, clock=clock, sleep=clock.sleep)
    taken: list[str] = []
    original = limiter.acquire

    def counting_acquire() -> float:
        taken.append("token")
        return original()

    limiter.acquire = counting_acquire  # type: ignore[method-assign]
    target.share_rate_limiter(limiter)

    live, changes = plan(target, spec_of(chat()))
    assert len(taken) == live.read_calls
    for change in changes:
        target.apply_change(change)

    assert len(taken) == live.read_calls  # the runner takes the write tokens
