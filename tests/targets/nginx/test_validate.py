"""validate(): what nginx cannot do is refused with the field and the way out."""

from __future__ import annotations

from slbsync.spec.model import (
    Acl,
    AclBinding,
    Certificate,
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Location,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    StickySession,
    TargetSpec,
)
from slbsync.targets.nginx.target import NginxTarget

TARGET = TargetSpec(
    name="edge", type="nginx", options=(("config_path", "/etc/nginx/slbsync.conf"),)
)
NODES = ServerGroup("nodes", servers=(Server(8080, address="10.0.0.11"),))


def problems_for(*listeners: Listener, groups=(NODES,), target=TARGET, acls=()):
    lb = LoadBalancer(
        name="chat-edge", target="edge", server_groups=groups, listeners=listeners
    )
    spec = Spec(targets=(target,), load_balancers=(lb,), acls=acls)
    return NginxTarget(target).validate(spec)


def test_valid_spec_has_no_problems() -> None:
    listener = Listener(Protocol.TCP, 443, "nodes", scheduler="least_connections")
    assert problems_for(listener) == []


def test_active_http_check_path_is_refused() -> None:
    check = HealthCheck(type="http", path="/healthz")
    listener = Listener(
        Protocol.HTTP,
        80,
        "nodes",
        health_check=check,
        location=Location("specs/edge.yaml", 12, 7),
    )

    [problem] = problems_for(listener)

    assert problem.startswith(
        "specs/edge.yaml:12:7 load_balancers.chat-edge.listeners[0].health_check.path:"
    )
    assert "nginx cannot send active health check requests" in problem
    assert "max_fails and fail_timeout" in problem


def test_udp_request_and_http_codes_are_refused() -> None:
    probe = HealthCheck(type="udp", udp_request="hi")
    udp = Listener(Protocol.UDP, 53, "nodes", health_check=probe)
    http = Listener(
        Protocol.HTTP,
        80,
        "nodes",
        health_check=HealthCheck(type="http", http_codes=("http_3xx",)),
    )

    problems = problems_for(udp, http)

    assert any(".listeners[0].health_check.udp_request:" in p for p in problems)
    assert any(".listeners[1].health_check.http_codes:" in p for p in problems)


def test_http_check_on_tcp_listener_is_refused() -> None:
    listener = Listener(
        Protocol.TCP, 443, "nodes", health_check=HealthCheck(type="http")
    )
    [problem] = problems_for(listener)
    assert ".health_check.type:" in problem
    assert "use type tcp" in problem


def test_sticky_sessions_point_to_source_hash() -> None:
    listener = Listener(Protocol.HTTP, 80, "nodes", sticky_session=StickySession())
    [problem] = problems_for(listener)
    assert ".listeners[0].sticky_session:" in problem
    assert "source_hash" in problem


def test_acl_white_and_black_lists_are_accepted() -> None:
    office = Acl(name="office", target="edge")
    white = Listener(Protocol.TCP, 443, "nodes", acl=AclBinding("office"))
    black = Listener(Protocol.HTTP, 80, "nodes", acl=AclBinding("office", "black"))
    assert problems_for(white, black, acls=(office,)) == []


def test_acl_the_spec_does_not_define_is_refused() -> None:
    elsewhere = Acl(name="office", target="cloud")
    listener = Listener(Protocol.TCP, 443, "nodes", acl=AclBinding("office"))

    [problem] = problems_for(listener, acls=(elsewhere,))

    assert problem == (
        "load_balancers.chat-edge.listeners[0].acl: office is not an ACL of "
        "target edge in the spec; add it under acls with target: edge"
    )


def test_acl_on_a_redirecting_listener_is_refused() -> None:
    office = Acl(name="office", target="edge")
    listener = Listener(
        Protocol.HTTP, 80, redirect_to_port=443, acl=AclBinding("office")
    )

    [problem] = problems_for(listener, acls=(office,))

    assert problem.startswith("load_balancers.chat-edge.listeners[0].acl: nginx")
    assert "answers a redirect before it checks allow/deny" in problem


