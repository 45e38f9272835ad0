"""The spec's portable vocabulary in Elastic Load Balancing v2 terms.

On AWS a listener only forwards; what the spec puts on a listener (health
check, scheduler, connection drain, stickiness, PROXY protocol) belongs to
the target group it forwards to. ``GroupSettings`` is that part of a
listener, built from the spec (``settings_of``) and from live target group
attributes (``settings_from``), so both sides compare in one shape.

The scheduler mapping (docs/targets/aws-elbv2.md has the table):

- application: ``round_robin`` and ``weighted_round_robin`` are AWS's
  ``round_robin`` (AWS has no per-target weights, so the two are one),
  ``least_connections`` is ``least_outstanding_requests``; ``source_hash``
  has no equivalent.
- network: connections are spread by a flow hash, with no choice of
  algorithm. ``weighted_round_robin`` (the default) stands for that spread;
  ``source_hash`` is stickiness by source IP (``stickiness.type
  source_ip``), which keeps a client on one target as a source hash does;
  ``round_robin`` and ``least_connections`` have no equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Scheduler,
    ServerGroup,
    ServerType,
    StickySession,
)
from slbsync.targets.aws_elbv2.names import spec_tags

APPLICATION = "application"
NETWORK = "network"
LAYER4 = (Protocol.TCP, Protocol.UDP, Protocol.TLS)
# Listeners whose connection_drain the spec's own table refuses but AWS
# takes: every target group has a deregistration delay (0 to 3600 s).
DRAIN_BEYOND_TABLE = (Protocol.UDP.value, Protocol.HTTP.value, Protocol.HTTPS.value)
PROTOCOLS_BY_TYPE = {
    APPLICATION: (Protocol.HTTP, Protocol.HTTPS),
    NETWORK: (Protocol.TCP, Protocol.UDP, Protocol.TLS),
}

SCHEME = {"internet": "internet-facing", "intranet": "internal"}
ADDRESS_TYPE = {aws: ours for ours, aws in SCHEME.items()}
IP_ADDRESS_TYPE = {"ipv4": "ipv4", "ipv6": "dualstack"}
IP_VERSION = {aws: ours for ours, aws in IP_ADDRESS_TYPE.items()}

# A load balancer that ends TLS speaks HTTP (application) or TCP (network)
# to its targets.
TARGET_PROTOCOL = {
    Protocol.TLS: "TCP",
    Protocol.TCP: "TCP",
    Protocol.UDP: "UDP",
    Protocol.HTTP: "HTTP",
    Protocol.HTTPS: "HTTP",
}

ALB_ALGORITHM = {
    Scheduler.ROUND_ROBIN.value: "round_robin",
    Scheduler.WEIGHTED_ROUND_ROBIN.value: "round_robin",
    Scheduler.LEAST_CONNECTIONS.value: "least_outstanding_requests",
}
ALB_SCHEDULER = {
    "round_robin": Scheduler.ROUND_ROBIN.value,
    "least_outstanding_requests": Scheduler.LEAST_CONNECTIONS.value,
}
NLB_SCHEDULERS = (Scheduler.WEIGHTED_ROUND_ROBIN.value, Scheduler.SOURCE_HASH.value)

HTTP_CLASSES = ("http_2xx", "http_3xx", "http_4xx", "http_5xx")


def load_balancer_type(lb: LoadBalancer) -> str:
    """The spec's ``type``, or network when any listener is TCP or UDP."""
    if lb.type:
        return lb.type
    layer4 = any(listener.protocol in LAYER4 for listener in lb.listeners)
    return NETWORK if layer4 else APPLICATION


def target_type(group: ServerGroup) -> str:
    """``ip`` when the group's servers are named by address, else ``instance``."""
    ip = any(s.type == ServerType.IP or not s.id for s in group.servers)
    return "ip" if ip else "instance"


# -- what a listener puts on its target group --


@dataclass(frozen=True)
class GroupSettings:
    """The target group side of a listener, in the spec's vocabulary."""

    health_check: HealthCheck
    scheduler: str
    drain: int | None  # deregistration delay in seconds; None when AWS gave none
    sticky_session: StickySession | None
    proxy_protocol: bool


def settings_of(listener: Listener) -> GroupSettings:
    """What a (normalised) listener asks of its target group."""
    return GroupSettings(
        health_check=listener.health_check,
        scheduler=str(listener.scheduler),
        drain=listener.connection_drain or 0,  # off cuts connections at once
        sticky_session=listener.sticky_session,
        proxy_protocol=listener.proxy_protocol,
    )


