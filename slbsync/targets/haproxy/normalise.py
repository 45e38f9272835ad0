"""Bring a load balancer to the form HAProxy can hold, so spec and live compare.

What HAProxy has no place for (cloud-only attributes such as charge types
or zones) is reset to the model's defaults on both sides; what it could
hold but slbsync does not render yet is refused by ``validate`` instead,
so nothing a user asks for is dropped silently.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from slbsync.spec.model import (
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    XForwardedFor,
)
from slbsync.targets.haproxy.mapping import HTTP_PROTOCOLS, normalise_scheduler

_BARE_LISTENER = Listener(protocol=Protocol.TCP, port=1)
_BARE_LOAD_BALANCER = LoadBalancer(name="", target="")


def normalise_load_balancer(lb: LoadBalancer) -> LoadBalancer:
    """``lb`` with only what the owned file can express."""
    bare = replace(_BARE_LOAD_BALANCER, name=lb.name, target=lb.target)
    return replace(
        bare,
        server_groups=tuple(normalise_group(group) for group in lb.server_groups),
        listeners=tuple(normalise_listener(item) for item in lb.listeners),
        adopt=lb.adopt,
        location=lb.location,
    )


def normalise_group(group: ServerGroup) -> ServerGroup:
    servers = tuple(normalise_server(server) for server in group.servers)
    return replace(group, servers=servers, tags=())


def normalise_server(server: Server) -> Server:
    # On-prem servers are known by address (an eni/eci server's id is the
    # cloud's name for it); descriptions have no place in HAProxy.
    return replace(
        server,
        id=None,
        address=_canonical(server.address),
        type=ServerType.IP,
        description="",
    )


def _canonical(address: str | None) -> str | None:
    """An IP as HAProxy prints it (``2001:DB8::1`` -> ``2001:db8::1``)."""
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return address  # not an IP: validate() reports it


def normalise_listener(listener: Listener) -> Listener:
    if listener.protocol == Protocol.HTTP and listener.redirect_to_port is not None:
        # A redirecting listener sends nothing to a group: nginx and HAProxy
        # answer it themselves, so its group and scheduler are not kept.
        return replace(
            _BARE_LISTENER,
            protocol=listener.protocol,
            port=listener.port,
            description=listener.description or None,
            acl=listener.acl,
            redirect_to_port=listener.redirect_to_port,
            location=listener.location,
        )
    is_http = listener.protocol in HTTP_PROTOCOLS
    is_https = listener.protocol == Protocol.HTTPS
    xff = listener.x_forwarded_for
    return replace(
        _BARE_LISTENER,
        protocol=listener.protocol,
        port=listener.port,
        server_group=listener.server_group,
        scheduler=normalise_scheduler(str(listener.scheduler)),
        description=listener.description or None,
        health_check=normalise_health_check(listener.health_check),
        established_timeout=None if is_http else listener.established_timeout,
        connection_drain=listener.connection_drain or None,
        persistence_timeout=0 if is_http else listener.persistence_timeout,
        proxy_protocol=False if is_http else listener.proxy_protocol,
        x_forwarded_for=XForwardedFor() if is_http and xff and xff.enabled else None,
        idle_timeout=listener.idle_timeout if is_http else None,
        request_timeout=listener.request_timeout if is_http else None,
        acl=listener.acl,
        sticky_session=listener.sticky_session if is_http else None,
        gzip=True if is_http and listener.gzip else None,
        certificate=listener.certificate if is_https else None,
        ca_certificate=listener.ca_certificate if is_https else None,
        http2=bool(listener.http2) if is_https else None,
        rules=tuple(sorted(listener.rules, key=_rule_name)) if is_http else (),
        location=listener.location,
    )


def _rule_name(rule: ForwardingRule) -> str:
    return rule.name


def normalise_health_check(check: HealthCheck) -> HealthCheck:
    if not check.enabled:
        return HealthCheck(enabled=False)
    base = HealthCheck(
        enabled=True,
        type=check.type,
        interval=check.interval,
        timeout=check.timeout,
        healthy_threshold=check.healthy_threshold,
        unhealthy_threshold=check.unhealthy_threshold,
        port=check.port,
    )
    if check.type != "http":
        return base
    return replace(
        base,
        path=check.path or "/",
        domain=check.domain or None,
        http_codes=tuple(sorted(set(check.http_codes))) or ("http_2xx",),
        method=(check.method or "GET").upper(),
    )
