"""SLB's vocabulary and defaults, applied alike to the spec and to live state.

An untouched load balancer must plan clean, so both sides go through
``normalise``: native scheduler names become portable ones, health checks
lose the knobs their type ignores, and values SLB decides by itself (a
pay-by-CLCU instance has no spec, pay-by-traffic has no bandwidth) are
dropped. ``mask_unset`` then blanks live values of fields the spec leaves
unset (``None``): the spec does not care, so the plan must not either.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Scheduler,
    ServerGroup,
    StickySession,
)
from slbsync.targets.base import OWNER_TAG

TO_NATIVE_SCHEDULER = {
    Scheduler.WEIGHTED_ROUND_ROBIN.value: "wrr",
    Scheduler.ROUND_ROBIN.value: "rr",
    Scheduler.LEAST_CONNECTIONS.value: "wlc",
    Scheduler.SOURCE_HASH.value: "sch",
}
TO_PORTABLE_SCHEDULER = {native: p for p, native in TO_NATIVE_SCHEDULER.items()}
NATIVE_ONLY_SCHEDULERS = ("tch", "qch")

# Which schedulers each protocol takes (reference section 2.2, scheduler matrix).
SCHEDULERS_BY_PROTOCOL = {
    Protocol.TCP: ("wrr", "rr", "wlc", "sch", "tch"),
    Protocol.UDP: ("wrr", "rr", "wlc", "sch", "tch", "qch"),
    Protocol.HTTP: ("wrr", "rr", "wlc"),
    Protocol.HTTPS: ("wrr", "rr", "wlc"),
}

HEALTH_CHECK_TYPES = {
    Protocol.TCP: ("tcp", "http"),
    Protocol.UDP: ("udp",),
    Protocol.HTTP: ("http",),
    Protocol.HTTPS: ("http",),
}

# Listener fields where None means "whatever the cloud has": the live value
# is blanked when the spec leaves them unset. Fields where None means "off"
# (connection_drain, sticky_session, acl, certificates, redirect) are not here.
UNSET_MEANS_ANY = (
    "backend_port",
    "description",
    "established_timeout",
    "gzip",
    "idle_timeout",
    "request_timeout",
    "x_forwarded_for",
    "http2",
    "tls_cipher_policy",
)
HEALTH_CHECK_UNSET_MEANS_ANY = ("port", "method", "domain")
LOAD_BALANCER_UNSET_MEANS_ANY = (
    "spec",
    "bandwidth",
    "vswitch_id",
    "vpc_id",
    "modification_protection_reason",
    "resource_group_id",
    "master_zone_id",
    "slave_zone_id",
)


def native_scheduler(value: str) -> str:
    """The SLB value for a portable or native scheduler name."""
    return TO_NATIVE_SCHEDULER.get(value, value)


def portable_scheduler(value: str) -> str:
    """The portable name for an SLB scheduler; tch and qch stay native."""
    return TO_PORTABLE_SCHEDULER.get(value, value)


def sorted_tags(tags: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in tags if k != OWNER_TAG))


def normalise_load_balancer(lb: LoadBalancer) -> LoadBalancer:
    """``lb`` in SLB's canonical form: the same spec gives the same object."""
    spec = lb.spec
    if lb.instance_charge_type == "PayByCLCU" or spec == "slb.lcu.elastic":
        spec = None  # pay-by-CLCU instances have no spec to choose
    bandwidth = lb.bandwidth
    if lb.internet_charge_type == "paybytraffic":
        bandwidth = None
    reason = lb.modification_protection_reason
    if not lb.modification_protection:
        reason = None
    return replace(
        lb,
        spec=spec,
        bandwidth=bandwidth,
        modification_protection_reason=reason,
        tags=sorted_tags(lb.tags),
        server_groups=tuple(
            normalise_group(g) for g in sorted(lb.server_groups, key=_name)
        ),
        listeners=tuple(
            normalise_listener(li) for li in sorted(lb.listeners, key=_key)
        ),
    )


