"""How the spec's vocabulary maps onto nginx, both ways.

- Schedulers: round_robin and weighted_round_robin are nginx's default
  (weighted) round robin; least_connections is ``least_conn``; source_hash
  is ``hash $remote_addr consistent``. Not ``ip_hash``: it keys on the first
  three octets only, so every client behind one /24 (a NAT, an office, a
  test on 127.0.0.x) lands on one server.
- Weights: SLB's 1-100 are written as they are (nginx compares weights
  relatively); weight 0 (no new connections) is ``down``, since nginx
  rejects ``weight=0``.
- Health checks: nginx open source only checks passively, on real traffic.
  ``unhealthy_threshold`` failures within ``interval * unhealthy_threshold``
  seconds take a server out for as long (``max_fails``/``fail_timeout``);
  ``timeout`` is the connect timeout. A disabled check is ``max_fails=0``.

``normalise_load_balancer`` projects a load balancer onto what nginx can
hold, so a spec and the file read back compare equal.
"""

from __future__ import annotations

import re

from slbsync.spec.model import (
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Scheduler,
    Server,
    ServerGroup,
    ServerType,
    XForwardedFor,
)

SCHEDULER_ALIASES = {
    "rr": Scheduler.ROUND_ROBIN,
    "wrr": Scheduler.WEIGHTED_ROUND_ROBIN,
    "wlc": Scheduler.LEAST_CONNECTIONS,
    "sch": Scheduler.SOURCE_HASH,
}
"""SLB's native scheduler names, accepted so one spec serves both targets."""

SOURCE_HASH_ARGS = ["$remote_addr", "consistent"]

HEALTH_CHECK_TYPES = {
    Protocol.TCP: "tcp",
    Protocol.UDP: "udp",
    Protocol.HTTP: "http",
    Protocol.HTTPS: "http",
}

XFF_HEADERS = {
    "enabled": ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
    "proto": ("X-Forwarded-Proto", "$scheme"),
    "slb_port": ("X-Forwarded-Port", "$server_port"),
    "client_src_port": ("X-Forwarded-Client-Srcport", "$remote_port"),
    "slb_ip": ("SLB-IP", "$server_addr"),
}
"""X-Forwarded-* switches and the header each one adds (slb_id has none)."""

UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def is_stream(protocol: str) -> bool:
    return protocol in (Protocol.TCP, Protocol.UDP)


def portable_scheduler(value: str) -> str:
    """The portable name for ``value``; unknown values pass through."""
    if value in SCHEDULER_ALIASES:
        return str(SCHEDULER_ALIASES[value])
    return str(value)


def balancing_directive(scheduler: str) -> list[str] | None:
    """The upstream directive for a scheduler (name then args), or None."""
    scheduler = portable_scheduler(scheduler)
    if scheduler == Scheduler.LEAST_CONNECTIONS:
        return ["least_conn"]
    if scheduler == Scheduler.SOURCE_HASH:
        return ["hash", *SOURCE_HASH_ARGS]
    return None


def scheduler_from_directive(directive: list[str] | None, hint: str | None) -> str:
    """The scheduler an upstream's balancing directive means.

    nginx's round robin always honours weights; ``hint`` (from the owned
    file's marker comment) tells round_robin from weighted_round_robin.
    """
    if directive is None:
        if hint == Scheduler.ROUND_ROBIN:
            return str(Scheduler.ROUND_ROBIN)
        return str(Scheduler.WEIGHTED_ROUND_ROBIN)
    if directive == ["least_conn"]:
        return str(Scheduler.LEAST_CONNECTIONS)
    if directive == ["hash", *SOURCE_HASH_ARGS]:
        return str(Scheduler.SOURCE_HASH)
    return " ".join(directive)  # hand-edited: shows as drift, verbatim


def upstream_name(lb: str, listener: Listener) -> str:
    safe = UNSAFE_NAME.sub("_", lb)
    return f"slbsync_{safe}_{listener.protocol}_{listener.port}"


