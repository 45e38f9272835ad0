"""Membership and weights over the runtime API; drift; what survives reloads."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.spec.model import HealthCheck, Protocol, Server
from slbsync.targets.haproxy.target import HaproxyTarget
from tests.backends import (
    Backend,
    free_port,
    http_get,
)
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    connect,
    greeting,
    plan,
    spec_for,
)

FAST_CHECK = HealthCheck(
    interval=1, timeout=1, healthy_threshold=1, unhealthy_threshold=1
)


def _weights(haproxy: RunningHaproxy) -> dict[str, int]:
    return {s.name: s.weight for s in haproxy.admin.servers_state("chat:nodes")}


def test_applied_spec_plans_clean(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    lb = chat_lb(free_port(), http_backends, protocol=Protocol.HTTP, check=FAST_CHECK)
    spec = spec_for(haproxy.target_spec(), lb)
    apply(spec, haproxy.target())

    assert plan(spec, haproxy.target()).targets[0].changes == ()


def test_weight_changed_at_runtime_shows_as_drift(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    lb = chat_lb(free_port(), http_backends, protocol=Protocol.HTTP)
    spec = spec_for(haproxy.target_spec(), lb)
    apply(spec, haproxy.target())
    name = f"127.0.0.1:{http_backends[0].port}"

    haproxy.admin.set_weight("chat:nodes", name, 7)
    (change,) = plan(spec, haproxy.target()).targets[0].changes

    assert change.address.kind == ResourceKind.SERVERS
    assert change.op == ChangeOp.UPDATE
    assert [(f.field, f.old, f.new) for f in change.fields] == [("weight", 7, 100)]
    apply(spec, haproxy.target())
    assert _weights(haproxy)[name] == 100


def test_membership_changes_skip_the_reload_and_survive_one(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    b1, b2, b3 = http_backends
    target_spec = haproxy.target_spec()
    apply(
        spec_for(target_spec, chat_lb(port, [b1, b2], protocol=Protocol.HTTP)),
        haproxy.target(),
    )
    workers = haproxy.worker_pids()

    # b1 leaves, b3 joins with weight 40, b2 goes to 60: no reload.
    lb = chat_lb(port, [b2, b3], protocol=Protocol.HTTP, weights=[60, 40])
    made = apply(spec_for(target_spec, lb), haproxy.target())
    actions = sorted(c.action for c in made.targets[0].changes)

    assert actions == [
        "runtime add server",
        "runtime drain and del server",
        "runtime set weight",
    ]
    assert haproxy.worker_pids() == workers
    _assert_split(port, {"b2": 60, "b3": 40})
    text = haproxy.owned.read_text()
    assert f"127.0.0.1:{b3.port} weight 40" in text
    assert f"127.0.0.1:{b1.port}" not in text

    # A structural change reloads; the new worker keeps the membership.
    lb = replace(lb, listeners=(replace(lb.listeners[0], description="chat"),))
    apply(spec_for(target_spec, lb), haproxy.target())

    assert haproxy.worker_pids() != workers
    assert _weights(haproxy) == {
        f"127.0.0.1:{b2.port}": 60,
        f"127.0.0.1:{b3.port}": 40,
    }
    _assert_split(port, {"b2": 60, "b3": 40})


def _assert_split(port: int, expected: dict[str, int]) -> None:
    """100 requests split as ``expected``, give or take the round's start."""
    counts = Counter(http_get(port) for _ in range(100))
    assert counts.keys() == expected.keys(), counts
    assert all(abs(counts[name] - n) <= 2 for name, n in expected.items()), counts