def normalise_group(group: ServerGroup) -> ServerGroup:
    servers = tuple(sorted(group.servers, key=lambda s: s.key))
    return replace(group, servers=servers, tags=sorted_tags(group.tags))


def normalise_listener(listener: Listener) -> Listener:
    protocol = Protocol(listener.protocol)
    backend_port = listener.backend_port
    if listener.server_group is not None:
        backend_port = None  # a group's servers carry their own ports
    sticky = listener.sticky_session
    if sticky is not None:
        sticky = _normalise_sticky(sticky)
    return replace(
        listener,
        protocol=protocol,
        scheduler=portable_scheduler(str(listener.scheduler)),
        backend_port=backend_port,
        health_check=normalise_health_check(
            listener.health_check, protocol, listener.backend_port
        ),
        sticky_session=sticky,
        rules=tuple(sorted(listener.rules, key=_name)),
    )


def normalise_health_check(
    check: HealthCheck, protocol: Protocol, backend_port: int | None
) -> HealthCheck:
    kind = check.type
    if kind not in HEALTH_CHECK_TYPES[protocol]:
        kind = HEALTH_CHECK_TYPES[protocol][0]
    if not check.enabled:
        return HealthCheck(enabled=False, type=kind)
    port = check.port
    if port in (0, backend_port):
        port = None  # SLB checks the backend port unless told otherwise
    check = replace(check, type=kind, port=port)
    if kind != "http":
        check = replace(
            check, path=None, domain=None, http_codes=("http_2xx",), method=None
        )
    else:
        codes = tuple(sorted(set(check.http_codes))) or ("http_2xx",)
        check = replace(check, http_codes=codes, domain=check.domain or None)
    if protocol != Protocol.UDP:
        check = replace(check, udp_request=None, udp_expect=None)
    return check


def _normalise_sticky(sticky: StickySession) -> StickySession:
    if sticky.type == "insert":
        return replace(sticky, cookie=None)
    return replace(sticky, cookie_timeout=None)


def mask_unset(live: LoadBalancer, desired: LoadBalancer) -> LoadBalancer:
    """``live`` with the values the spec leaves unset blanked out."""
    blanks: dict[str, Any] = {
        name: None
        for name in LOAD_BALANCER_UNSET_MEANS_ANY
        if getattr(desired, name) is None
    }
    wanted = {li.key: li for li in desired.listeners}
    listeners = tuple(
        _mask_listener(li, wanted[li.key]) if li.key in wanted else li
        for li in live.listeners
    )
    return replace(live, listeners=listeners, **blanks)


def _mask_listener(live: Listener, desired: Listener) -> Listener:
    blanks: dict[str, Any] = {
        name: None for name in UNSET_MEANS_ANY if getattr(desired, name) is None
    }
    check = live.health_check
    if check.enabled and desired.health_check.enabled:
        unset: dict[str, Any] = {
            name: None
            for name in HEALTH_CHECK_UNSET_MEANS_ANY
            if getattr(desired.health_check, name) is None
        }
        check = replace(check, **unset)
    return replace(live, health_check=check, **blanks)


def field_values(obj: Any, prefix: str = "") -> dict[str, Any]:
    """A dataclass flattened to dotted field names, for field-level diffs."""
    values: dict[str, Any] = {}
    for item in fields(obj):
        if item.name in ("location", "listeners", "server_groups", "rules"):
            continue
        value = getattr(obj, item.name)
        name = f"{prefix}{item.name}"
        if hasattr(value, "__dataclass_fields__"):
            values.update(field_values(value, f"{name}."))
        else:
            values[name] = value
    return values


def _name(item: Any) -> str:
    return str(item.name)


def _key(item: Any) -> tuple[str, int]:
    return (str(item.key[0]), int(item.key[1]))
