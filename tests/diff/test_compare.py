from dataclasses import replace

from slbsync.diff.changes import FieldChange, ResourceKind
from slbsync.diff.compare import compare
from slbsync.diff.differences import DifferenceStatus
from slbsync.spec.model import (
    Acl,
    AclEntry,
    ForwardingRule,
    HealthCheck,
    Listener,
    Membership,
    Protocol,
    Server,
    ServerGroup,
)
from tests.fakes import FakeTarget, make_lb, make_spec

MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED


def _summary(comparison):
    return [(str(d.status), str(d.address)) for d in comparison.differences]


def test_untouched_load_balancer_has_no_differences():
    target = FakeTarget()
    lb = make_lb()
    target.seed(lb)
    spec = make_spec(lb)

    result = compare(spec, target.read_live_state(spec), target)

    assert result.differences == []
    assert result.skipped == []


def test_missing_load_balancer_brings_all_its_children():
    target = FakeTarget()
    spec = make_spec(make_lb(servers=2))

    result = compare(spec, target.read_live_state(spec), target)

    assert _summary(result) == [
        ("missing", "chat load balancer chat"),
        ("missing", "chat server group ws"),
        ("missing", "chat servers ws/i-000:8080"),
        ("missing", "chat servers ws/i-001:8080"),
        ("missing", "chat listener tcp/443"),
    ]


def test_nested_fields_compare_with_dotted_names():
    target = FakeTarget()
    target.seed(make_lb())
    check = HealthCheck(interval=5, healthy_threshold=2)
    listener = Listener(
        protocol=Protocol.TCP,
        port=443,
        server_group="ws",
        health_check=check,
        connection_drain=300,
    )
    spec = make_spec(make_lb(listeners=(listener,), tags=(("app", "chat"),)))

    result = compare(spec, target.read_live_state(spec), target)

    by_kind = {d.kind: d for d in result.differences}
    assert by_kind[ResourceKind.LISTENER].fields == (
        FieldChange("connection_drain", None, 300),
        FieldChange("health_check.healthy_threshold", 3, 2),
        FieldChange("health_check.interval", 2, 5),
    )
    assert by_kind[ResourceKind.LOAD_BALANCER].fields == (
        FieldChange("tags", [], [["app", "chat"]]),
    )


def test_ignored_fields_are_skipped_with_their_children():
    class Blind(FakeTarget):
        def ignored_fields(self, kind):
            return frozenset({"health_check"} if kind == "listener" else set())

    target = Blind()
    target.seed(make_lb())
    listener = Listener(
        protocol=Protocol.TCP,
        port=443,
        server_group="ws",
        health_check=HealthCheck(interval=9),
    )
    spec = make_spec(make_lb(listeners=(listener,)))

    assert compare(spec, target.read_live_state(spec), target).differences == []


def test_normalise_is_applied_to_the_desired_side():
    class Normalising(FakeTarget):
        def normalise(self, lb):
            return replace(lb, spec=lb.spec or "slb.s1.small")

    target = Normalising()
    target.seed(make_lb(spec="slb.s1.small"))
    spec = make_spec(make_lb())

    assert compare(spec, target.read_live_state(spec), target).differences == []


def test_servers_compare_one_by_one_and_removals_need_no_prune():
    target = FakeTarget()
    target.seed(make_lb(servers=3))
    group = ServerGroup(
        name="ws",
        servers=(
            Server(port=8080, id="i-000", weight=50),
            Server(port=8080, id="i-001"),
            Server(port=8080, id="i-new"),
        ),
    )
    spec = make_spec(make_lb(server_groups=(group,)))

    result = compare(spec, target.read_live_state(spec), target)

    assert _summary(result) == [
        ("modified", "chat servers ws/i-000:8080"),
        ("missing", "chat servers ws/i-new:8080"),
        ("unexpected", "chat servers ws/i-002:8080"),
    ]
    assert result.differences[0].fields == (FieldChange("weight", 100, 50),)


def test_external_and_discovered_groups_keep_their_live_servers():
    target = FakeTarget()
    target.seed(make_lb(servers=3))
    for membership in (Membership.EXTERNAL, Membership.DISCOVERED):
        group = ServerGroup(name="ws", membership=membership)
        spec = make_spec(make_lb(server_groups=(group,)))

        result = compare(spec, target.read_live_state(spec), target)

        assert result.differences == [], membership


def test_discovered_group_uses_the_discovery_hook():
    target = FakeTarget()
    target.seed(make_lb(servers=1))
    group = ServerGroup(name="ws", membership=Membership.DISCOVERED)
    spec = make_spec(make_lb(server_groups=(group,)))

    def discover(lb, group):
        return (Server(port=8080, id="i-000"), Server(port=8080, id="i-found"))

    result = compare(spec, target.read_live_state(spec), target, discover=discover)

    assert _summary(result) == [("missing", "chat servers ws/i-found:8080")]


def test_owned_leftovers_are_unexpected_only_with_prune():
    target = FakeTarget()
    extra = Listener(protocol=Protocol.HTTP, port=80, server_group="old")
    old_group = ServerGroup(name="old")
    target.seed(
        make_lb(
            listeners=(*make_lb().listeners, extra),
            server_groups=(*make_lb().server_groups, old_group),
        )
    )
    target.seed(make_lb("gone"))
    target.seed(make_lb("not-mine"), owned=False)
    target.seed_acl(Acl(name="old-acl", target="fake"))
    spec = make_spec(make_lb())

    live = target.read_live_state(spec)
    assert compare(spec, live, target).differences == []
    pruned = compare(spec, live, target, prune=True)

    assert _summary(pruned) == [
        ("unexpected", "acl old-acl"),
        ("unexpected", "chat server group old"),
        ("unexpected", "chat listener http/80"),
        ("unexpected", "gone load balancer gone"),
    ]