def test_new_server_joins_only_once_healthy(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    b1 = http_backends[0]
    dead = free_port()  # nothing listens here
    target_spec = haproxy.target_spec()
    apply(
        spec_for(
            target_spec, chat_lb(port, [b1], protocol=Protocol.HTTP, check=FAST_CHECK)
        ),
        haproxy.target(),
    )
    lb = chat_lb(port, [b1], protocol=Protocol.HTTP, check=FAST_CHECK)
    group = lb.server_groups[0]
    joined = Server(port=dead, address="127.0.0.1", weight=100)
    lb = replace(lb, server_groups=(replace(group, servers=(*group.servers, joined)),))

    apply(spec_for(target_spec, lb), haproxy.target())

    # Every request succeeds: the dead server never got one.
    assert Counter(http_get(port) for _ in range(30)) == {"b1": 30}


def test_removed_server_drains_until_the_cap_then_is_cut(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()
    t1, t2, _ = tcp_backends
    target_spec = haproxy.target_spec(drain_timeout="2s", hard_stop_after="30s")
    apply(spec_for(target_spec, chat_lb(port, [t1, t2])), HaproxyTarget(target_spec))
    clients = [connect(port) for _ in range(4)]
    on = {client: greeting(client) for client in clients}
    leaving = [c for c, name in on.items() if name == "t1"]
    staying = [c for c, name in on.items() if name == "t2"]
    assert len(leaving) == 2

    started = time.monotonic()
    done = threading.Event()
    runner = threading.Thread(
        target=lambda: (
            apply(
                spec_for(target_spec, chat_lb(port, [t2])), HaproxyTarget(target_spec)
            ),
            done.set(),
        )
    )
    runner.start()
    time.sleep(1.0)
    for client in leaving + staying:  # still served during the drain
        client.sendall(b"ping\n")
        assert client.recv(16) == b"ping\n"
    assert greeting(connect(port)) == "t2", "a draining server took a new client"
    runner.join(timeout=10)
    elapsed = time.monotonic() - started

    assert done.is_set()
    assert 1.9 <= elapsed < 5, elapsed
    for client in leaving:
        client.settimeout(2)
        assert client.recv(16) == b"", "cut at the drain cap"
    for client in staying:
        client.sendall(b"still\n")
        assert client.recv(16) == b"still\n"
    names = {s.name for s in haproxy.admin.servers_state("chat:nodes")}
    assert names == {f"127.0.0.1:{t2.port}"}


def test_removing_a_checked_server_deletes_it(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    b1, b2, _ = http_backends
    target_spec = haproxy.target_spec()
    both = chat_lb(port, [b1, b2], protocol=Protocol.HTTP, check=FAST_CHECK)
    apply(spec_for(target_spec, both), haproxy.target())

    one = chat_lb(port, [b2], protocol=Protocol.HTTP, check=FAST_CHECK)
    apply(spec_for(target_spec, one), haproxy.target())

    names = [s.name for s in haproxy.admin.servers_state("chat:nodes")]
    assert names == [f"127.0.0.1:{b2.port}"]
    assert plan(spec_for(target_spec, one), haproxy.target()).targets[0].changes == ()


def test_first_server_of_an_empty_group_joins_without_a_reload(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    target_spec = haproxy.target_spec()
    empty = chat_lb(port, [], protocol=Protocol.HTTP)
    apply(spec_for(target_spec, empty), haproxy.target())
    workers = haproxy.worker_pids()

    one = chat_lb(port, http_backends[:1], protocol=Protocol.HTTP)
    made = apply(spec_for(target_spec, one), haproxy.target())

    assert [c.action for c in made.targets[0].changes] == ["runtime add server"]
    assert haproxy.worker_pids() == workers
    assert http_get(port) == "b1"


def test_without_cut_a_drained_server_stays_in_maintenance(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()
    t1, t2, _ = tcp_backends
    target_spec = haproxy.target_spec(drain_timeout="1s", cut_after_drain=False)
    apply(spec_for(target_spec, chat_lb(port, [t1, t2])), HaproxyTarget(target_spec))
    clients = [connect(port) for _ in range(2)]
    kept = next(c for c in clients if greeting(c) == "t1")

    one = spec_for(target_spec, chat_lb(port, [t2]))
    apply(one, HaproxyTarget(target_spec))

    kept.sendall(b"still here\n")
    assert kept.recv(32) == b"still here\n"
    (left,) = [
        s for s in haproxy.admin.servers_state("chat:nodes") if s.port == t1.port
    ]
    assert left.is_maint
    # It is still live, taking nothing: the next plan removes it again.
    (change,) = plan(one, HaproxyTarget(target_spec)).targets[0].changes
    assert change.action == "runtime drain and del server"
    for client in clients:
        client.close()


def test_join_leave_and_a_reload_in_one_run(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    b1, b2, b3 = http_backends
    target_spec = haproxy.target_spec()
    apply(
        spec_for(target_spec, chat_lb(port, [b1, b2], protocol=Protocol.HTTP)),
        haproxy.target(),
    )
    workers = haproxy.worker_pids()

    # b1 leaves, b3 joins, and the scheduler changes: runtime, then one reload.
    after = chat_lb(
        port, [b2, b3], protocol=Protocol.HTTP, scheduler="least_connections"
    )
    made = apply(spec_for(target_spec, after), haproxy.target())

    assert sorted(c.action for c in made.targets[0].changes) == [
        "config reload",
        "runtime add server",
        "runtime drain and del server",
    ]
    assert haproxy.worker_pids() != workers
    assert {http_get(port) for _ in range(10)} == {"b2", "b3"}
    assert plan(spec_for(target_spec, after), haproxy.target()).targets[0].changes == ()
