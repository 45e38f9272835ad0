"""The runner holds each load balancer's lock while it changes it."""

from __future__ import annotations

from pathlib import Path

from slbsync.apply.report import Outcome
from slbsync.apply.runner import PlanRunner
from slbsync.errors import LockError
from slbsync.membership.locks import FileLoadBalancerLock, lock_factory, lock_for
from slbsync.plan.make import make_plan
from slbsync.targets.base import Target
from tests.apply.test_retry import FakeClock
from tests.fakes import FakeTarget, make_lb, make_spec


def test_each_load_balancer_is_changed_under_its_lock(tmp_path: Path) -> None:
    target = FakeTarget()
    spec = make_spec(make_lb("a"), make_lb("b"))
    taken: list[tuple[str, bool]] = []

    class Watched(FileLoadBalancerLock):
        def acquire(self, wait_seconds: float = 600.0) -> None:
            super().acquire(wait_seconds)
            taken.append((self.load_balancer, self._lock.is_locked))

    def locks(t: Target, lb: str) -> FileLoadBalancerLock:
        return Watched(t.name, lb, tmp_path)

    clock = FakeClock()
    plan = make_plan(spec, [target])
    runner = PlanRunner({"fake": target}, sleep=clock.sleep, clock=clock, locks=locks)
    report = runner.run(plan)

    assert report.failures == []
    assert sorted(taken) == [("a", True), ("b", True)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fake--a.lock",
        "fake--b.lock",
    ]


def test_a_held_lock_fails_that_load_balancer_only(tmp_path: Path) -> None:
    target = FakeTarget()
    spec = make_spec(make_lb("a"), make_lb("b"))
    holder = lock_for("fake", "a", None, lock_dir=tmp_path)
    holder.acquire()

    def locks(t: Target, lb: str) -> FileLoadBalancerLock:
        lock = FileLoadBalancerLock(t.name, lb, tmp_path)
        lock.acquire = lambda wait_seconds=0.05: FileLoadBalancerLock.acquire(  # type: ignore[method-assign]
            lock, 0.05
        )
        return lock

    clock = FakeClock()
    plan = make_plan(spec, [target])
    try:
        report = PlanRunner(
            {"fake": target}, sleep=clock.sleep, clock=clock, locks=locks
        ).run(plan)
    finally:
        holder.release()

    by_lb = {}
    for result in report.results:
        by_lb.setdefault(result.change.address.load_balancer, []).append(result)
    assert by_lb["a"][0].outcome == Outcome.FAILED
    assert "another run still holds" in by_lb["a"][0].message
    assert {r.outcome for r in by_lb["a"][1:]} == {Outcome.NOT_RUN}
    assert {r.outcome for r in by_lb["b"]} == {Outcome.OK}


class OneFileTarget(FakeTarget):
    """A target that, like nginx, writes one file for all load balancers."""

    writes_on_commit = True

    def __init__(self, lock_dir: Path) -> None:
        super().__init__()
        self.lock_dir = lock_dir
        self.held_at_commit: bool | None = None

    def lock_scope(self, load_balancer: str) -> str:
        return "owned.conf"

    def commit(self) -> None:
        # Another run's attempt at the lock, made while this commit runs.
        other = FileLoadBalancerLock(self.name, "owned.conf", self.lock_dir)
        try:
            other.acquire(wait_seconds=0.05)
        except LockError:
            self.held_at_commit = True
        else:
            other.release()
            self.held_at_commit = False
        super().commit()


def test_one_file_target_commits_under_its_one_lock(tmp_path: Path) -> None:
    target = OneFileTarget(tmp_path)
    spec = make_spec(make_lb("a"), make_lb("b"))

    plan = make_plan(spec, [target])
    report = PlanRunner({"fake": target}, locks=lock_factory(tmp_path)).run(plan)

    assert report.failures == [] and report.commit_errors == []
    assert target.held_at_commit is True
    assert [p.name for p in tmp_path.iterdir()] == ["fake--owned.conf.lock"]


def test_one_file_target_held_elsewhere_changes_nothing(tmp_path: Path) -> None:
    target = OneFileTarget(tmp_path)
    spec = make_spec(make_lb("a"), make_lb("b"))
    holder = lock_for("fake", "owned.conf", None, lock_dir=tmp_path)
    holder.acquire()

    def locks(t: Target, scope: str) -> FileLoadBalancerLock:
        lock = FileLoadBalancerLock(t.name, scope, tmp_path)
        lock.acquire = lambda wait_seconds=0.05: FileLoadBalancerLock.acquire(  # type: ignore[method-assign]
            lock, 0.05
        )
        return lock

    plan = make_plan(spec, [target])
    try:
        report = PlanRunner({"fake": target}, locks=locks).run(plan)
    finally:
        holder.release()

    assert "another run still holds" in report.failures[0].message
    assert {r.outcome for r in report.results[1:]} == {Outcome.NOT_RUN}
    assert target.calls == [] and target.held_at_commit is None
