"""``register`` and ``deregister``: one server joins or leaves one group.

Both are safe to repeat: each step reads the group first and does only
what is still missing (an added server is not added twice, a removed one
not removed twice), so a boot script or lifecycle hook can simply retry.

Every change to the group holds the load balancer's lock (the one
``apply`` and drift remediation take), and only for as long as the change
takes: the waits (for health, between slow-start steps, for a drain) run
without it, so a node draining for five minutes never blocks others from
joining.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from slbsync.errors import ApplyError
from slbsync.membership.group import GroupHandle, GroupView
from slbsync.membership.guard import DrainLimit, check_capacity
from slbsync.membership.locks import LoadBalancerLock, target_lock
from slbsync.membership.probes import Probe, probe_for
from slbsync.spec.model import Server

log = logging.getLogger(__name__)

HEALTH_POLL_SECONDS = 2.0
DRAIN_POLL_SECONDS = 1.0
READ_ATTEMPTS = 40  # with waits of up to READ_MAX_WAIT: several minutes at most
READ_MAX_WAIT = 10.0
MAX_SLOW_START_STEPS = 10
SLOW_START_STEP_SECONDS = 5.0

DrainProgress = Callable[[float, float, int | None], None]
"""Called while a drain waits: seconds waited, seconds allowed, open sessions."""


@dataclass
class Outcome:
    """What a register or deregister did, for the command to print."""

    server: Server
    steps: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        log.info("membership: server=%s %s", self.server.label, text)
        self.steps.append(text)


def slow_start_weights(weight: int, seconds: float) -> list[int]:
    """The weights a slow start goes through, ending at ``weight``."""
    steps = int(min(MAX_SLOW_START_STEPS, max(1, seconds // SLOW_START_STEP_SECONDS)))
    return sorted({max(1, math.ceil(weight * k / steps)) for k in range(1, steps + 1)})


class Membership:
    """Register and deregister servers of one group, under its lock."""

    def __init__(
        self,
        group: GroupHandle,
        *,
        lock_dir: Path | None = None,  # None: the shared rule, lock_dir_for
        lock_wait: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        probe: Probe | None = None,
    ) -> None:
        self.group = group
        self.target = group.target
        self.lock_dir = lock_dir
        self.lock_wait = lock_wait
        self.sleep = sleep
        self.clock = clock
        self.probe = probe or probe_for(group.target, group.lb.name, group.group.name)
        self._lease: LoadBalancerLock | None = None  # held by the current step

    @contextmanager
    def _locked(self, known: GroupView | None = None) -> Iterator[GroupView]:
        """Hold the load balancer's lock and read the group afresh.

        ``known``, an earlier full read, lets the target read only the
        members again (on SLB one call instead of five): the later steps of
        a slow start and the removal after a drain hold the lock for less.
        """
        scope = self.target.lock_scope(self.group.lb.name)
        lock = target_lock(self.target, scope, self.lock_dir)
        lock.acquire(self.lock_wait)
        self._lease = lock
        try:
            fresh = self._refresh(known) if known is not None else None
            yield fresh or self._read()
            lock.ensure_held()
        finally:
            self._lease = None
            lock.release()

    def _ensure_lease(self) -> None:
        """Stop before a write if the lock was lost since it was taken.

        A Redis lease can lapse during a long (throttled) read; another run
        may hold it now, and a write would interleave with that run's.
        """
        if self._lease is not None:
            self._lease.ensure_held()

    def _put(self, view: GroupView, server: Server) -> str:
        self._ensure_lease()
        return self.group.put(view, server)

    def _remove(self, view: GroupView, server: Server) -> bool:
        self._ensure_lease()
        return self.group.remove(view, server)

    def _refresh(self, known: GroupView) -> GroupView | None:
        try:
            return self.probe.refresh(known)
        except Exception as err:
            if not self.target.is_transient(err):
                raise
            return None  # the full read below retries

    def _read(self) -> GroupView:
        # Read again after throttling or a busy cloud, as a plan does.
        return retry_read(self.group, self.sleep)

    # -- register -------------------------------------------------------------

    def register(
        self,
        server: Server,
        *,
        slow_start: float = 0.0,
        wait_healthy: bool = False,
        health_timeout: float = 300.0,
    ) -> Outcome:
        """Add ``server`` (or set its weight), then wait and ramp as asked."""
        outcome = Outcome(server)
        ramp = slow_start_weights(server.weight, slow_start) if slow_start else []
        # The first read is made under the lock: two hundred nodes booting
        # together would otherwise read together and be throttled together.
        with self._locked() as known:
            view = known
            have = view.member(server.key)
            joining = have is None or have.weight == 0
            first = ramp[0] if ramp and joining else server.weight
            if not joining:
                ramp = []
            done = self._put(view, replace(server, weight=first))
            outcome.note(f"{done} at weight {first}")
        if wait_healthy:
            self._wait_healthy(server, health_timeout, outcome, known)
        for weight in ramp[1:]:
            self.sleep(slow_start / len(ramp))
            with self._locked(known) as view:
                if view.member(server.key) is None:
                    raise ApplyError(
                        f"slow start of {server.label} stopped: it is no longer a member of {self.group.label} (deregistered meanwhile?)"  # noqa: E501
                    )
                self._put(view, replace(server, weight=weight))
            outcome.note(f"slow start: weight {weight}")
        return outcome

    def _wait_healthy(
        self, server: Server, timeout: float, outcome: Outcome, known: GroupView
    ) -> None:
        deadline = self.clock() + timeout
        while True:
            view = self._refresh(known) or self._read()
            assumed = self.probe.no_health_because(view)
            if assumed:
                outcome.note(f"healthy: assumed, {assumed}")
                return
            verdict = self.probe.health(view).get(server.key)
            if verdict is True:
                outcome.note("healthy")
                return
            if self.clock() >= deadline:
                state = "unhealthy" if verdict is False else "not yet checked"
                raise ApplyError(
                    f"{server.label} is still {state} on {self.group.label} after {timeout:.0f}s; it stays registered: check the node and its health check, then run register again"  # noqa: E501
                )
            self.sleep(HEALTH_POLL_SECONDS)

    # -- deregister -----------------------------------------------------------

    def deregister(
        self,
        server: Server,
        *,
        drain: float = 300.0,
        limit: DrainLimit | None = None,
        force: bool = False,
        progress: DrainProgress | None = None,
    ) -> Outcome:
        """Weight 0, wait for the drain without the lock, then remove."""
        outcome = Outcome(server)
        with self._locked() as known:
            view = known
            have = view.member(server.key)
            if have is None:
                outcome.note("not a member; nothing to do")
                return outcome
            if have.weight > 0:
                if not force:
                    health = self.probe.health(view)
                    check_capacity(
                        self.group.label,
                        view.members,
                        health,
                        have,
                        limit or DrainLimit(),
                    )
                self._put(view, replace(have, weight=0))
                outcome.note("weight 0: no new connections")
            wait = self.probe.drain_wait(view, drain)

        left = self._wait_drained(have, wait, progress)
        outcome.note(
            f"drained after {left[0]:.0f}s"
            if not left[1]
            else f"drain over after {left[0]:.0f}s with {left[1]} sessions open"
        )

        with self._locked(known) as view:
            if left[1]:
                self._ensure_lease()
                self.probe.cut(have)
                outcome.note(f"cut {left[1]} sessions")
            removed = self._remove(view, have)
            outcome.note("removed" if removed else "already removed")
        return outcome

    def _wait_drained(
        self, server: Server, wait: float, progress: DrainProgress | None
    ) -> tuple[float, int]:
        """Wait up to ``wait`` seconds; (seconds waited, sessions still open)."""
        start = self.clock()
        while True:
            waited = self.clock() - start
            sessions = self.probe.sessions(server)
            if progress is not None:
                progress(waited, wait, sessions)
            if sessions == 0 and self.probe.waits_for_sessions:
                return waited, 0
            if waited >= wait:
                return waited, sessions or 0
            self.sleep(min(DRAIN_POLL_SECONDS, wait - waited))


def retry_read(
    group: GroupHandle,
    sleep: Callable[[float], None],
    *,
    attempts: int = READ_ATTEMPTS,
) -> GroupView:
    """``group.read()``, read again after a transient error (bounded).

    Full jitter: two hundred nodes booting together are throttled together,
    and must not come back together.
    """
    target = group.target
    for attempt in range(1, attempts + 1):
        try:
            return group.read()
        except Exception as err:
            if attempt == attempts or not (
                target.is_transient(err) or target.is_outcome_unknown(err)
            ):
                raise
            delay = random.uniform(0, min(READ_MAX_WAIT, 0.5 * 2**attempt))
            log.info(
                "membership: read again attempt=%d delay=%.2fs cause=%s",
                attempt,
                delay,
                err,
            )
            sleep(delay)
    raise AssertionError("unreachable")
