"""What a spec may ask of nginx: the problems ``NginxTarget.validate`` reports.

nginx open source balances, weighs, hashes, fails over passively,
terminates TLS and refuses clients by address (ACLs, see ``access.py``);
it has no active health checks, no sticky cookies, no per-listener
bandwidth cap and no time-based persistence. A spec asking for
one of those gets a problem naming the field and what nginx does instead,
before anything is read or written.
"""

from __future__ import annotations

import ipaddress

from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Scheduler,
    Spec,
    TargetSpec,
)
from slbsync.targets.nginx.mapping import SCHEDULER_ALIASES, is_stream
from slbsync.targets.nginx.options import option_problems, parse_options

PORTABLE_SCHEDULERS = tuple(str(s) for s in Scheduler)
DEFAULT_CHECK = HealthCheck()


def spec_problems(spec: Spec, target: TargetSpec) -> list[str]:
    """Every problem nginx has with the parts of ``spec`` aimed at ``target``."""
    problems = option_problems(target)
    options = parse_options(target)
    for lb in spec.load_balancers_on(target.name):
        problems += _group_problems(lb)
        for index, listener in enumerate(lb.listeners):
            where = _where(listener.location, lb, f"listeners[{index}]")
            problems += _listener_problems(spec, lb, listener, where)
            drain = listener.connection_drain
            if drain is not None and drain > options.worker_shutdown_timeout:
                problems.append(
                    f"{where}.connection_drain: {drain}s is longer than the "
                    f"target's drain cap worker_shutdown_timeout "
                    f"({options.worker_shutdown_timeout}s); nginx drains every "
                    "connection with that one cap, so raise the target option "
                    "worker_shutdown_timeout or lower connection_drain"
                )
    problems += _port_clashes(spec, target.name)
    return problems


def _where(location: object, lb: LoadBalancer, path: str) -> str:
    return f"{_loc(location)}load_balancers.{lb.name}.{path}"


def _loc(location: object) -> str:
    return f"{location} " if location else ""


def _group_problems(lb: LoadBalancer) -> list[str]:
    problems = []
    for group in lb.server_groups:
        base = f"server_groups.{group.name}"
        if group.membership == Membership.DISCOVERED:
            problems.append(
                f"{_where(group.location, lb, base)}.membership: nginx cannot "
                "discover cloud instances by tag; list the servers (static) or "
                "let register calls manage them (external)"
            )
        for index, server in enumerate(group.servers):
            where = _where(server.location, lb, f"{base}.servers[{index}]")
            problems += _server_problems(server.address, server.id, where)
    return problems


def _server_problems(
    address: str | None, server_id: str | None, where: str
) -> list[str]:
    if not address:
        return [
            f"{where}.address: nginx reaches servers by IP address, and "
            f"{server_id or 'this server'} has only a cloud id; give its address"
        ]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return [
            f'{where}.address: "{address}" is not an IP address; nginx resolves '
            "names only when it reloads, so give the server's IP"
        ]
    return []


def _listener_problems(
    spec: Spec, lb: LoadBalancer, listener: Listener, where: str
) -> list[str]:
    problems = []
    if listener.redirect_to_port is not None:
        return _unsupported(listener, where)  # sends nothing to a group
    if not listener.server_group:
        problems.append(
            f"{where}.server_group: an nginx listener needs a server group to "
            "send traffic to"
        )
    elif lb.server_group(listener.server_group) is None:
        problems.append(
            f"{where}.server_group: {listener.server_group} is not a server group "
            f"of load balancer {lb.name}"
        )
    scheduler = str(listener.scheduler)
    if scheduler not in PORTABLE_SCHEDULERS and scheduler not in SCHEDULER_ALIASES:
        problems.append(
            f'{where}.scheduler: "{scheduler}" is not a scheduler nginx can run; '
            "use round_robin, weighted_round_robin, least_connections or "
            "source_hash"
        )
    for index, rule in enumerate(listener.rules):
        rule_where = f"{where}.rules[{index}]"
        if lb.server_group(rule.server_group) is None:
            problems.append(
                f"{rule_where}.server_group: {rule.server_group} is not a server "
                f"group of load balancer {lb.name}"
            )
        if rule.url is not None and not rule.url.startswith("/"):
            problems.append(
                f'{rule_where}.url: "{rule.url}" must start with / (nginx matches '
                "it as a path prefix)"
            )
    problems += _acl_problems(spec, lb, listener, where)
    problems += _health_problems(listener.health_check, listener.protocol, where)
    problems += _unsupported(listener, where)
    if listener.protocol == Protocol.HTTPS:
        problems += _certificate_problems(spec, listener, where)
        if listener.ca_certificate:
            problems += _ca_problems(spec, listener.ca_certificate, where)
    return problems