def with_settings(
    listener: Listener, settings: GroupSettings, port: int | None
) -> Listener:
    """A live listener carrying the settings of the group it forwards to."""
    layer4 = listener.protocol in LAYER4
    return replace(
        listener,
        backend_port=port,
        health_check=settings.health_check,
        scheduler=settings.scheduler,
        connection_drain=settings.drain or None,
        sticky_session=None if layer4 else settings.sticky_session,
        proxy_protocol=settings.proxy_protocol if layer4 else False,
    )


# -- health checks --


def health_params(check: HealthCheck) -> dict[str, Any]:
    """CreateTargetGroup/ModifyTargetGroup parameters for a health check."""
    params: dict[str, Any] = {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": "HTTP" if check.type == "http" else "TCP",
        "HealthCheckPort": str(check.port) if check.port else "traffic-port",
        "HealthCheckIntervalSeconds": check.interval,
        "HealthCheckTimeoutSeconds": check.timeout,
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
    }
    if check.type == "http":
        params["HealthCheckPath"] = check.path or "/"
        params["Matcher"] = {"HttpCode": http_code_matcher(check.http_codes)}
    return params


def http_code_matcher(classes: tuple[str, ...]) -> str:
    """``("http_2xx", "http_3xx")`` as AWS's ``200-399``; gaps as a list."""
    hundreds = sorted(int(name[5]) for name in classes if name in HTTP_CLASSES)
    ranges: list[list[int]] = []
    for hundred in hundreds or [2]:
        if ranges and ranges[-1][1] == hundred - 1:
            ranges[-1][1] = hundred
        else:
            ranges.append([hundred, hundred])
    return ",".join(f"{low}00-{high}99" for low, high in ranges)


def http_classes(matcher: str) -> tuple[str, ...]:
    """AWS's matcher in the spec's classes: each class a code or range touches.

    A narrower matcher (``200``) reads as its class (``http_2xx``), so it
    plans clean against the spec; values that are not codes stay as they are.
    """
    found: set[str] = set()
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        high = high or low
        if not (low.isdigit() and high.isdigit()):
            found.add(part.strip())
            continue
        touched = [
            name
            for name in HTTP_CLASSES
            if int(low) <= int(name[5]) * 100 + 99 and int(high) >= int(name[5]) * 100
        ]
        found.update(touched or [part.strip()])
    return tuple(sorted(found))


def health_from(group: dict[str, Any], listener_protocol: Protocol) -> HealthCheck:
    """A live target group's health check in the spec's terms."""
    protocol = group.get("HealthCheckProtocol", "TCP")
    if protocol == "HTTP":
        kind = "http"
    elif protocol == "TCP":
        kind = "udp" if listener_protocol == Protocol.UDP else "tcp"
    else:
        kind = protocol.lower()
    port = group.get("HealthCheckPort", "traffic-port")
    check = HealthCheck(
        enabled=bool(group.get("HealthCheckEnabled", True)),
        type=kind,
        interval=int(group.get("HealthCheckIntervalSeconds", 30)),
        timeout=int(group.get("HealthCheckTimeoutSeconds", 5)),
        healthy_threshold=int(group.get("HealthyThresholdCount", 5)),
        unhealthy_threshold=int(group.get("UnhealthyThresholdCount", 2)),
        port=None if port == "traffic-port" else int(port),
    )
    if kind == "http":
        matcher = (group.get("Matcher") or {}).get("HttpCode", "200")
        check = replace(
            check,
            # "/" is AWS's default and what an unset path sends (the spec
            # cannot write "/" alone), so it reads as unset.
            path=None
            if group.get("HealthCheckPath", "/") == "/"
            else group["HealthCheckPath"],
            http_codes=http_classes(matcher),
        )
    return check


def normalise_health(check: HealthCheck) -> HealthCheck:
    """Drop what AWS does not keep: method, domain, UDP payloads; knobs of http."""
    check = replace(
        check,
        method=None,
        domain=None,
        udp_request=None,
        udp_expect=None,
        http_codes=tuple(sorted(check.http_codes)),
    )
    if check.type != "http":
        check = replace(check, path=None, http_codes=HealthCheck().http_codes)
    return check


# -- target group attributes --


