"""Carry out one change with retries that are safe.

Only errors the target documents as transient are retried, with
exponential backoff and full jitter under a total deadline. A call whose
outcome is unknown (sent, then the answer was lost) is never repeated
blindly: the target reads the live state to settle it first, and only a
call shown not to have taken effect is sent again. One deadline covers a
change from its first attempt: its retries, and the reads that settle a
lost answer, all spend the same budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from slbsync.apply.report import ChangeResult, Outcome
from slbsync.diff.changes import Change
from slbsync.errors import CloudApiError
from slbsync.ratelimit import AdaptiveRateLimiter
from slbsync.targets.base import ChangeOutcome, Target

log = logging.getLogger(__name__)

DEFAULT_RETRY_DEADLINE = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``min(max_wait, initial * 2**n)`` with full jitter, per change."""

    # Seconds from a change's first attempt to its last call, settling reads
    # included; ``slbsync apply --retry-deadline`` sets it.
    deadline: float = DEFAULT_RETRY_DEADLINE
    initial: float = 0.5
    max_wait: float = 20.0


class NotTakenEffect(Exception):
    """An unknown outcome settled by reading: the call did not land; resend."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class OutcomeUnknownError(Exception):
    """An unknown outcome that reading the live state could not settle."""


class stop_after_clock_delay(stop_base):
    """``stop_after_delay`` on an injectable clock.

    tenacity times its own ``stop_after_delay`` with ``time.monotonic``;
    tests inject a clock that their fake sleep advances, so the deadline
    is measured here on that clock. It also stops when the next wait would
    end past the deadline, so a change never sleeps beyond it.
    """

    def __init__(self, deadline: float, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock
        self.start = clock()

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.clock() - self.start
        return elapsed + retry_state.upcoming_sleep >= self.deadline


class ChangeRunner:
    """Runs single changes against one target with the retry policy."""

    def __init__(
        self,
        target: Target,
        *,
        policy: RetryPolicy | None = None,
        limiter: AdaptiveRateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        self.sleep = sleep
        self.clock = clock

    def run(self, change: Change) -> ChangeResult:
        """Carry out ``change``; the result says ok, settled or failed."""
        attempts = 0
        # Started now, shared by the retries and any settling reads.
        deadline = stop_after_clock_delay(self.policy.deadline, self.clock)

        def attempt() -> tuple[ChangeOutcome, Outcome]:
            nonlocal attempts
            attempts += 1
            return self._attempt(change, deadline)

        try:
            outcome, status = self._retrying(change, deadline).__call__(attempt)
        except NotTakenEffect as err:
            return ChangeResult(
                change, Outcome.FAILED, str(err.cause), attempts, error=err.cause
            )
        except Exception as err:  # reported per change; the run goes on
            return ChangeResult(
                change, Outcome.FAILED, _message(err), attempts, error=err
            )
        return ChangeResult(change, status, outcome.note, attempts, outcome.created_id)

    def _retrying(self, change: Change, deadline: stop_after_clock_delay) -> Retrying:
        return Retrying(
            retry=retry_if_exception(self._is_retryable),
            wait=wait_random_exponential(
                multiplier=self.policy.initial, max=self.policy.max_wait
            ),
            stop=deadline,
            sleep=self.sleep,
            before_sleep=lambda state: _log_retry(change, state),
            reraise=True,
        )

    def _is_retryable(self, error: BaseException) -> bool:
        return isinstance(error, NotTakenEffect) or self.target.is_transient(error)

    def _attempt(
        self, change: Change, deadline: stop_after_clock_delay
    ) -> tuple[ChangeOutcome, Outcome]:
        if self.limiter is not None:
            self.limiter.acquire()
        try:
            outcome = self.target.apply_change(change)
        except Exception as err:
            if self.limiter is not None and is_throttling(self.target, err):
                self.limiter.slow_down()
            if self.target.is_outcome_unknown(err):
                if self._settle(change, err, deadline):
                    note = "the answer was lost; a read showed the change took effect"
                    return ChangeOutcome(change, note=note), Outcome.SETTLED
                raise NotTakenEffect(err) from err
            raise
        if self.limiter is not None:
            self.limiter.recover()
        return outcome, Outcome.OK

    def _settle(
        self, change: Change, cause: BaseException, deadline: stop_after_clock_delay
    ) -> bool:
        """Whether ``change`` took effect, read with retries until ``deadline``.

        The first read is made even when the deadline has passed: without it
        the outcome stays unknown, and the user would have to find out.
        """
        log.info(
            "apply: outcome unknown, reading back: change=%s cause=%s",
            change.summary,
            _message(cause),
        )
        reading = Retrying(
            retry=retry_if_exception(self.target.is_transient),
            wait=wait_random_exponential(
                multiplier=self.policy.initial, max=self.policy.max_wait
            ),
            stop=deadline,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return bool(reading(self.target.has_taken_effect, change))
        except Exception as err:
            raise OutcomeUnknownError(
                f"{change.action} was sent but its answer was lost ({_message(cause)}),"
                f" and reading it back failed: {_message(err)}; run slbsync plan to "
                "see whether it took effect"
            ) from err


def is_throttling(target: Target, error: BaseException) -> bool:
    """Whether ``error`` is the cloud saying "too fast"."""
    check: Any = getattr(target, "is_throttling", None)
    if check is not None:
        return bool(check(error))
    return isinstance(error, CloudApiError) and "Throttling" in error.code


def _log_retry(change: Change, state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, NotTakenEffect):
        error = error.cause
    log.info(
        "apply: retry change=%s attempt=%d delay=%.2fs cause=%s",
        change.summary,
        state.attempt_number,
        state.upcoming_sleep,
        _message(error) if error else "unknown",
    )


def _message(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text
