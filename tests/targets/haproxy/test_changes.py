"""Differences become runtime changes where HAProxy allows, reloads where not."""

from __future__ import annotations

import json
from dataclasses import replace

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.diff.compare import compare
from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.spec.plain import from_plain, to_plain
from slbsync.targets.base import LiveLoadBalancer, LiveState
from slbsync.targets.haproxy.target import HaproxyTarget

TARGET = HaproxyTarget(TargetSpec(name="edge", type="haproxy"))


def _lb(*servers: tuple[str, int], group: str = "nodes") -> LoadBalancer:
    return LoadBalancer(
        name="chat",
        target="edge",
        server_groups=(
            ServerGroup(
                name=group,
                servers=tuple(Server(port=80, address=a, weight=w) for a, w in servers),
            ),
        ),
        listeners=(
            Listener(
                protocol=Protocol.TCP,
                port=443,
                server_group=group,
                scheduler="least_connections",
                connection_drain=60,
            ),
        ),
    )


def _live(*lbs: LoadBalancer) -> LiveState:
    return LiveState(
        "edge",
        tuple(
            LiveLoadBalancer(
                TARGET.normalise(lb),
                lb.name,
                True,
                running=tuple(item.key for item in lb.listeners),
            )
            for lb in lbs
        ),
    )


def _changes(desired: list[LoadBalancer], live: LiveState, prune: bool = False):
    spec = Spec(targets=(TARGET.spec,), load_balancers=tuple(desired))
    differences = compare(spec, live, TARGET, prune=prune).differences
    return TARGET.changes_for(differences, live)


def test_unchanged_spec_has_no_changes() -> None:
    lb = _lb(("10.0.0.1", 100))
    assert _changes([lb], _live(lb)) == []


def test_new_load_balancer_folds_servers_into_its_group() -> None:
    changes = _changes([_lb(("10.0.0.1", 100), ("10.0.0.2", 50))], _live())
    assert [(c.address.kind, c.op, c.action) for c in changes] == [
        (ResourceKind.LOAD_BALANCER, ChangeOp.CREATE, "write config"),
        (ResourceKind.SERVER_GROUP, ChangeOp.CREATE, "config reload"),
        (ResourceKind.LISTENER, ChangeOp.CREATE, "config reload"),
    ]
    group = from_plain(ServerGroup, changes[1].get("group"))
    assert [s.weight for s in group.servers] == [100, 50]


def test_membership_goes_through_the_runtime_adds_first() -> None:
    live = _lb(("10.0.0.1", 100), ("10.0.0.2", 100))
    desired = _lb(("10.0.0.2", 30), ("10.0.0.3", 100))
    changes = _changes([desired], _live(live))
    assert [(c.address.name, c.action) for c in changes] == [
        ("nodes/10.0.0.3:80", "runtime add server"),
        ("nodes/10.0.0.2:80", "runtime set weight"),
        ("nodes/10.0.0.1:80", "runtime drain and del server"),
    ]
    add, _, remove = changes
    assert add.get("backend") == "chat:nodes"
    assert add.get("name") == "10.0.0.3:80"
    assert from_plain(HealthCheck, add.get("health_check")) == HealthCheck()
    assert remove.get("connection_drain") == 60


def test_scheduler_change_is_a_reload() -> None:
    lb = _lb(("10.0.0.1", 100))
    listener = replace(lb.listeners[0], scheduler="source_hash")
    (change,) = _changes([replace(lb, listeners=(listener,))], _live(lb))
    assert change.action == "config reload"
    assert [(f.field, f.old, f.new) for f in change.fields] == [
        ("scheduler", "least_connections", "source_hash")
    ]


def test_pruned_group_takes_its_servers_along() -> None:
    live = replace(
        _lb(("10.0.0.1", 100)),
        server_groups=(
            *_lb(("10.0.0.1", 100)).server_groups,
            ServerGroup(name="old", servers=(Server(port=80, address="10.0.0.9"),)),
        ),
    )
    changes = _changes([_lb(("10.0.0.1", 100))], _live(live), prune=True)
    assert [(c.address.kind, c.op, c.address.name) for c in changes] == [
        (ResourceKind.SERVER_GROUP, ChangeOp.DELETE, "old")
    ]


def test_payloads_survive_a_saved_plan() -> None:
    changes = _changes([_lb(("10.0.0.1", 100))], _live())
    listener_change = changes[-1]
    saved = json.loads(json.dumps(dict(listener_change.payload)))
    listener = from_plain(Listener, saved["listener"])
    assert listener == TARGET.normalise(_lb()).listeners[0]
    assert to_plain(listener) == saved["listener"]