def server_parameters(server: Server, health: HealthCheck) -> list[str]:
    """The arguments of one ``server`` line in an upstream."""
    host = server.address or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    params = [f"{host}:{server.port}"]
    if server.weight <= 0:
        params.append("down")
    else:
        params.append(f"weight={server.weight}")
    if not health.enabled:
        params.append("max_fails=0")
    else:
        window = health.interval * health.unhealthy_threshold
        params += [f"max_fails={health.unhealthy_threshold}", f"fail_timeout={window}s"]
    return params


def project_health(health: HealthCheck, protocol: str) -> HealthCheck:
    """Only what a passive check holds; the rest at its default."""
    check_type = HEALTH_CHECK_TYPES.get(Protocol(protocol), "tcp")
    if not health.enabled:
        return HealthCheck(enabled=False, type=check_type)
    return HealthCheck(
        enabled=True,
        type=check_type,
        interval=health.interval,
        timeout=health.timeout,
        unhealthy_threshold=health.unhealthy_threshold,
    )


def normalise_server(server: Server) -> Server:
    return Server(
        port=server.port,
        address=server.address or server.id,
        weight=server.weight,
        type=ServerType.IP,
        location=server.location,
    )


def normalise_group(group: ServerGroup) -> ServerGroup:
    servers = sorted((normalise_server(s) for s in group.servers), key=_server_key)
    return ServerGroup(
        name=group.name,
        membership=group.membership,
        servers=tuple(servers),
        location=group.location,
    )


def normalise_listener(listener: Listener) -> Listener:
    if listener.protocol == Protocol.HTTP and listener.redirect_to_port is not None:
        # A redirecting listener sends nothing to its group: only the
        # target port (and the group it names) is kept.
        return Listener(
            protocol=listener.protocol,
            port=listener.port,
            server_group=listener.server_group,
            health_check=project_health(HealthCheck(), listener.protocol),
            gzip=False,
            redirect_to_port=listener.redirect_to_port,
            location=listener.location,
        )
    stream = is_stream(listener.protocol)
    https = listener.protocol == Protocol.HTTPS
    xff = listener.x_forwarded_for
    return Listener(
        protocol=listener.protocol,
        port=listener.port,
        server_group=listener.server_group,
        scheduler=portable_scheduler(listener.scheduler),
        health_check=project_health(listener.health_check, listener.protocol),
        acl=listener.acl,
        established_timeout=listener.established_timeout if stream else None,
        proxy_protocol=listener.proxy_protocol if stream else False,
        x_forwarded_for=None if stream or xff is None or not xff.enabled else xff,
        gzip=None if stream else bool(listener.gzip),
        idle_timeout=None if stream else listener.idle_timeout,
        request_timeout=None if stream else listener.request_timeout,
        certificate=listener.certificate if https else None,
        ca_certificate=listener.ca_certificate if https else None,
        http2=bool(listener.http2) if https else None,
        rules=() if stream else tuple(sorted(listener.rules, key=_rule_name)),
        location=listener.location,
    )


def normalise_load_balancer(lb: LoadBalancer) -> LoadBalancer:
    """``lb`` as nginx can hold it: cloud-only attributes at their defaults."""
    groups = sorted((normalise_group(g) for g in lb.server_groups), key=_name)
    listeners = sorted((normalise_listener(x) for x in lb.listeners), key=_key)
    return LoadBalancer(
        name=lb.name,
        target=lb.target,
        server_groups=tuple(groups),
        listeners=tuple(listeners),
        location=lb.location,
    )


def xff_from_headers(headers: dict[str, str]) -> XForwardedFor | None:
    """The X-Forwarded-* switches a set of ``proxy_set_header`` names means."""
    flags = {key: header in headers for key, (header, _) in XFF_HEADERS.items()}
    if not flags["enabled"]:
        return None
    return XForwardedFor(**flags)


def _rule_name(rule: ForwardingRule) -> str:
    return rule.name


def _server_key(server: Server) -> tuple[str, int]:
    return server.key


def _name(group: ServerGroup) -> str:
    return group.name


def _key(listener: Listener) -> tuple[str, int]:
    return listener.key