def test_unowned_load_balancer_is_skipped_with_a_warning():
    target = FakeTarget()
    target.seed(make_lb(servers=1), owned=False)
    spec = make_spec(make_lb(servers=3))

    result = compare(spec, target.read_live_state(spec), target, prune=True)

    assert result.differences == []
    assert result.skipped == [
        "target fake: load balancer chat (lb-0001) is not owned; "
        "set adopt: true to manage it"
    ]


def test_adopting_marks_owned_and_compares_children():
    target = FakeTarget()
    target.seed(make_lb(servers=1), owned=False)
    spec = make_spec(make_lb(servers=2, adopt=True))

    result = compare(spec, target.read_live_state(spec), target)

    assert result.differences[0].fields == (FieldChange("owned", False, True),)
    assert _summary(result)[1:] == [("missing", "chat servers ws/i-001:8080")]


def test_protocol_change_on_a_port_is_one_modified_listener():
    target = FakeTarget()
    target.seed(make_lb())
    https = Listener(protocol=Protocol.HTTPS, port=443, server_group="ws")
    spec = make_spec(make_lb(listeners=(https,)))

    result = compare(spec, target.read_live_state(spec), target, prune=True)

    (diff,) = result.differences
    assert str(diff.address) == "chat listener https/443"
    assert diff.fields[0] == FieldChange("protocol", "tcp", "https")
    assert diff.live.protocol == Protocol.TCP


def test_stopped_listener_gets_a_running_change():
    target = FakeTarget()
    target.seed(make_lb()).running.clear()
    spec = make_spec(make_lb())

    (diff,) = compare(spec, target.read_live_state(spec), target).differences

    assert diff.fields == (FieldChange("running", False, True),)


def test_rules_compare_by_listener_and_name():
    target = FakeTarget()
    api = ForwardingRule(name="api", server_group="ws", url="/api")
    http = Listener(protocol=Protocol.HTTP, port=80, server_group="ws", rules=(api,))
    target.seed(make_lb(listeners=(http,)))
    moved = replace(api, url="/v2")
    web = ForwardingRule(name="web", server_group="ws", domain="chat.example.com")
    spec = make_spec(make_lb(listeners=(replace(http, rules=(moved, web)),)))

    result = compare(spec, target.read_live_state(spec), target)

    assert _summary(result) == [
        ("modified", "chat rule http/80/api"),
        ("missing", "chat rule http/80/web"),
    ]
    assert result.differences[0].fields == (FieldChange("url", "/api", "/v2"),)


class OrderedRulesTarget(FakeTarget):
    rule_order_matters = True


def _rules(*names):
    return tuple(
        ForwardingRule(name=name, server_group="ws", url=f"/{name}") for name in names
    )


def _rules_compared(target, live_names, spec_names):
    http = Listener(protocol=Protocol.HTTP, port=80, server_group="ws")
    target.seed(make_lb(listeners=(replace(http, rules=_rules(*live_names)),)))
    spec = make_spec(make_lb(listeners=(replace(http, rules=_rules(*spec_names)),)))
    found = compare(spec, target.read_live_state(spec), target).differences
    return [(str(d.status), d.address.name, d.fields) for d in found]


def test_rule_order_is_compared_where_order_matters():
    found = _rules_compared(OrderedRulesTarget(), ["a", "b", "c"], ["c", "a", "b"])

    assert found == [
        ("modified", "http/80/a", (FieldChange("position", 1, 2),)),
        ("modified", "http/80/b", (FieldChange("position", 2, 3),)),
        ("modified", "http/80/c", (FieldChange("position", 3, 1),)),
    ]


def test_added_or_removed_rule_moves_no_other_position():
    found = _rules_compared(OrderedRulesTarget(), ["a", "old", "b"], ["new", "a", "b"])

    assert [(status, name) for status, name, _ in found] == [
        ("missing", "http/80/new"),
    ]


def test_rule_order_is_no_difference_where_it_is_no_behaviour():
    assert _rules_compared(FakeTarget(), ["a", "b"], ["b", "a"]) == []


def test_acl_entries_are_one_field_and_unowned_acls_skipped():
    target = FakeTarget()
    target.seed_acl(Acl(name="office", target="fake"))
    target.seed_acl(Acl(name="theirs", target="fake"), owned=False)
    office = Acl(name="office", target="fake", entries=(AclEntry("10.0.0.0/8"),))
    theirs = Acl(name="theirs", target="fake", entries=(AclEntry("1.1.1.1/32"),))
    spec = make_spec(acls=(office, theirs))

    result = compare(spec, target.read_live_state(spec), target)

    (diff,) = result.differences
    assert diff.fields == (
        FieldChange("entries", [], [{"cidr": "10.0.0.0/8", "comment": ""}]),
    )
    assert "acl theirs" in result.skipped[0]
    assert "not owned" in result.skipped[0]


def test_comparison_order_is_deterministic():
    target = FakeTarget()
    spec = make_spec(make_lb("b"), make_lb("a"))

    first = compare(spec, target.read_live_state(spec), target)
    reversed_spec = make_spec(make_lb("a"), make_lb("b"))
    second = compare(reversed_spec, target.read_live_state(reversed_spec), target)

    assert _summary(first) == _summary(second)
    assert _summary(first)[0] == ("missing", "a load balancer a")
