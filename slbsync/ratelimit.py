"""A client-side rate limit that backs off when the cloud throttles.

Shared by the apply runner and the cloud targets (which read with it, and
take the runner's limiter when it hands them one), so it sits outside both.

A token bucket: ``rate`` calls per second on average, bursts up to
``burst``. A throttling answer halves the rate (additive increase,
multiplicative decrease, as TCP does), and every call that goes through wins
back a twentieth of the configured rate, so a fleet that was throttled once
returns to full speed after a few dozen calls, not at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    """What a caller needs of a limiter: a token per call, and feedback."""

    rate: float

    def acquire(self) -> float: ...

    def slow_down(self) -> None: ...

    def recover(self) -> None: ...


class AdaptiveRateLimiter:
    """Thread-safe token bucket whose rate halves on throttling."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        min_rate: float = 0.5,
        recovery: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"the rate limit must be above 0 calls/s, not {rate}")
        self.max_rate = float(rate)
        self.rate = float(rate)
        self.min_rate = min(min_rate, self.max_rate)
        self.burst = burst if burst is not None else max(1, int(rate))
        self.recovery = recovery
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is there; returns the wait."""
        with self._lock:
            now = self._clock()
            refill = (now - self._stamp) * self.rate
            self._tokens = min(float(self.burst), self._tokens + refill)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> None:
        """Halve the rate after a throttling answer."""
        with self._lock:
            before = self.rate
            self.rate = max(self.min_rate, self.rate / 2)
            # Spent tokens stay spent: a burst right after a throttle would
            # only be throttled again.
            self._tokens = min(self._tokens, 0.0)
        log.warning(
            "rate limit: throttled, rate=%.2f/s (was %.2f/s)", self.rate, before
        )

    def recover(self) -> None:
        """Win back part of the configured rate after a call went through."""
        with self._lock:
            if self.rate < self.max_rate:
                step = self.max_rate * self.recovery
                self.rate = min(self.max_rate, self.rate + step)
