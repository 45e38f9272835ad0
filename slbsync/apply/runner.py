"""Run a plan: load balancers in parallel, each one's changes in order.

Within a target, regional creates (ACLs, certificates) run first, since
listeners use them; then every load balancer's changes, independent load
balancers in parallel; then regional deletes, once nothing can use them.
A failed change stops the rest of its load balancer (they depend on each
other) while the others go on, unless the target offers another order for
them (``Target.order_after_failure``); the report lists each change's outcome, and
the next plan shows exactly what remains.

Given ``locks``, a load balancer's changes run holding the lock of its
scope (``Target.lock_scope``; ``membership.locks.lock_for``), so an apply, a
drift remediation and a registration never interleave their calls on one
load balancer. A target that writes on commit (nginx, HAProxy: one file for
all its load balancers) has its changes and its commit run holding every
scope it touches, so nothing registered meanwhile is rendered away.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from slbsync.apply.report import ApplyReport, ChangeResult, Outcome
from slbsync.apply.retry import ChangeRunner, RetryPolicy
from slbsync.diff.changes import Change, ChangeOp
from slbsync.errors import LockError, SlbsyncError, TargetError
from slbsync.plan.model import Plan, TargetPlan
from slbsync.ratelimit import AdaptiveRateLimiter
from slbsync.targets.base import Target

if TYPE_CHECKING:
    from slbsync.membership.locks import LoadBalancerLock

log = logging.getLogger(__name__)

Progress = Callable[[int, int, ChangeResult], None]
"""Called after each change: its number, the total, and its result."""

LockFactory = Callable[[Target, str], "LoadBalancerLock"]
"""Makes one lock of a target, by scope (``Target.lock_scope`` of a load balancer)."""

DEFAULT_PARALLELISM = 4
DEFAULT_RATE_LIMIT = 20.0  # calls per second, per run


class PlanRunner:
    """Carries out a plan's changes on its targets."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        limiter: AdaptiveRateLimiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        progress: Progress | None = None,
        locks: LockFactory | None = None,
    ) -> None:
        if parallelism < 1:
            raise ValueError(f"parallelism must be 1 or more, not {parallelism}")
        self.targets = targets
        self.parallelism = parallelism
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.progress = progress
        self.locks = locks
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._done = 0
        self._total = 0

    def run(self, plan: Plan) -> ApplyReport:
        """Apply every change of ``plan``; failures are in the report."""
        report = ApplyReport()
        self._done, self._total = 0, plan.write_calls
        for part in plan.targets:
            if part.changes:
                self._run_target(part, report)
        log.info(
            "apply: done ok=%d failed=%d not_run=%d",
            len(report.succeeded),
            len(report.failures),
            len(report.not_run),
        )
        return report

    def _run_target(self, part: TargetPlan, report: ApplyReport) -> None:
        target = self.targets[part.target]
        runner = ChangeRunner(
            target,
            policy=self.policy,
            limiter=self.limiter,
            sleep=self.sleep,
            clock=self.clock,
        )
        if target.writes_on_commit:
            self._run_holding_scopes(target, runner, part.changes, report)
            return
        self._run_changes(target, runner, part.changes, report, lock_chains=True)
        self._commit(target, report)

    def _run_changes(
        self,
        target: Target,
        runner: ChangeRunner,
        changes: Sequence[Change],
        report: ApplyReport,
        *,
        lock_chains: bool,
        held: Sequence[LoadBalancerLock] = (),
    ) -> None:
        regional_first, chains, regional_last = split_by_load_balancer(changes)

        ok = self._run_chain(runner, regional_first, report, held)
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            results = list(
                pool.map(
                    lambda chain: (
                        self._run_locked(target, runner, chain, report)
                        if lock_chains
                        else self._run_chain(runner, chain, report, held)
                    ),
                    chains,
                )
            )
        if ok and all(results):
            self._run_chain(runner, regional_last, report, held)
        else:
            # What an ACL or certificate delete waits for did not finish.
            self._skip(regional_last, report)

    def _run_holding_scopes(
        self,
        target: Target,
        runner: ChangeRunner,
        changes: Sequence[Change],
        report: ApplyReport,
    ) -> None:
        """Every change and the commit, holding all the target's scopes.

        Such a target stages changes and writes them on commit (one file for
        all its load balancers): a lock let go before the commit would let a
        registration in between, and the commit would render it away.
        """
        held: list[LoadBalancerLock] = []
        try:
            for scope in self._scopes(target, changes):
                assert self.locks is not None
                lock = self.locks(target, scope)
                lock.acquire()
                held.append(lock)
        except LockError as err:
            self._release(held)
            self._record(ChangeResult(changes[0], Outcome.FAILED, str(err), 0), report)
            self._skip(changes[1:], report)
            return
        try:
            self._run_changes(
                target, runner, changes, report, lock_chains=False, held=held
            )
            self._commit(target, report, held)
        finally:
            self._release(held)

    def _scopes(self, target: Target, changes: Sequence[Change]) -> list[str]:
        if self.locks is None:
            return []
        # Sorted: two runs taking the same scopes take them in the same order.
        return sorted({target.lock_scope(c.address.load_balancer) for c in changes})

    def _release(self, held: Sequence[LoadBalancerLock]) -> None:
        for lock in reversed(held):
            lock.release()

    def _commit(
        self,
        target: Target,
        report: ApplyReport,
        held: Sequence[LoadBalancerLock] = (),
    ) -> None:
        try:
            for lock in held:
                lock.ensure_held()  # a lost Redis lease: another run may write now
            target.commit()
        except TargetError as err:
            # A target's errors name the target already ("target edge: ...").
            report.commit_errors.append(str(err))
        except SlbsyncError as err:
            report.commit_errors.append(f"target {target.name}: {err}")

    def _run_locked(
        self,
        target: Target,
        runner: ChangeRunner,
        chain: Sequence[Change],
        report: ApplyReport,
    ) -> bool:
        """One load balancer's chain, holding its lock when locks are on."""
        if self.locks is None or not chain:
            return self._run_chain(runner, chain, report)
        lock = self.locks(target, target.lock_scope(chain[0].address.load_balancer))
        try:
            lock.acquire()
        except LockError as err:
            self._record(ChangeResult(chain[0], Outcome.FAILED, str(err), 0), report)
            self._skip(chain[1:], report)
            return False
        try:
            return self._run_chain(runner, chain, report, (lock,))
        finally:
            lock.release()

    def _run_chain(
        self,
        runner: ChangeRunner,
        chain: Sequence[Change],
        report: ApplyReport,
        held: Sequence[LoadBalancerLock] = (),
    ) -> bool:
        for index, change in enumerate(chain):
            try:
                for lock in held:
                    lock.ensure_held()  # a lost Redis lease stops the chain
            except LockError as err:
                result = ChangeResult(change, Outcome.FAILED, str(err), 0)
            else:
                result = runner.run(change)
            if not result.succeeded and result.error is not None:
                # The target may know an order that lets the change succeed
                # (removes before an add at the server quota); the failure is
                # then not the change's outcome, its second try is.
                reordered = runner.target.order_after_failure(
                    change, result.error, chain[index + 1 :]
                )
                if reordered is not None:
                    return self._run_chain(runner, reordered, report, held)
            self._record(result, report)
            if not result.succeeded:
                self._skip(chain[index + 1 :], report)
                return False
        return True

    def _skip(self, changes: Sequence[Change], report: ApplyReport) -> None:
        for change in changes:
            message = "not run: an earlier change it depends on failed"
            self._record(ChangeResult(change, Outcome.NOT_RUN, message, 0), report)

    def _record(self, result: ChangeResult, report: ApplyReport) -> None:
        with self._lock:
            self._done += 1
            report.results.append(result)
            number = self._done
        level = logging.INFO if result.succeeded else logging.WARNING
        log.log(
            level,
            "apply: change=%s outcome=%s attempts=%d",
            result.change.summary,
            result.outcome,
            result.attempts,
        )
        if self.progress is not None:
            self.progress(number, self._total, result)


def split_by_load_balancer(
    changes: Sequence[Change],
) -> tuple[list[Change], list[list[Change]], list[Change]]:
    """Regional creates, one chain per load balancer, regional deletes."""
    first: list[Change] = []
    last: list[Change] = []
    chains: dict[str, list[Change]] = {}
    for change in changes:
        lb = change.address.load_balancer
        if lb:
            chains.setdefault(lb, []).append(change)
        elif change.op == ChangeOp.DELETE and not change.replacement:
            last.append(change)
        else:
            first.append(change)
    return first, list(chains.values()), last
