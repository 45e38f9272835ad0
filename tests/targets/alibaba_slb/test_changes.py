"""Differences to changes, without a server: calls, batches, order, refusals."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.diff.compare import compare
from slbsync.diff.order import order_by_dependency
from slbsync.errors import PlanError
from slbsync.spec.model import (
    Certificate,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.targets.alibaba_slb.names import client_token
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from slbsync.targets.base import OWNER_TAG, LiveCertificate, LiveLoadBalancer, LiveState

TARGET = TargetSpec(name="cloud", type="alibaba-slb", region="cn-hangzhou")


def servers(count: int, start: int = 0) -> tuple[Server, ...]:
    return tuple(Server(port=80, id=f"i-{n:03d}") for n in range(start, start + count))


def lb_with(
    group_servers: tuple[Server, ...] = (), listeners: tuple[Listener, ...] = (), **kw
) -> LoadBalancer:
    return LoadBalancer(
        name="chat",
        target="cloud",
        server_groups=(ServerGroup(name="ws", servers=group_servers),),
        listeners=listeners,
        **kw,
    )


def live_of(lb: LoadBalancer, *, running: bool = True, **ids: str) -> LiveState:
    target = AlibabaSlbTarget(TARGET)
    spec = target.normalise(lb)
    keys = {"lb": "lb-1", "group:ws": "rsp-1", **ids}
    return LiveState(
        target="cloud",
        load_balancers=(
            LiveLoadBalancer(
                spec=spec,
                id="lb-1",
                owned=True,
                running=tuple(li.key for li in spec.listeners) if running else (),
                ids=tuple(sorted(keys.items())),
            ),
        ),
    )


def plan(desired: LoadBalancer, live: LiveState, prune: bool = False, **spec_kw):
    target = AlibabaSlbTarget(TARGET)
    spec = Spec(targets=(TARGET,), load_balancers=(desired,), **spec_kw)
    diffs = compare(spec, live, target, prune=prune).differences
    return order_by_dependency(target.changes_for(diffs, live))


def test_new_load_balancer_is_created_owned_with_its_tags_and_a_stable_token() -> None:
    desired = lb_with(servers(3), tags=(("app", "chat"),))

    changes = plan(desired, LiveState(target="cloud"))

    create = changes[0]
    assert create.action == "CreateLoadBalancer"
    params = create.get("params")
    assert params["Tag"] == [
        {"Key": OWNER_TAG, "Value": "slbsync"},
        {"Key": "app", "Value": "chat"},
    ]
    assert params["ClientToken"] == client_token("slbsync", "cn-hangzhou", "chat")
    assert len(params["ClientToken"]) <= 64
    assert client_token("slbsync", "cn-hangzhou", "chat") != client_token(
        "slbsync", "cn-shanghai", "chat"
    )
    assert [c.action for c in changes[1:]] == ["CreateVServerGroup"]
    assert len(changes[1].get("params")["BackendServers"]) == 3
    json.dumps([c.to_json() for c in changes])  # plans are JSON


def test_forty_five_new_servers_are_three_adds_of_at_most_twenty() -> None:
    live = live_of(lb_with(servers(2)))

    changes = plan(lb_with(servers(47)), live)

    assert [c.action for c in changes] == ["AddVServerGroupBackendServers"] * 3
    sizes = [len(c.get("params")["BackendServers"]) for c in changes]
    assert sizes == [20, 20, 5]
    assert changes[0].get("params")["VServerGroupId"] == "rsp-1"
    assert len(changes[0].fields) == 20


def test_new_group_carries_its_first_twenty_servers() -> None:
    live = live_of(lb_with())
    desired = replace(
        lb_with(),
        server_groups=(
            ServerGroup(name="ws"),
            ServerGroup(name="api", servers=servers(25)),
        ),
    )

    changes = plan(desired, live)

    assert [c.action for c in changes] == [
        "CreateVServerGroup",
        "AddVServerGroupBackendServers",
    ]
    assert len(changes[0].get("params")["BackendServers"]) == 20
    assert changes[1].get("params")["VServerGroupId"] == {
        "$ref": "group",
        "lb": "chat",
        "name": "api",
    }


def test_membership_adds_run_before_weights_and_removes() -> None:
    live = live_of(lb_with(servers(4)))
    kept = (replace(servers(1)[0], weight=10), *servers(2, start=1))
    desired = lb_with((*kept, *servers(2, start=10)))

    changes = plan(desired, live)

    assert [(c.action, c.op) for c in changes] == [
        ("AddVServerGroupBackendServers", ChangeOp.CREATE),
        ("SetVServerGroupAttribute", ChangeOp.UPDATE),
        ("RemoveVServerGroupBackendServers", ChangeOp.DELETE),
    ]
    weight = changes[1].fields[0]
    assert (weight.field, weight.old, weight.new) == ("i-000:80.weight", 100, 10)


def test_listener_changes_go_in_one_set_call_with_every_field() -> None:
    before = Listener(protocol=Protocol.TCP, port=443, server_group="ws")
    after = replace(
        before,
        scheduler="least_connections",
        connection_drain=300,
        persistence_timeout=60,
    )
    live = live_of(lb_with(listeners=(before,)), **{"listener:tcp/443": "lb-1/tcp/443"})

    changes = plan(lb_with(listeners=(after,)), live)

    assert len(changes) == 1
    change = changes[0]
    assert change.action == "SetLoadBalancerTCPListenerAttribute"
    params = change.get("params")
    assert params["Scheduler"] == "wlc"
    assert params["ConnectionDrain"] == "on"
    assert params["ConnectionDrainTimeout"] == 300
    assert params["PersistenceTimeout"] == 60
    assert "HealthCheckInterval" not in params  # unchanged fields stay out
    assert {(f.field, f.old, f.new) for f in change.fields} == {
        ("scheduler", "weighted_round_robin", "least_connections"),
        ("connection_drain", None, 300),
        ("persistence_timeout", 0, 60),
    }


def test_protocol_change_is_a_marked_replacement_in_order() -> None:
    before = Listener(protocol=Protocol.TCP, port=80, server_group="ws")
    after = Listener(protocol=Protocol.HTTP, port=80, server_group="ws")
    live = live_of(lb_with(listeners=(before,)))

    changes = plan(lb_with(listeners=(after,)), live)

    assert [c.action for c in changes] == [
        "StopLoadBalancerListener",
        "DeleteLoadBalancerListener",
        "CreateLoadBalancerHTTPListener",
        "StartLoadBalancerListener",
    ]
    assert all(c.replacement for c in changes[:3])
    assert changes[0].get("params")["ListenerProtocol"] == "tcp"


def test_stopped_listener_is_started() -> None:
    listener = Listener(protocol=Protocol.TCP, port=80, server_group="ws")
    live = live_of(lb_with(listeners=(listener,)), running=False)

    changes = plan(lb_with(listeners=(listener,)), live)

    assert [(c.action, c.address.kind) for c in changes] == [
        ("StartLoadBalancerListener", ResourceKind.LISTENER_STATE)
    ]


def test_pruned_listener_is_stopped_then_deleted_before_its_group() -> None:
    listener = Listener(protocol=Protocol.TCP, port=80, server_group="ws")
    live = live_of(lb_with(servers(1), listeners=(listener,)))
    desired = replace(lb_with(), server_groups=())

    changes = plan(desired, live, prune=True)

    assert [c.action for c in changes] == [
        "StopLoadBalancerListener",
        "DeleteLoadBalancerListener",
        "DeleteVServerGroup",
    ]


def test_deleting_a_protected_load_balancer_is_refused_with_the_way_out() -> None:
    live = live_of(replace(lb_with(), name="old", deletion_protection=True))
    live = replace(live, load_balancers=(replace(live.load_balancers[0], id="lb-old"),))

    with pytest.raises(PlanError) as caught:
        plan(lb_with(), live, prune=True)

    message = str(caught.value)
    assert "old" in message and "delete protection is on for lb-old" in message
    assert "deletion_protection: false" in message


def test_network_change_is_refused_not_replaced() -> None:
    live = live_of(lb_with())

    with pytest.raises(PlanError) as caught:
        plan(lb_with(address_type="intranet", vswitch_id="vsw-1"), live)

    message = str(caught.value)
    assert "address_type 'internet' -> 'intranet'" in message
    assert "by hand" in message


def test_attribute_changes_are_one_call_each() -> None:
    live = live_of(lb_with(tags=(("app", "chat"), ("old", "x"))))
    desired = lb_with(
        deletion_protection=True,
        modification_protection=True,
        modification_protection_reason="change-freeze",
        tags=(("app", "im"),),
    )

    changes = plan(desired, live)

    assert [c.action for c in changes] == [
        "TagResources",
        "UntagResources",
        "SetLoadBalancerDeleteProtection",
        "SetLoadBalancerModificationProtection",
    ]
    assert changes[1].get("params")["TagKey"] == ["old"]


def test_adopting_tags_the_load_balancer_as_owned() -> None:
    live = live_of(lb_with())
    live = replace(live, load_balancers=(replace(live.load_balancers[0], owned=False),))

    changes = plan(lb_with(adopt=True), live)

    assert [c.action for c in changes] == ["TagResources"]
    assert changes[0].get("params")["Tag"] == [{"Key": OWNER_TAG, "Value": "slbsync"}]


def test_certificate_upload_carries_no_private_key() -> None:
    cert = Certificate(
        name="web",
        target="cloud",
        certificate_file="/etc/web.pem",
        private_key_file="/etc/web.key",
        certificate_pem="-----BEGIN CERTIFICATE-----",
        fingerprint="ab:cd:ef:01:23:45:67:89",
    )

    changes = plan(lb_with(), live_of(lb_with()), certificates=(cert,))

    assert [c.action for c in changes] == ["UploadServerCertificate"]
    text = json.dumps(dict(changes[0].payload))
    assert "PrivateKey" not in text and "BEGIN" not in text
    assert changes[0].get("upload_name") == "web-abcdef012345"


def test_changed_certificate_is_a_new_upload_and_listeners_move_to_it() -> None:
    https = Listener(
        protocol=Protocol.HTTPS, port=443, server_group="ws", certificate="web"
    )
    old = Certificate(name="web", target="cloud", fingerprint="11:22")
    new = replace(old, fingerprint="33:44", certificate_file="c", private_key_file="k")
    live = live_of(lb_with(listeners=(https,)))
    live = replace(live, certificates=(LiveCertificate(old, "cert-old", True),))

    changes = plan(lb_with(listeners=(https,)), live, certificates=(new,))

    assert [c.action for c in changes] == [
        "UploadServerCertificate",
        "SetLoadBalancerHTTPSListenerAttribute",
        "DeleteServerCertificate",
    ]
    assert changes[1].get("params")["ServerCertificateId"]["name"] == "web-334400000000"
    assert changes[2].get("params") == {"ServerCertificateId": "cert-old"}


def test_certificate_change_skips_listener_being_replaced() -> None:
    # The plan deletes https/443 to make room for tcp/443: a Set call moving
    # it to the new upload would reach a listener already gone.
    https = Listener(
        protocol=Protocol.HTTPS, port=443, server_group="ws", certificate="web"
    )
    tcp = Listener(protocol=Protocol.TCP, port=443, server_group="ws")
    old = Certificate(name="web", target="cloud", fingerprint="11:22")
    new = replace(old, fingerprint="33:44", certificate_file="c", private_key_file="k")
    live = live_of(lb_with(listeners=(https,)))
    live = replace(live, certificates=(LiveCertificate(old, "cert-old", True),))

    changes = plan(lb_with(listeners=(tcp,)), live, certificates=(new,))

    https_calls = [c.action for c in changes if "HTTPS" in c.action]
    assert https_calls == []
    assert [c.action for c in changes if c.action.endswith("Certificate")] == [
        "UploadServerCertificate",
        "DeleteServerCertificate",
    ]
    assert "CreateLoadBalancerTCPListener" in [c.action for c in changes]


def _with_unnamed_owned_load_balancer(live: LiveState) -> LiveState:
    """``live`` plus an owned load balancer the spec does not name, read bare."""
    bare = LiveLoadBalancer(
        spec=LoadBalancer(name="old-chat", target="cloud"),
        id="lb-2",
        owned=True,
        ids=(("lb", "lb-2"),),
        children_read=False,
    )
    return replace(live, load_balancers=(*live.load_balancers, bare))


def test_certificate_change_keeps_old_upload_an_unread_listener_may_use() -> None:
    https = Listener(
        protocol=Protocol.HTTPS, port=443, server_group="ws", certificate="web"
    )
    old = Certificate(name="web", target="cloud", fingerprint="11:22")
    new = replace(old, fingerprint="33:44", certificate_file="c", private_key_file="k")
    live = live_of(lb_with(listeners=(https,)))
    live = replace(live, certificates=(LiveCertificate(old, "cert-old", True),))
    live = _with_unnamed_owned_load_balancer(live)

    kept = plan(lb_with(listeners=(https,)), live, certificates=(new,))
    pruned = plan(lb_with(listeners=(https,)), live, prune=True, certificates=(new,))

    # Without --prune old-chat stays, and its listeners may use cert-old.
    assert [c.action for c in kept] == [
        "UploadServerCertificate",
        "SetLoadBalancerHTTPSListenerAttribute",
    ]
    # With it, old-chat goes first and takes its listeners along.
    assert [c.action for c in pruned][-2:] == [
        "DeleteLoadBalancer",
        "DeleteServerCertificate",
    ]


def test_validate_names_scheduler_and_weight_problems() -> None:
    target = AlibabaSlbTarget(TARGET)
    bad = lb_with(
        (Server(port=80, id="i-1", weight=120),),
        listeners=(
            Listener(
                protocol=Protocol.HTTP,
                port=80,
                server_group="ws",
                scheduler="source_hash",
                health_check=replace(
                    Listener(Protocol.HTTP, 80).health_check, type="http"
                ),
            ),
        ),
    )

    problems = target.validate(Spec(targets=(TARGET,), load_balancers=(bad,)))

    assert any(
        "listeners[0].scheduler" in p and "not available on http" in p for p in problems
    )
    assert any("servers[0].weight" in p and "0 to 100" in p for p in problems)