def _acl_problems(
    spec: Spec, lb: LoadBalancer, listener: Listener, where: str
) -> list[str]:
    # Rendered without its entries, a white list would shut everyone out.
    if listener.acl is None:
        return []
    name = listener.acl.acl
    if any(acl.name == name for acl in spec.acls_on(lb.target)):
        return []
    return [
        f"{where}.acl: {name} is not an ACL of target {lb.target} in the spec; "
        f"add it under acls with target: {lb.target}"
    ]


def _health_problems(check: HealthCheck, protocol: str, where: str) -> list[str]:
    if not check.enabled:
        return []
    where = f"{where}.health_check"
    passive = (
        "nginx open source checks passively, on real traffic (max_fails and "
        "fail_timeout from unhealthy_threshold and interval)"
    )
    problems = []
    if is_stream(protocol) and check.type not in ("tcp", "udp"):
        problems.append(
            f'{where}.type: nginx cannot run an active "{check.type}" check; '
            f"{passive}; use type tcp"
        )
    asked = {
        "path": check.path not in (None, "/"),
        "domain": check.domain is not None,
        "method": check.method is not None,
        "http_codes": check.http_codes != DEFAULT_CHECK.http_codes,
        "port": check.port is not None,
        "udp_request": check.udp_request is not None,
        "udp_expect": check.udp_expect is not None,
    }
    for name, is_set in asked.items():
        if is_set:
            problems.append(
                f"{where}.{name}: nginx cannot send active health check requests; "
                f"{passive}; remove {name}"
            )
    return problems


def _unsupported(listener: Listener, where: str) -> list[str]:
    asked = {
        "bandwidth": (
            listener.bandwidth not in (-1, None),
            "nginx has no per-listener bandwidth cap; remove bandwidth",
        ),
        "acl": (
            listener.acl is not None and listener.redirect_to_port is not None,
            "nginx answers a redirect before it checks allow/deny, so an ACL "
            "here would refuse no one; remove acl from the redirecting listener "
            "and put it on the https listener it points to",
        ),
        "persistence_timeout": (
            listener.persistence_timeout > 0,
            "nginx has no time-based session persistence; use scheduler "
            "source_hash to keep a client on one server",
        ),
        "sticky_session": (
            listener.sticky_session is not None,
            "nginx open source has no sticky cookies; use scheduler source_hash",
        ),
        "tls_cipher_policy": (
            listener.tls_cipher_policy is not None,
            "nginx takes ciphers as ssl_ciphers in its own config, not SLB "
            "policy names; remove tls_cipher_policy",
        ),
        "x_forwarded_for.slb_id": (
            listener.x_forwarded_for is not None and listener.x_forwarded_for.slb_id,
            "nginx has no load balancer id to send; turn slb_id off",
        ),
    }
    return [f"{where}.{name}: {why}" for name, (is_set, why) in asked.items() if is_set]


def _certificate_problems(spec: Spec, listener: Listener, where: str) -> list[str]:
    if not listener.certificate:
        return [f"{where}.certificate: an HTTPS listener needs a certificate"]
    certificate = next(
        (c for c in spec.certificates if c.name == listener.certificate), None
    )
    if certificate is None:
        return [
            f"{where}.certificate: {listener.certificate} is not a certificate "
            "in the spec"
        ]
    if not certificate.certificate_file or not certificate.private_key_file:
        return [
            f"{where}.certificate: nginx reads {listener.certificate} from files; "
            "give the certificate both certificate_file and private_key_file"
        ]
    return []


def _port_clashes(spec: Spec, target: str) -> list[str]:
    # TCP, HTTP and HTTPS listeners share nginx's TCP ports; UDP has its own.
    seen: dict[tuple[str, int], str] = {}
    problems = []
    for lb in spec.load_balancers_on(target):
        for index, listener in enumerate(lb.listeners):
            family = "udp" if listener.protocol == Protocol.UDP else "tcp"
            label = f"load_balancers.{lb.name}.listeners[{index}]"
            other = seen.setdefault((family, listener.port), label)
            if other != label:
                problems.append(
                    f"{_loc(listener.location)}{label}.port: {family} port "
                    f"{listener.port} is already taken by {other} on the same "
                    "nginx; give each listener its own port"
                )
    return problems


def _ca_problems(spec: Spec, name: str, where: str) -> list[str]:
    ca = next((c for c in spec.certificates if c.name == name), None)
    if ca is None:
        return [f"{where}.ca_certificate: {name} is not a certificate in the spec"]
    if ca.kind != "ca" or not ca.certificate_file:
        return [
            f"{where}.ca_certificate: nginx verifies clients against {name}'s "
            "file; give it kind: ca and certificate_file"
        ]
    return []
