"""A small client-side token bucket that slows down when the cloud throttles.

The apply runner can hand the target its own limiter instead
(``AlibabaSlbTarget.share_rate_limiter``), so reads, settling reads and
writes draw from one budget; the runner then takes the token for each write
and slows down on throttling itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    """What the client needs of a limiter (the runner's has the same shape)."""

    rate: float

    def acquire(self) -> float: ...

    def slow_down(self) -> None: ...

    def recover(self) -> None: ...


class TokenBucket:
    """``rate`` calls per second on average, bursts of up to ``burst``.

    ``slow_down`` halves the rate (down to ``min_rate``) after a throttling
    answer; each later successful call wins back a little, up to the rate
    it was built with.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 10,
        *,
        min_rate: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.max_rate = rate
        self.rate = rate
        self.min_rate = min(min_rate, rate)
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(
                self.burst, self._tokens + (now - self._stamp) * self.rate
            )
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> None:
        """Halve the rate after a throttling answer."""
        with self._lock:
            self.rate = max(self.min_rate, self.rate / 2)

    def recover(self) -> None:
        """Win back 10 % of the lost rate after a call that went through."""
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + self.max_rate * 0.1)
