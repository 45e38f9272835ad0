import pytest

from slbsync.apply.report import Outcome
from slbsync.apply.runner import PlanRunner, split_by_load_balancer
from slbsync.errors import ApplyError
from slbsync.plan.make import make_plan
from slbsync.spec.model import Acl, AclBinding, AclEntry, Listener, Protocol
from tests.apply.test_retry import FakeClock
from tests.fakes import FakeRejectedError, FakeTarget, make_lb, make_spec


def _run(target, spec, **kw):
    clock = FakeClock()
    plan = make_plan(spec, [target], prune=kw.pop("prune", False))
    runner = PlanRunner({"fake": target}, sleep=clock.sleep, clock=clock, **kw)
    return plan, runner.run(plan)


def test_apply_then_plan_is_empty_and_commits():
    target = FakeTarget()
    spec = make_spec(make_lb("a", servers=5), make_lb("b"), make_lb("c"))

    _, report = _run(target, spec)

    assert report.failures == []
    assert target.commits == 1
    assert make_plan(spec, [target]).is_empty


def test_failure_stops_its_load_balancer_but_not_the_others():
    target = FakeTarget()
    spec = make_spec(make_lb("a"), make_lb("b"))
    target.fail("CreateServerGroup", FakeRejectedError("CreateServerGroup", "no"))

    _, report = _run(target, spec, parallelism=1)

    outcomes = {
        (r.change.address.load_balancer, r.change.action): r.outcome
        for r in report.results
    }
    assert outcomes[("a", "CreateServerGroup")] == Outcome.FAILED
    assert outcomes[("a", "CreateListener")] == Outcome.NOT_RUN
    assert outcomes[("b", "StartListener")] == Outcome.OK
    with pytest.raises(ApplyError) as caught:
        report.raise_for_failures()
    message = str(caught.value)
    assert "apply failed: 1 failed, 3 not run, 6 done" in message
    assert "a server group ws: target fake: CreateServerGroup failed with" in message
    assert "run slbsync plan to see what remains" in message

    # The next plan holds exactly what did not happen.
    remaining = make_plan(spec, [target])
    assert [c.action for c in remaining.changes] == [
        "CreateServerGroup",
        "AddServers",
        "CreateListener",
        "StartListener",
    ]


def test_regional_creates_first_and_deletes_last():
    target = FakeTarget()
    target.seed_acl(Acl(name="old", target="fake"))
    office = Acl(name="office", target="fake", entries=(AclEntry("10.0.0.0/8"),))
    listener = Listener(
        protocol=Protocol.TCP, port=443, server_group="ws", acl=AclBinding("office")
    )
    spec = make_spec(make_lb(listeners=(listener,)), acls=(office,))

    _, report = _run(target, spec, prune=True)

    actions = [r.change.action for r in report.results]
    assert actions[0] == "CreateAcl"
    assert actions[-1] == "DeleteAcl"
    assert report.failures == []
    assert make_plan(spec, [target], prune=True).is_empty


def test_regional_deletes_wait_when_a_load_balancer_failed():
    target = FakeTarget()
    target.seed_acl(Acl(name="old", target="fake"))
    target.fail("CreateListener", FakeRejectedError("CreateListener", "no"))

    _, report = _run(target, make_spec(make_lb()), prune=True)

    last = report.results[-1]
    assert (last.change.action, last.outcome) == ("DeleteAcl", Outcome.NOT_RUN)


def test_progress_is_reported_per_change():
    target = FakeTarget()
    seen = []

    _run(
        target,
        make_spec(make_lb()),
        progress=lambda n, total, r: seen.append((n, total, r.change.action)),
    )

    assert seen[0] == (1, 5, "CreateLoadBalancer")
    assert seen[-1] == (5, 5, "StartListener")


def test_split_keeps_each_load_balancer_in_order():
    target = FakeTarget()
    plan = make_plan(make_spec(make_lb("a"), make_lb("b")), [target])

    first, chains, last = split_by_load_balancer(plan.changes)

    assert first == [] and last == []
    assert [[c.action for c in chain] for chain in chains] == [
        [
            "CreateLoadBalancer",
            "CreateServerGroup",
            "AddServers",
            "CreateListener",
            "StartListener",
        ],
    ] * 2


def test_interrupt_lets_calls_in_flight_finish_and_starts_nothing_new():
    target = FakeTarget()
    spec = make_spec(make_lb("a"), make_lb("b"))
    clock = FakeClock()
    plan = make_plan(spec, [target])
    runner = PlanRunner({"fake": target}, sleep=clock.sleep, clock=clock)

    def interrupt(number, total, result):
        if number == 2:
            raise KeyboardInterrupt

    runner.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        runner.run(plan)

    assert len(target.calls) < len(plan.changes)
    assert make_plan(spec, [target]).write_calls == len(plan.changes) - len(
        target.calls
    )


def test_commit_error_names_its_target_once():
    from slbsync.errors import ConfigRejectedError

    class RejectingTarget(FakeTarget):
        def commit(self) -> None:
            raise ConfigRejectedError("target fake: nginx -t rejected the config")

    target = RejectingTarget()
    _, report = _run(target, make_spec(make_lb("a")))

    assert report.commit_errors == ["target fake: nginx -t rejected the config"]


class _ListenerAfterGroupTarget(FakeTarget):
    """Offers, once, to run the rest of the chain before a failed change."""

    def __init__(self):
        super().__init__()
        self.offers = 0

    def order_after_failure(self, failed, error, rest):
        if self.offers or not rest:
            return None
        self.offers += 1
        return [*rest, failed]


def test_order_offered_by_the_target_runs_instead_of_stopping():
    target = _ListenerAfterGroupTarget()
    spec = make_spec(make_lb("a"))
    target.fail("AddServers", FakeRejectedError("AddServers", "not yet"))

    _, report = _run(target, spec)

    assert report.failures == []
    # The failed add is not an outcome: only its second try is recorded.
    assert [r.change.action for r in report.results][-2:] == [
        "StartListener",
        "AddServers",
    ]
    assert target.calls.count("AddServers") == 2
    assert make_plan(spec, [target]).is_empty


def test_failure_stands_when_the_target_offers_no_order():
    target = _ListenerAfterGroupTarget()
    spec = make_spec(make_lb("a"))
    target.fail("AddServers", FakeRejectedError("AddServers", "no"), times=2)

    _, report = _run(target, spec)

    # Offered once; the second failure stops the chain as usual.
    assert [r.change.action for r in report.failures] == ["AddServers"]
    assert target.offers == 1
