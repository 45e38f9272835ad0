from dataclasses import replace

import pytest

from slbsync.errors import SafetyError
from slbsync.plan.make import make_plan
from slbsync.plan.safety import check_safety
from slbsync.spec.model import Listener, Protocol, ServerGroup
from tests.fakes import FakeTarget, make_lb, make_spec


def test_plan_orders_changes_and_counts_reads():
    target = FakeTarget()
    spec = make_spec(make_lb(servers=4))

    plan = make_plan(spec, [target])

    actions = [c.action for c in plan.changes]
    assert actions == [
        "CreateLoadBalancer",
        "CreateServerGroup",
        "AddServers",
        "AddServers",
        "CreateListener",
        "StartListener",
    ]
    assert plan.counts() == {"add": 3, "change": 0, "delete": 0}
    assert plan.read_calls == 2
    assert (
        plan.targets[0].live_fingerprint == target.read_live_state(spec).fingerprint()
    )


def test_plan_keeps_skipped_warnings():
    target = FakeTarget()
    target.seed(make_lb(), owned=False)

    plan = make_plan(make_spec(make_lb(servers=5)), [target])

    assert plan.is_empty
    assert "set adopt: true" in plan.targets[0].skipped[0]


def test_removing_many_servers_needs_force_naming_the_group():
    target = FakeTarget()
    target.seed(make_lb(servers=10))
    plan = make_plan(make_spec(make_lb(servers=6)), [target])

    with pytest.raises(SafetyError) as caught:
        check_safety(plan)

    assert "removes 4 of 10 servers (40%) from server group chat/ws" in str(
        caught.value
    )
    assert "over the 30% limit" in str(caught.value)
    assert "pass --force (or raise --max-removal)" in str(caught.value)
    check_safety(plan, force=True)
    check_safety(plan, max_removal=0.5)


def test_removing_a_few_servers_is_allowed():
    target = FakeTarget()
    target.seed(make_lb(servers=10))

    check_safety(make_plan(make_spec(make_lb(servers=7)), [target]))


def test_deleting_a_listener_needs_force():
    target = FakeTarget()
    extra = Listener(protocol=Protocol.UDP, port=53, server_group="ws")
    target.seed(make_lb(listeners=(*make_lb().listeners, extra)))
    plan = make_plan(make_spec(make_lb()), [target], prune=True)

    with pytest.raises(SafetyError, match="deletes listener chat udp/53"):
        check_safety(plan)
    check_safety(plan, force=True)


def test_listener_replacement_needs_force():
    target = FakeTarget()
    target.seed(make_lb())
    https = Listener(protocol=Protocol.HTTP, port=443, server_group="ws")
    plan = make_plan(make_spec(make_lb(listeners=(https,))), [target])

    assert [c.replacement for c in plan.changes[:2]] == [True, True]
    with pytest.raises(SafetyError, match="deletes listener chat tcp/443"):
        check_safety(plan)


def test_delete_protection_is_refused_even_with_force():
    target = FakeTarget()
    target.seed(make_lb("old", deletion_protection=True))
    plan = make_plan(make_spec(make_lb()), [target], prune=True)

    with pytest.raises(SafetyError, match="old has delete protection on"):
        check_safety(plan, force=True)


def test_deleting_a_group_counts_all_its_servers():
    target = FakeTarget()
    old = ServerGroup(name="old", servers=make_lb(servers=2).server_groups[0].servers)
    target.seed(make_lb(server_groups=(*make_lb().server_groups, old)))
    plan = make_plan(make_spec(make_lb()), [target], prune=True)

    removal = plan.targets[0].safety.server_removals[0]
    assert (removal.group, removal.removed, removal.total) == ("chat/old", 2, 2)


def test_deletes_only_with_prune():
    target = FakeTarget()
    target.seed(make_lb("gone"))
    spec = make_spec(make_lb())

    assert "DeleteLoadBalancer" not in [
        c.action for c in make_plan(spec, [target]).changes
    ]
    pruned = make_plan(spec, [target], prune=True)
    assert pruned.changes[-1].action == "DeleteLoadBalancer"
    assert replace(pruned, prune=False).counts()["delete"] == 1


def test_transient_read_errors_are_read_again():
    from slbsync.plan.make import read_with_retries
    from tests.fakes import FakeThrottledError

    target = FakeTarget()
    target.read_failures = [FakeThrottledError("DescribeLoadBalancers")] * 3
    waits = []

    live = read_with_retries(target, make_spec(make_lb()), sleep=waits.append)

    assert target.reads_attempted == 4
    assert len(waits) == 3
    assert live.load_balancers == ()


def test_other_read_errors_are_not_retried():
    from slbsync.plan.make import read_with_retries
    from tests.fakes import FakeRejectedError

    target = FakeTarget()
    target.read_failures = [FakeRejectedError("DescribeLoadBalancers", "denied")]

    with pytest.raises(FakeRejectedError, match="denied"):
        read_with_retries(target, make_spec(make_lb()), sleep=lambda s: None)
    assert target.reads_attempted == 1
