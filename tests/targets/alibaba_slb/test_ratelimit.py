"""Sharing the runner's rate limiter (the bucket itself: tests/test_ratelimit.py)."""

from __future__ import annotations

from slbsync.ratelimit import AdaptiveRateLimiter
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