def attribute_params(settings: GroupSettings, kind: str) -> list[dict[str, str]]:
    """ModifyTargetGroupAttributes entries for ``settings``."""
    values: dict[str, str] = {}
    if settings.drain is not None:
        values["deregistration_delay.timeout_seconds"] = str(settings.drain)
    if kind == APPLICATION:
        values["load_balancing.algorithm.type"] = ALB_ALGORITHM.get(
            settings.scheduler, settings.scheduler
        )
        values.update(_cookie_stickiness(settings.sticky_session))
    else:
        sticky = settings.scheduler == Scheduler.SOURCE_HASH.value
        values["stickiness.enabled"] = _flag(sticky)
        values["stickiness.type"] = "source_ip"
        values["proxy_protocol_v2.enabled"] = _flag(settings.proxy_protocol)
    return [{"Key": key, "Value": value} for key, value in sorted(values.items())]


def _cookie_stickiness(sticky: StickySession | None) -> dict[str, str]:
    if sticky is None:
        return {"stickiness.enabled": "false"}
    if sticky.type == "server":
        values = {
            "stickiness.enabled": "true",
            "stickiness.type": "app_cookie",
            "stickiness.app_cookie.cookie_name": sticky.cookie or "",
        }
        if sticky.cookie_timeout:
            values["stickiness.app_cookie.duration_seconds"] = str(
                sticky.cookie_timeout
            )
        return values
    values = {"stickiness.enabled": "true", "stickiness.type": "lb_cookie"}
    if sticky.cookie_timeout:
        values["stickiness.lb_cookie.duration_seconds"] = str(sticky.cookie_timeout)
    return values


def settings_from(
    group: dict[str, Any],
    attributes: dict[str, str],
    listener_protocol: Protocol,
    kind: str,
) -> GroupSettings:
    """A live target group's settings in the spec's vocabulary."""
    sticky_on = attributes.get("stickiness.enabled", "false") == "true"
    sticky_type = attributes.get("stickiness.type", "")
    delay = attributes.get("deregistration_delay.timeout_seconds")
    if kind == APPLICATION:
        algorithm = attributes.get("load_balancing.algorithm.type", "round_robin")
        scheduler = ALB_SCHEDULER.get(algorithm, algorithm)
        sticky = _sticky_from(attributes) if sticky_on else None
    else:
        source = sticky_on and sticky_type == "source_ip"
        scheduler = (
            Scheduler.SOURCE_HASH.value
            if source
            else Scheduler.WEIGHTED_ROUND_ROBIN.value
        )
        sticky = None
    return GroupSettings(
        health_check=normalise_health(health_from(group, listener_protocol)),
        scheduler=scheduler,
        drain=int(delay) if delay is not None else None,
        sticky_session=sticky,
        proxy_protocol=attributes.get("proxy_protocol_v2.enabled") == "true",
    )


def _sticky_from(attributes: dict[str, str]) -> StickySession:
    if attributes.get("stickiness.type") == "app_cookie":
        duration = attributes.get("stickiness.app_cookie.duration_seconds")
        return StickySession(
            type="server",
            cookie=attributes.get("stickiness.app_cookie.cookie_name") or None,
            cookie_timeout=int(duration) if duration else None,
        )
    duration = attributes.get("stickiness.lb_cookie.duration_seconds")
    return StickySession(
        type="insert", cookie_timeout=int(duration) if duration else None
    )


def _flag(on: bool) -> str:
    return "true" if on else "false"


# -- normalising the spec --


def normalise_load_balancer(lb: LoadBalancer) -> LoadBalancer:
    """The spec as AWS will hold it, so an untouched load balancer plans clean."""
    kind = load_balancer_type(lb)
    return replace(
        lb,
        type=kind,
        subnets=tuple(sorted(set(lb.subnets))),
        security_groups=tuple(sorted(set(lb.security_groups))),
        tags=spec_tags(dict(lb.tags)),
        server_groups=tuple(
            replace(g, tags=spec_tags(dict(g.tags))) for g in lb.server_groups
        ),
        listeners=tuple(normalise_listener(item, kind) for item in lb.listeners),
    )


def normalise_listener(listener: Listener, kind: str) -> Listener:
    scheduler = str(listener.scheduler)
    if kind == APPLICATION and scheduler == Scheduler.WEIGHTED_ROUND_ROBIN.value:
        scheduler = Scheduler.ROUND_ROBIN.value  # one on AWS: no per-target weights
    return replace(
        listener,
        scheduler=scheduler,
        health_check=normalise_health(listener.health_check),
        connection_drain=listener.connection_drain or None,
    )
