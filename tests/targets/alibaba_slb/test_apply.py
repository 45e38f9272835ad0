"""Each kind of change applied to the emulator through the SDK, and read back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
    StickySession,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import apply_all, converge, plan, spec_of

HTTP_CHECK = HealthCheck(type="http", path="/health")


def members(count: int, port: int = 8080, start: int = 0) -> tuple[Server, ...]:
    return tuple(
        Server(port=port, id=f"i-node{n:03d}") for n in range(start, start + count)
    )


def chat_gateway(**changes: object) -> LoadBalancer:
    lb = LoadBalancer(
        name="chat-gateway",
        target="cloud",
        tags=(("app", "chat"),),
        server_groups=(
            ServerGroup(name="ws-nodes", servers=members(45)),
            ServerGroup(name="admin", servers=members(2, port=9000)),
        ),
        listeners=(
            Listener(
                protocol=Protocol.TCP,
                port=443,
                server_group="ws-nodes",
                scheduler="least_connections",
                connection_drain=300,
                proxy_protocol=True,
            ),
            Listener(
                protocol=Protocol.HTTP,
                port=80,
                server_group="admin",
                health_check=HTTP_CHECK,
                sticky_session=StickySession(type="insert", cookie_timeout=600),
                acl=AclBinding(acl="office"),
                rules=(
                    ForwardingRule(name="api", server_group="ws-nodes", url="/api"),
                ),
            ),
        ),
    )
    return replace(lb, **changes)  # type: ignore[arg-type]


OFFICE = Acl(
    name="office",
    target="cloud",
    entries=(AclEntry("10.0.0.0/8", "lan"), AclEntry("192.168.1.0/24", "vpn")),
)


def test_whole_load_balancer_is_created_and_plans_clean(
    target: AlibabaSlbTarget,
) -> None:
    spec = spec_of(chat_gateway(), acls=(OFFICE,))

    _, changes = plan(target, spec)
    assert [c.action for c in changes] == [
        "CreateLoadBalancer",
        "CreateAccessControlList",
        "AddAccessControlListEntry",
        "CreateVServerGroup",
        "CreateVServerGroup",
        "AddVServerGroupBackendServers",
        "AddVServerGroupBackendServers",
        "CreateLoadBalancerHTTPListener",
        "CreateLoadBalancerTCPListener",
        "CreateRules",
        "StartLoadBalancerListener",
        "StartLoadBalancerListener",
    ]
    apply_all(target, changes)

    live, again = plan(target, spec)
    assert again == []
    live_lb = live.load_balancer("chat-gateway")
    assert live_lb is not None and live_lb.owned
    ws = live_lb.spec.server_group("ws-nodes")
    assert ws is not None and len(ws.servers) == 45
    assert live_lb.spec.listeners[0].acl == AclBinding(acl="office")


def test_listener_attributes_change_in_one_call_and_read_back(
    target: AlibabaSlbTarget,
) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    lb = chat_gateway()
    tcp = replace(
        lb.listeners[0],
        scheduler="round_robin",
        connection_drain=None,
        health_check=HealthCheck(interval=5, unhealthy_threshold=4),
    )
    http = replace(lb.listeners[1], sticky_session=None, acl=None, idle_timeout=30)
    spec = spec_of(replace(lb, listeners=(tcp, http)), acls=(OFFICE,))

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "SetLoadBalancerHTTPListenerAttribute",
        "SetLoadBalancerTCPListenerAttribute",
    ]
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    live_tcp = live.load_balancer("chat-gateway").spec.listeners[1]  # type: ignore[union-attr]
    assert live_tcp.scheduler == "round_robin"
    assert live_tcp.health_check.interval == 5


def test_membership_weights_and_removals_apply_in_batches(
    target: AlibabaSlbTarget, emulator: EmulatorHandle
) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    lb = chat_gateway()
    ws = (
        *[replace(s, weight=0) for s in members(3)],
        *members(20, start=3),  # 22 of the 45 leave
        *members(25, start=100),  # 25 join
    )
    spec = spec_of(
        replace(
            lb,
            server_groups=(
                replace(lb.server_groups[0], servers=ws),
                lb.server_groups[1],
            ),
        ),
        acls=(OFFICE,),
    )

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "AddVServerGroupBackendServers",
        "AddVServerGroupBackendServers",
        "SetVServerGroupAttribute",
        "RemoveVServerGroupBackendServers",
        "RemoveVServerGroupBackendServers",
    ]
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    group = live.load_balancer("chat-gateway").spec.server_group("ws-nodes")  # type: ignore[union-attr]
    assert group is not None and len(group.servers) == 48
    assert {s.weight for s in group.servers if s.id in ("i-node000", "i-node002")} == {
        0
    }


def test_protocol_change_replaces_the_listener(target: AlibabaSlbTarget) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    lb = chat_gateway()
    https_less = replace(
        lb.listeners[0],
        protocol=Protocol.UDP,
        port=443,
        connection_drain=None,
        health_check=HealthCheck(type="udp"),
    )
    http_as_tcp = Listener(protocol=Protocol.TCP, port=80, server_group="admin")
    spec = spec_of(replace(lb, listeners=(https_less, http_as_tcp)), acls=(OFFICE,))

    _, changes = plan(target, spec, prune=True)

    replaced = [c for c in changes if c.replacement]
    assert [c.action for c in replaced] == [
        "StopLoadBalancerListener",
        "DeleteLoadBalancerListener",
        "CreateLoadBalancerTCPListener",
    ]
    apply_all(target, changes)
    live, again = plan(target, spec, prune=True)
    assert again == []
    keys = {li.key for li in live.load_balancer("chat-gateway").spec.listeners}  # type: ignore[union-attr]
    assert keys == {("tcp", 80), ("udp", 443)}


def test_load_balancer_attributes_and_tags_change_one_call_each(
    target: AlibabaSlbTarget,
) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    spec = spec_of(
        chat_gateway(deletion_protection=True, tags=(("app", "im"), ("team", "ops"))),
        acls=(OFFICE,),
    )

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "TagResources",
        "SetLoadBalancerDeleteProtection",
    ]
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    assert live.load_balancer("chat-gateway").spec.deletion_protection  # type: ignore[union-attr]


def test_rules_acl_entries_and_pruning_apply(target: AlibabaSlbTarget) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    lb = chat_gateway()
    http = replace(
        lb.listeners[1],
        rules=(
            ForwardingRule(name="api", server_group="admin", url="/api"),
            ForwardingRule(
                name="img", server_group="ws-nodes", domain="img.example.com"
            ),
        ),
    )
    office = replace(
        OFFICE, entries=(AclEntry("10.0.0.0/8", "lan"), AclEntry("172.16.0.0/12"))
    )
    spec = spec_of(
        replace(lb, listeners=(lb.listeners[0], http)),
        acls=(office,),
    )

    _, changes = plan(target, spec)

    assert sorted(c.action for c in changes) == [
        "AddAccessControlListEntry",
        "CreateRules",
        "RemoveAccessControlListEntry",
        "SetRule",
    ]
    apply_all(target, changes)
    assert plan(target, spec)[1] == []


def test_pruned_load_balancer_is_deleted(target: AlibabaSlbTarget) -> None:
    converge(target, spec_of(chat_gateway(), acls=(OFFICE,)))
    other = LoadBalancer(name="chat-admin", target="cloud")
    spec = spec_of(other, acls=(OFFICE,))

    _, changes = plan(target, spec, prune=True)

    assert [c.action for c in changes] == ["CreateLoadBalancer", "DeleteLoadBalancer"]
    apply_all(target, changes)
    live, again = plan(target, spec, prune=True)
    assert again == [] and live.load_balancer("chat-gateway") is None


def test_https_listener_with_uploaded_certificate_and_rotation(
    target: AlibabaSlbTarget, tmp_path: Path
) -> None:
    first = write_certificate(tmp_path, "web", "chat.example.com")
    https = Listener(
        protocol=Protocol.HTTPS,
        port=443,
        server_group="ws",
        certificate="web",
        health_check=HTTP_CHECK,
    )
    lb = LoadBalancer(
        name="chat-web",
        target="cloud",
        server_groups=(ServerGroup(name="ws", servers=members(2)),),
        listeners=(https,),
    )
    converge(target, spec_of(lb, certificates=(first,)))

    second = write_certificate(tmp_path, "web", "chat2.example.com")
    spec = spec_of(lb, certificates=(second,))
    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "UploadServerCertificate",
        "SetLoadBalancerHTTPSListenerAttribute",
        "DeleteServerCertificate",
    ]
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    assert live.certificates[0].certificate.fingerprint == second.fingerprint
