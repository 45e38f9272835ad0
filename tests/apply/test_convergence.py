"""Property: for any desired and live state, applying the plan converges."""

from dataclasses import replace

from hypothesis import HealthCheck as Health
from hypothesis import given, settings
from hypothesis import strategies as st

from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
from slbsync.spec.model import (
    Acl,
    AclBinding,
    AclEntry,
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
)
from tests.apply.test_retry import FakeClock
from tests.fakes import FakeTarget, make_spec

GROUPS = ("ws", "admin", "api")
ACLS = (Acl(name="office", target="fake", entries=(AclEntry("10.0.0.0/8"),)),)


@st.composite
def servers(draw):
    ids = draw(st.sets(st.integers(0, 8), max_size=6))
    return tuple(
        Server(port=8080, id=f"i-{n}", weight=draw(st.integers(0, 100)))
        for n in sorted(ids)
    )


@st.composite
def load_balancers(draw, name):
    names = draw(st.sets(st.sampled_from(GROUPS), min_size=1))
    groups = tuple(ServerGroup(name=g, servers=draw(servers())) for g in sorted(names))
    listeners = []
    ports = draw(st.sets(st.sampled_from([80, 443, 8443]), max_size=3))
    for port in sorted(ports):
        protocol = draw(st.sampled_from([Protocol.TCP, Protocol.HTTP]))
        group = draw(st.sampled_from(sorted(names)))
        rules = ()
        if protocol == Protocol.HTTP and draw(st.booleans()):
            rules = (ForwardingRule(name="api", server_group=group, url="/api"),)
        listeners.append(
            Listener(
                protocol=protocol,
                port=port,
                server_group=group,
                scheduler=draw(st.sampled_from(["round_robin", "least_connections"])),
                health_check=HealthCheck(interval=draw(st.integers(1, 5))),
                acl=AclBinding("office") if draw(st.booleans()) else None,
                rules=rules,
            )
        )
    return LoadBalancer(
        name=name,
        target="fake",
        tags=draw(st.sampled_from([(), (("app", "chat"),)])),
        server_groups=groups,
        listeners=tuple(listeners),
    )


@st.composite
def fleets(draw):
    names = draw(st.sets(st.sampled_from(["a", "b", "c"]), max_size=3))
    return tuple(draw(load_balancers(name)) for name in sorted(names))


@settings(max_examples=60, deadline=None, suppress_health_check=[Health.too_slow])
@given(desired=fleets(), live=fleets(), prune=st.booleans())
def test_applying_a_plan_leaves_nothing_to_do(desired, live, prune):
    target = FakeTarget()
    target.seed_acl(ACLS[0])
    for lb in live:
        target.seed(lb)
    spec = make_spec(*desired, acls=ACLS)
    clock = FakeClock()

    plan = make_plan(spec, [target], prune=prune)
    report = PlanRunner({"fake": target}, sleep=clock.sleep, clock=clock).run(plan)

    assert report.failures == [], [r.message for r in report.failures]
    assert make_plan(spec, [target], prune=prune).is_empty


@settings(max_examples=30, deadline=None)
@given(desired=fleets(), live=fleets())
def test_plans_without_prune_never_delete_whole_resources(desired, live):
    target = FakeTarget()
    target.seed_acl(ACLS[0])
    for lb in live:
        target.seed(replace(lb))

    plan = make_plan(make_spec(*desired, acls=ACLS), [target])

    deletes = [c for c in plan.changes if c.op == "delete" and not c.replacement]
    assert {str(c.address.kind) for c in deletes} <= {"servers"}
