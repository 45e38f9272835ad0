"""Faults the emulator injects into signed calls, as a real cloud has them.

Settings come from ``PUT /_emulator/faults`` or from the flags of
``slbsync emulator serve``:

- ``rate_limits``: calls per second by action name (``"*"`` for every
  action together), enforced with token buckets holding one second's worth;
  a call over the limit gets ``Throttling.User``.
- ``throttle_rate``, ``error_rate``, ``timeout_rate``, ``lost_response_rate``:
  the share (0 to 1) of signed calls that are throttled, fail with a 5xx,
  are held past the client's read timeout and dropped without a change, or
  are carried out and then dropped without an answer. One draw per call
  picks at most one of them, so each rate is its share of all signed calls
  and together they may not pass 1. A lost response needs a change to
  commit, so a read drawn for one is answered normally (see server.py).
- ``latency_ms``: added to every signed call; a number, or ``[min, max]``
  for a uniform random delay.
- ``configuring_ms``: the configuring window after a listener or server
  group change. Off (0) here; ``slbsync emulator serve`` and the embedded
  ``endpoint: local`` mode start with ``SERVED_CONFIGURING_MS``.
- ``seed``: the random draws repeat from run to run for the same seed.
- ``timeout_ms``: how long a timed-out call is held (default 11 s, past
  the SDK's 10 s read timeout); tests lower it with the client's timeout.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from slbsync.emulator.errors import (
    ApiError,
    InternalError,
    ServiceUnavailable,
    Throttling,
)

DEFAULT_TIMEOUT_MS = 11_000.0
# The window `slbsync emulator serve` and `endpoint: local` start with: short
# enough that slbsync's retries (0.5 s backoff) barely notice it, long enough
# that a client which never retries busy codes fails here as on the cloud.
SERVED_CONFIGURING_MS = 200.0
_RATES = ("throttle_rate", "error_rate", "timeout_rate", "lost_response_rate")


@dataclass
class FaultSettings:
    """What to inject; every field's zero value means no fault."""

    seed: int | None = None
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    latency_ms: float | list[float] = 0.0
    rate_limits: dict[str, float] = field(default_factory=dict)
    configuring_ms: float = 0.0
    timeout_ms: float = DEFAULT_TIMEOUT_MS

    @classmethod
    def from_json(cls, data: Any) -> FaultSettings:
        """Settings from a JSON object; a bad value raises ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            known = ", ".join(cls.__dataclass_fields__)
            raise ValueError(f"unknown fault setting {unknown[0]!r}; known: {known}")
        settings = cls()
        if data.get("seed") is not None:
            settings.seed = _number(data, "seed", int)
        for name in _RATES:
            if name in data:
                rate = _number(data, name, float)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1, got {rate}")
                setattr(settings, name, rate)
        _check_rates_fit(settings)
        for name in ("configuring_ms", "timeout_ms"):
            if name in data:
                setattr(settings, name, _non_negative(data, name))
        if "latency_ms" in data:
            settings.latency_ms = _latency(data["latency_ms"])
        if "rate_limits" in data:
            settings.rate_limits = _rate_limits(data["rate_limits"])
        return settings

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _check_rates_fit(settings: FaultSettings) -> None:
    """The rates are shares of the same calls, so they cannot add up past 1."""
    total = sum(getattr(settings, name) for name in _RATES)
    if total > 1.0 + 1e-9:
        shares = ", ".join(f"{name}={getattr(settings, name):g}" for name in _RATES)
        raise ValueError(
            f"the fault rates add up to {total:g}, more than 1 ({shares}); "
            "each is a share of all signed calls, so lower some of them"
        )


def _number(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return kind(value)


def _non_negative(data: dict[str, Any], name: str) -> float:
    value = float(_number(data, name, float))
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _latency(value: Any) -> float | list[float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError("latency_ms as a list must be [min, max]")
        low, high = (_non_negative({"latency_ms": v}, "latency_ms") for v in value)
        if low > high:
            raise ValueError(f"latency_ms [min, max] has min {low} > max {high}")
        return [low, high]
    return _non_negative({"latency_ms": value}, "latency_ms")


def _rate_limits(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError('rate_limits must be an object like {"*": 10}')
    limits = {}
    for action, rate in value.items():
        limits[str(action)] = _non_negative(
            {f"rate_limits.{action}": rate}, f"rate_limits.{action}"
        )
        if limits[str(action)] <= 0:
            raise ValueError(f"rate_limits.{action} must be above 0, got {rate}")
    return limits


@dataclass
class Decision:
    """What happens to one signed call."""

    latency_seconds: float = 0.0
    refusal: ApiError | None = None
    timeout_seconds: float | None = None  # hold this long, then drop
    lose_response: bool = False


class _TokenBucket:
    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = now

    def has_token(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens >= 1.0


def _server_error(draw: float, low: float, high: float) -> ApiError:
    """500 in the lower half of the error band, 503 in the upper half."""
    if draw < (low + high) / 2:
        return InternalError()
    return ServiceUnavailable()


class Faults:
    """Decides, call by call, which fault to inject."""

    def __init__(
        self,
        settings: FaultSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.configure(settings or FaultSettings())

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    @property
    def configuring_seconds(self) -> float:
        return self._settings.configuring_ms / 1000.0

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self._settings = settings
            self._random = random.Random(settings.seed)
            self._buckets: dict[str, _TokenBucket] = {}

    def decide(self, action: str) -> Decision:
        with self._lock:
            return self._decide(action)

    def _decide(self, action: str) -> Decision:
        settings = self._settings
        decision = Decision(latency_seconds=self._latency(settings))
        if not self._within_rate_limits(action):
            decision.refusal = Throttling()
            return decision

        # One draw per call, split into a band per fault laid end to end:
        # each rate is then its share of all signed calls, and a seed gives
        # the same faults for the same sequence of calls.
        draw = self._random.random()
        throttled = settings.throttle_rate
        failed = throttled + settings.error_rate
        timed_out = failed + settings.timeout_rate
        if draw < throttled:
            decision.refusal = Throttling()
        elif draw < failed:
            decision.refusal = _server_error(draw, throttled, failed)
        elif draw < timed_out:
            decision.timeout_seconds = settings.timeout_ms / 1000.0
        elif draw < timed_out + settings.lost_response_rate:
            decision.lose_response = True
        return decision

    def _latency(self, settings: FaultSettings) -> float:
        latency = settings.latency_ms
        if isinstance(latency, list):
            return self._random.uniform(latency[0], latency[1]) / 1000.0
        return latency / 1000.0

    def _within_rate_limits(self, action: str) -> bool:
        limits = self._settings.rate_limits
        if not limits:
            return True
        now = self._clock()
        buckets = []
        for key in (action, "*"):
            rate = limits.get(key)
            if rate is None:
                continue
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _TokenBucket(rate, now)
            buckets.append(bucket)
        # A refused call spends no token from any bucket.
        if not all(bucket.has_token(now) for bucket in buckets):
            return False
        for bucket in buckets:
            bucket.tokens -= 1.0
        return True
