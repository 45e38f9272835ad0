"""What a haproxy target refuses, each with a message that says what to do."""

from __future__ import annotations

from dataclasses import replace

from slbsync.spec.model import (
    Acl,
    AclEntry,
    Certificate,
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
from slbsync.targets.haproxy.target import HaproxyTarget

TARGET = TargetSpec(name="edge", type="haproxy")
HERE = Location("edge.yaml", 7, 9)


def _problems(lb: LoadBalancer, target: TargetSpec = TARGET) -> list[str]:
    spec = Spec(targets=(target,), load_balancers=(lb,))
    return HaproxyTarget(target).validate(spec)


def _lb(*listeners: Listener, servers: tuple[Server, ...] = ()) -> LoadBalancer:
    servers = servers or (Server(port=80, address="10.0.0.1"),)
    return LoadBalancer(
        name="chat",
        target="edge",
        server_groups=(ServerGroup(name="web", servers=servers),),
        listeners=listeners,
    )


def _listener(**values: object) -> Listener:
    base = Listener(protocol=Protocol.TCP, port=443, server_group="web", location=HERE)
    return replace(base, **values)  # type: ignore[arg-type]


def test_a_plain_tcp_and_http_spec_passes() -> None:
    http = _listener(protocol=Protocol.HTTP, port=80, health_check=HealthCheck("http"))
    assert _problems(_lb(_listener(), replace(http, server_group="web2"))) == [
        "edge.yaml:7:9 load_balancers.chat.listeners[1].server_group: "
        '"web2" is not a server group of chat'
    ]


def test_udp_is_refused_with_a_way_out() -> None:
    problems = _problems(_lb(_listener(protocol=Protocol.UDP)))
    assert problems == [
        "edge.yaml:7:9 load_balancers.chat.listeners[0].protocol: HAProxy 2.6 "
        "cannot balance UDP; serve this listener with an nginx (stream) or "
        "alibaba-slb target"
    ]


def test_server_without_address_is_refused() -> None:
    problems = _problems(_lb(_listener(), servers=(Server(port=80, id="i-bp1x"),)))
    assert problems == [
        "load_balancers.chat.server_groups.web.servers[0]: server i-bp1x has no "
        "address; a haproxy target reaches servers by IP address: give address"
    ]


def test_host_name_and_weight_out_of_range_are_refused() -> None:
    servers = (Server(port=80, address="node-1.internal", weight=150),)
    problems = _problems(_lb(_listener(), servers=servers))
    assert len(problems) == 2
    assert '"node-1.internal" is not an IP address' in problems[0]
    assert problems[1].endswith(".servers[0].weight: 150 is not between 0 and 100")


def test_knobs_not_rendered_are_refused_not_dropped() -> None:
    capped = _listener(bandwidth=10)
    problems = _problems(_lb(capped))
    assert problems == [
        "edge.yaml:7:9 load_balancers.chat.listeners[0].bandwidth: HAProxy has no "
        "per-listener bandwidth cap; remove bandwidth"
    ]


def test_listeners_sharing_a_group_must_agree_on_the_scheduler() -> None:
    first = _listener(scheduler="least_connections")
    second = _listener(port=444, scheduler="source_hash")
    (problem,) = _problems(_lb(first, second))
    assert problem == (
        "edge.yaml:7:9 load_balancers.chat.listeners[1]: tcp/443 and tcp/444 "
        "share server group web but not its scheduler; HAProxy sets these per "
        "backend: make them agree or use two groups"
    )


def test_discovered_membership_and_bad_names_are_refused() -> None:
    lb = _lb(_listener())
    group = replace(lb.server_groups[0], name="web:1", membership=Membership.DISCOVERED)
    lb = replace(lb, server_groups=(group,), listeners=())
    problems = _problems(lb)
    assert "cannot name an HAProxy section" in problems[0]
    assert problems[1].startswith(
        "load_balancers.chat.server_groups.web:1.membership: discovered membership"
    )


def test_unknown_option_and_bad_duration_name_the_option() -> None:
    target = TargetSpec(
        name="edge",
        type="haproxy",
        options=(("hard_stop_after", "soon"), ("socket", "/run/x.sock")),
    )
    problems = _problems(_lb(_listener()), target)
    assert problems[0].startswith(
        'targets.edge.options.socket: "socket" is not an option of a haproxy target'
    )
    assert problems[1] == (
        'targets.edge.options.hard_stop_after: "soon" is not a duration; write it '
        "as 300s, 5m or a number of seconds"
    )


def test_description_with_haproxy_syntax_is_refused() -> None:
    (problem,) = _problems(_lb(_listener(description="chat # eu")))
    assert problem.endswith(
        "listeners[0].description: HAProxy reads #, quotes and backslashes in a "
        "description as syntax; leave them out"
    )


def test_connection_drain_longer_than_the_reload_cap_is_refused() -> None:
    target = TargetSpec(
        name="edge", type="haproxy", options=(("hard_stop_after", "60s"),)
    )
    (problem,) = _problems(_lb(_listener(connection_drain=300)), target)
    assert problem == (
        "edge.yaml:7:9 load_balancers.chat.listeners[0].connection_drain: 300s is "
        "longer than the target's hard_stop_after (60s), which cuts connections "
        "on a reload; raise hard_stop_after or shorten the drain"
    )


def _https_spec(**listener: object) -> Spec:
    https = _listener(protocol=Protocol.HTTPS, certificate="edge-cert", **listener)
    certificate = Certificate(
        name="edge-cert", target="edge", certificate_file="/etc/ssl/edge.pem"
    )
    return Spec(
        targets=(TARGET,), load_balancers=(_lb(https),), certificates=(certificate,)
    )


def test_https_certificate_without_key_file_is_refused() -> None:
    (problem,) = HaproxyTarget(TARGET).validate(_https_spec())
    assert problem == (
        "edge.yaml:7:9 load_balancers.chat.listeners[0].certificate: HAProxy loads "
        "edge-cert from files; give it both certificate_file and private_key_file"
    )


def test_tls_cipher_policy_is_refused_with_the_way_out() -> None:
    spec = _https_spec(tls_cipher_policy="tls_cipher_policy_1_2")
    problems = HaproxyTarget(TARGET).validate(spec)
    assert problems[0] == (
        "edge.yaml:7:9 load_balancers.chat.listeners[0].tls_cipher_policy: SLB's "
        "TLS policies name cipher lists HAProxy has no match for, so slbsync does "
        "not guess one; remove tls_cipher_policy and set ssl-default-bind-ciphers "
        "in your own global section"
    )


def test_listeners_sharing_a_group_must_agree_on_stickiness() -> None:
    http = _listener(protocol=Protocol.HTTP, port=80)
    sticky = replace(
        http, port=81, sticky_session=StickySession(type="server", cookie="sid")
    )
    (problem,) = _problems(_lb(http, sticky))
    assert problem.endswith(
        "http/80 and http/81 share server group web but not its sticky_session; "
        "HAProxy sets these per backend: make them agree or use two groups"
    )


def test_acl_entry_that_is_not_a_cidr_is_refused() -> None:
    acl = Acl(name="office", target="edge", entries=(AclEntry("10.0.0.0/33"),))
    spec = Spec(targets=(TARGET,), load_balancers=(_lb(_listener()),), acls=(acl,))
    assert HaproxyTarget(TARGET).validate(spec) == [
        'acls.office.entries[0]: "10.0.0.0/33" is not an address or CIDR block'
    ]