def test_id_only_server_is_refused() -> None:
    group = ServerGroup("nodes", servers=(Server(8080, id="i-bp1abc"),))
    [problem] = problems_for(Listener(Protocol.TCP, 443, "nodes"), groups=(group,))
    assert "server_groups.nodes.servers[0].address:" in problem
    assert "i-bp1abc has only a cloud id" in problem


def test_host_name_address_is_refused() -> None:
    group = ServerGroup("nodes", servers=(Server(8080, address="node1.internal"),))
    [problem] = problems_for(Listener(Protocol.TCP, 443, "nodes"), groups=(group,))
    assert '"node1.internal" is not an IP address' in problem


def test_discovered_membership_is_refused() -> None:
    group = ServerGroup("nodes", membership=Membership.DISCOVERED)
    [problem] = problems_for(Listener(Protocol.TCP, 443, "nodes"), groups=(group,))
    assert "server_groups.nodes.membership:" in problem


def test_unknown_scheduler_lists_the_choices() -> None:
    [problem] = problems_for(Listener(Protocol.TCP, 443, "nodes", scheduler="ip_hash"))
    assert '"ip_hash" is not a scheduler nginx can run' in problem
    assert "least_connections or source_hash" in problem


def test_slb_scheduler_names_are_accepted() -> None:
    assert problems_for(Listener(Protocol.TCP, 443, "nodes", scheduler="wlc")) == []


def test_drain_longer_than_cap_is_refused() -> None:
    listener = Listener(Protocol.TCP, 443, "nodes", connection_drain=600)
    [problem] = problems_for(listener)
    assert ".listeners[0].connection_drain: 600s is longer than" in problem
    assert "worker_shutdown_timeout (300s)" in problem


def test_two_listeners_on_one_tcp_port_are_refused() -> None:
    problems = problems_for(
        Listener(Protocol.TCP, 443, "nodes"), Listener(Protocol.HTTPS, 443, "nodes")
    )
    assert any("tcp port 443 is already taken" in p for p in problems)


def test_tcp_and_udp_may_share_a_port() -> None:
    tcp = Listener(Protocol.TCP, 53, "nodes")
    udp = Listener(Protocol.UDP, 53, "nodes", health_check=HealthCheck(type="udp"))
    assert problems_for(tcp, udp) == []


def test_https_needs_certificate_files() -> None:
    [problem] = problems_for(Listener(Protocol.HTTPS, 443, "nodes", certificate="x"))
    assert ".listeners[0].certificate: x is not a certificate in the spec" in problem


def test_options_are_checked() -> None:
    target = TargetSpec(
        name="edge",
        type="nginx",
        options=(("worker_shutdown_timeout", "soon"), ("config_pth", "/x")),
    )
    problems = problems_for(Listener(Protocol.TCP, 443, "nodes"), target=target)
    assert any(p.startswith("targets.edge.config_path:") for p in problems)
    assert any('"soon" is not a duration' in p for p in problems)
    assert any('"config_pth" is not an nginx target option' in p for p in problems)


def test_redirect_listener_needs_no_server_group() -> None:
    listener = Listener(Protocol.HTTP, 80, redirect_to_port=443)
    assert problems_for(listener) == []


def test_rule_to_unknown_group_is_refused() -> None:
    rule = ForwardingRule("api", "nowhere", url="/api")
    [problem] = problems_for(Listener(Protocol.HTTP, 80, "nodes", rules=(rule,)))
    assert ".listeners[0].rules[0].server_group: nowhere is not a server group" in (
        problem
    )


def test_client_ca_must_be_a_ca_certificate_with_a_file() -> None:
    listener = Listener(
        Protocol.HTTPS, 443, "nodes", certificate="edge", ca_certificate="clients"
    )
    edge = Certificate(
        name="edge", target="edge", certificate_file="/e.pem", private_key_file="/e.k"
    )
    clients = Certificate(name="clients", target="edge", certificate_file="/c.pem")
    lb = LoadBalancer(
        name="chat-edge", target="edge", server_groups=(NODES,), listeners=(listener,)
    )
    spec = Spec(targets=(TARGET,), load_balancers=(lb,), certificates=(edge, clients))

    [problem] = NginxTarget(TARGET).validate(spec)

    assert ".listeners[0].ca_certificate: nginx verifies clients" in problem
    assert "kind: ca" in problem
