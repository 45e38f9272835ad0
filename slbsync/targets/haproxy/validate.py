"""What a spec may ask of a haproxy target, checked before anything runs.

Each problem reads ``<file:line:col> <field path>: <message>`` and says what
to do instead. Everything HAProxy 2.6 cannot do, or slbsync does not render
for it yet, is refused here rather than dropped quietly.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from slbsync.spec.model import (
    Listener,
    LoadBalancer,
    Location,
    Membership,
    Protocol,
    Scheduler,
    Server,
    Spec,
)
from slbsync.targets.haproxy.mapping import (
    HTTP_PROTOCOLS,
    MAX_WEIGHT,
    NAME_PATTERN,
    groups_of,
    mode_of,
)
from slbsync.targets.haproxy.normalise import normalise_listener

NATIVE_BALANCE = re.compile(
    r"^[a-z][a-z0-9_-]*(\([A-Za-z0-9_-]+\))?( [A-Za-z0-9_-]+)*$"
)

# Listener knobs the haproxy target does not render: field -> why / what to do.
UNSUPPORTED_LISTENER_FIELDS = {
    "tls_cipher_policy": "SLB's TLS policies name cipher lists HAProxy has no "
    "match for, so slbsync does not guess one; remove tls_cipher_policy and set "
    "ssl-default-bind-ciphers in your own global section",
    "bandwidth": "HAProxy has no per-listener bandwidth cap; remove bandwidth",
}
URL_PREFIX = re.compile(r"^/[^\s#]*$")
DOMAIN = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_DEFAULT_LISTENER = Listener(protocol=Protocol.TCP, port=1)
_RENDERED = (Protocol.TCP, Protocol.HTTP, Protocol.HTTPS)


def validate_spec(
    spec: Spec, target: str, hard_stop_after: int | None = None
) -> list[str]:
    """Every problem with the load balancers ``spec`` aims at ``target``."""
    problems: list[str] = []
    for lb in spec.load_balancers_on(target):
        problems += list(_load_balancer(lb))
        problems += list(_tls_files(spec, lb))
        if hard_stop_after is not None:
            problems += list(_drain_within_cap(lb, hard_stop_after))
    problems += list(_regional_names(spec, target))
    return problems


def _regional_names(spec: Spec, target: str) -> Iterator[str]:
    """Certificate and ACL names become file and ACL names in HAProxy."""
    for kind, items in (
        ("certificates", spec.certificates_on(target)),
        ("acls", spec.acls_on(target)),
    ):
        for item in items:
            if not NAME_PATTERN.match(item.name):
                yield _at(item.location, f"{kind}.{item.name}", _bad_name(item.name))
    for acl in spec.acls_on(target):
        for index, entry in enumerate(acl.entries):
            try:
                ipaddress.ip_network(entry.cidr, strict=False)
            except ValueError:
                yield _at(
                    acl.location,
                    f"acls.{acl.name}.entries[{index}]",
                    f'"{entry.cidr}" is not an address or CIDR block',
                )


def _tls_files(spec: Spec, lb: LoadBalancer) -> Iterator[str]:
    """HAProxy loads certificates from files: the spec must name them."""
    certificates = {item.name: item for item in spec.certificates}
    for index, listener in enumerate(lb.listeners):
        if listener.protocol != Protocol.HTTPS:
            continue
        path = f"load_balancers.{lb.name}.listeners[{index}]"
        where = listener.location
        server = certificates.get(listener.certificate or "")
        if server is None:
            yield _at(
                where,
                f"{path}.certificate",
                "an HTTPS listener needs a certificate of the spec",
            )
        elif not (server.certificate_file and server.private_key_file):
            yield _at(
                where,
                f"{path}.certificate",
                f"HAProxy loads {server.name} from files; give it both "
                "certificate_file and private_key_file",
            )
        ca = certificates.get(listener.ca_certificate or "")
        if listener.ca_certificate and (ca is None or not ca.certificate_file):
            yield _at(
                where,
                f"{path}.ca_certificate",
                f"HAProxy verifies clients against {listener.ca_certificate}'s "
                "file; give it kind: ca and certificate_file",
            )


def _drain_within_cap(lb: LoadBalancer, cap: int) -> Iterator[str]:
    """A reload cuts old connections at hard-stop-after, whatever the drain."""
    for index, listener in enumerate(lb.listeners):
        if listener.connection_drain and listener.connection_drain > cap:
            yield _at(
                listener.location,
                f"load_balancers.{lb.name}.listeners[{index}].connection_drain",
                f"{listener.connection_drain}s is longer than the target's "
                f"hard_stop_after ({cap}s), which cuts connections on a reload; "
                "raise hard_stop_after or shorten the drain",
            )


def _at(location: Location | None, path: str, message: str) -> str:
    return f"{location} {path}: {message}" if location else f"{path}: {message}"


def _load_balancer(lb: LoadBalancer) -> Iterator[str]:
    path = f"load_balancers.{lb.name}"
    if not NAME_PATTERN.match(lb.name):
        yield _at(lb.location, path, _bad_name(lb.name))
    for group in lb.server_groups:
        group_path = f"{path}.server_groups.{group.name}"
        if not NAME_PATTERN.match(group.name):
            yield _at(group.location, group_path, _bad_name(group.name))
        if group.membership == Membership.DISCOVERED:
            yield _at(
                group.location,
                f"{group_path}.membership",
                "discovered membership finds cloud instances by tag; a haproxy "
                "target needs addresses: list the servers, or use external and "
                "slbsync register",
            )
        for index, server in enumerate(group.servers):
            yield from _server(server, f"{group_path}.servers[{index}]")
    for index, listener in enumerate(lb.listeners):
        yield from _listener(lb, listener, f"{path}.listeners[{index}]")
    yield from _shared_groups(lb, path)


def _bad_name(name: str) -> str:
    return (
        f'"{name}" cannot name an HAProxy section; use letters, digits, '
        "'.', '_' and '-', starting with a letter or digit"
    )


def _server(server: Server, path: str) -> Iterator[str]:
    address = server.address
    location = server.location
    if not address:
        yield _at(
            location,
            path,
            f"server {server.id or ''} has no address; a haproxy target "
            "reaches servers by IP address: give address",
        )
    else:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            yield _at(
                location,
                f"{path}.address",
                f'"{address}" is not an IP address; HAProxy\'s runtime API adds '
                "servers by IP only, so resolve the name first",
            )
    weight = server.weight
    if not 0 <= weight <= MAX_WEIGHT:
        yield _at(location, f"{path}.weight", f"{weight} is not between 0 and 100")


def _listener(lb: LoadBalancer, listener: Listener, path: str) -> Iterator[str]:
    where = listener.location
    if listener.protocol == Protocol.UDP:
        yield _at(
            where,
            f"{path}.protocol",
            "HAProxy 2.6 cannot balance UDP; serve this listener with an nginx "
            "(stream) or alibaba-slb target",
        )
    if listener.redirect_to_port is not None:
        yield from _unsupported(listener, path)
        return  # answered by HAProxy itself: no group, scheduler or check
    if not listener.server_group:
        yield _at(where, path, "a haproxy listener needs a server_group to send to")
    elif lb.server_group(listener.server_group) is None:
        yield _at(
            where,
            f"{path}.server_group",
            f'"{listener.server_group}" is not a server group of {lb.name}',
        )
    if listener.description and set(listener.description) & set("#\"'\\\n"):
        yield _at(
            where,
            f"{path}.description",
            "HAProxy reads #, quotes and backslashes in a description as syntax; "
            "leave them out",
        )
    scheduler = str(listener.scheduler)
    if scheduler not in set(Scheduler) and not NATIVE_BALANCE.match(scheduler):
        yield _at(
            where,
            f"{path}.scheduler",
            f'"{scheduler}" is not a scheduler; use round_robin, '
            "weighted_round_robin, least_connections, source_hash or an "
            "HAProxy balance algorithm",
        )
    check = listener.health_check
    served = listener.protocol in _RENDERED
    if served and check.enabled and check.type not in ("tcp", "http"):
        yield _at(
            where,
            f"{path}.health_check.type",
            f'HAProxy checks servers over tcp or http, not "{check.type}"',
        )
    yield from _rules(lb, listener, path)
    yield from _unsupported(listener, path)


def _rules(lb: LoadBalancer, listener: Listener, path: str) -> Iterator[str]:
    if listener.rules and listener.protocol not in HTTP_PROTOCOLS:
        yield _at(
            listener.location,
            f"{path}.rules",
            "forwarding rules match a host and path: only HTTP and HTTPS "
            "listeners take them",
        )
    for index, rule in enumerate(listener.rules):
        where, rule_path = rule.location or listener.location, f"{path}.rules[{index}]"
        if not NAME_PATTERN.match(rule.name):
            yield _at(where, f"{rule_path}.name", _bad_name(rule.name))
        if lb.server_group(rule.server_group) is None:
            yield _at(
                where,
                f"{rule_path}.server_group",
                f'"{rule.server_group}" is not a server group of {lb.name}',
            )
        if rule.url is not None and not URL_PREFIX.match(rule.url):
            yield _at(
                where,
                f"{rule_path}.url",
                f'"{rule.url}" is not a path prefix HAProxy can match; start it '
                "with / and leave out spaces and #",
            )
        if rule.domain is not None and not DOMAIN.match(rule.domain):
            yield _at(
                where,
                f"{rule_path}.domain",
                f'"{rule.domain}" is not a host name (a leading "*." is allowed)',
            )


def _unsupported(listener: Listener, path: str) -> Iterator[str]:
    for field, why in UNSUPPORTED_LISTENER_FIELDS.items():
        value = getattr(listener, field)
        if value not in (getattr(_DEFAULT_LISTENER, field), None, ()):
            yield _at(listener.location, f"{path}.{field}", why)
    xff = listener.x_forwarded_for
    if (
        xff
        and xff.enabled
        and any((xff.slb_ip, xff.slb_id, xff.proto, xff.slb_port, xff.client_src_port))
    ):
        yield _at(
            listener.location,
            f"{path}.x_forwarded_for",
            "HAProxy adds X-Forwarded-For only; turn the SLB-specific headers off",
        )


def _shared_groups(lb: LoadBalancer, path: str) -> Iterator[str]:
    """Listeners sharing a group must agree: HAProxy sets these per backend."""
    seen: dict[str, Listener] = {}
    for index, listener in enumerate(lb.listeners):
        if listener.protocol not in _RENDERED:
            continue  # reported already
        for group in groups_of(listener):
            first = seen.setdefault(group, listener)
            if first is not listener:
                yield from _disagreement(
                    first, listener, group, f"{path}.listeners[{index}]"
                )


def _disagreement(
    first: Listener, listener: Listener, group: str, path: str
) -> Iterator[str]:
    a, b = normalise_listener(first), normalise_listener(listener)
    differs = [
        what
        for what, differ in (
            ("mode (tcp or http)", mode_of(a.protocol) != mode_of(b.protocol)),
            ("scheduler", a.scheduler != b.scheduler),
            ("health_check", a.health_check != b.health_check),
            ("sticky_session", a.sticky_session != b.sticky_session),
            ("persistence_timeout", a.persistence_timeout != b.persistence_timeout),
            ("proxy_protocol", a.proxy_protocol != b.proxy_protocol),
        )
        if differ
    ]
    if differs:
        yield _at(
            listener.location,
            path,
            f"{first.label} and {listener.label} share server group "
            f"{group} but not its {' or '.join(differs)}; "
            "HAProxy sets these per backend: make them agree or use two groups",
        )
