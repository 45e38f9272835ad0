"""Listeners between the spec model and SLB's wire parameters, both ways.

``listener_params`` gives every parameter a listener is created or updated
with (the Set names; the client swaps the first letter where the SDK's
create model spells it ``healthCheckInterval``). ``listener_from_wire``
reads a ``DescribeLoadBalancerListeners`` item, whose per-protocol
``*ListenerConfig`` carries every knob, back into a ``Listener``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slbsync.spec.model import (
    AclBinding,
    HealthCheck,
    Listener,
    Protocol,
    StickySession,
    XForwardedFor,
)
from slbsync.targets.alibaba_slb.normalise import native_scheduler, portable_scheduler

Ref = Callable[[str, str], Any]
"""Turns (kind, spec name) into a live id, or a reference resolved at apply."""

# Parameters only Create*Listener takes: a change to them needs a new listener.
CREATE_ONLY_PARAMS = frozenset({"BackendServerPort", "ListenerForward", "ForwardPort"})

CONFIG_KEYS = {
    Protocol.TCP: "TCPListenerConfig",
    Protocol.UDP: "UDPListenerConfig",
    Protocol.HTTP: "HTTPListenerConfig",
    Protocol.HTTPS: "HTTPSListenerConfig",
}

_XFF_SWITCHES = (
    ("XForwardedFor_SLBIP", "slb_ip"),
    ("XForwardedFor_SLBID", "slb_id"),
    ("XForwardedFor_proto", "proto"),
    ("XForwardedFor_SLBPORT", "slb_port"),
    ("XForwardedFor_ClientSrcPort", "client_src_port"),
)


def on_off(value: bool) -> str:
    return "on" if value else "off"


def is_on(value: Any) -> bool:
    return str(value).lower() in ("on", "true", "1", "enable")


def listener_action(verb: str, protocol: str) -> str:
    """``Create``/``Set`` and a protocol as the action name."""
    name = str(protocol).upper()
    if verb == "Create":
        return f"CreateLoadBalancer{name}Listener"
    return f"SetLoadBalancer{name}ListenerAttribute"


def listener_params(listener: Listener, ref: Ref) -> dict[str, Any]:
    """Every wire parameter ``listener`` sets, ids through ``ref``."""
    protocol = Protocol(listener.protocol)
    params: dict[str, Any] = {
        "ListenerPort": listener.port,
        "Bandwidth": listener.bandwidth,
        "Scheduler": native_scheduler(str(listener.scheduler)),
    }
    if listener.description is not None:
        params["Description"] = listener.description
    if listener.server_group is not None:
        params["VServerGroupId"] = ref("group", listener.server_group)
    if listener.backend_port is not None:
        params["BackendServerPort"] = listener.backend_port
    params.update(_acl_params(listener, ref))
    params.update(_health_check_params(listener.health_check, protocol))
    if protocol == Protocol.TCP:
        params.update(_tcp_params(listener))
    if protocol in (Protocol.TCP, Protocol.UDP):
        params["ProxyProtocolV2Enabled"] = listener.proxy_protocol
    if protocol in (Protocol.HTTP, Protocol.HTTPS):
        params.update(_http_params(listener))
    if protocol == Protocol.HTTPS:
        params.update(_https_params(listener, ref))
    return params


def _acl_params(listener: Listener, ref: Ref) -> dict[str, Any]:
    if listener.acl is None:
        return {"AclStatus": "off"}
    return {
        "AclStatus": "on",
        "AclType": listener.acl.type,
        "AclId": ref("acl", listener.acl.acl),
    }


def _health_check_params(check: HealthCheck, protocol: Protocol) -> dict[str, Any]:
    layer4 = protocol in (Protocol.TCP, Protocol.UDP)
    switch = "HealthCheckSwitch" if layer4 else "HealthCheck"
    if not check.enabled:
        return {switch: "off"}
    params: dict[str, Any] = {
        switch: "on",
        "HealthCheckInterval": check.interval,
        "HealthyThreshold": check.healthy_threshold,
        "UnhealthyThreshold": check.unhealthy_threshold,
        ("HealthCheckConnectTimeout" if layer4 else "HealthCheckTimeout"): (
            check.timeout
        ),
    }
    if check.port is not None:
        params["HealthCheckConnectPort"] = check.port
    if protocol == Protocol.TCP:
        params["HealthCheckType"] = check.type
    if protocol == Protocol.UDP:
        if check.udp_request:
            params["HealthCheckReq"] = check.udp_request
        if check.udp_expect:
            params["HealthCheckExp"] = check.udp_expect
    if check.type == "http":
        if check.path:
            params["HealthCheckURI"] = check.path
        if check.domain:
            params["HealthCheckDomain"] = check.domain
        params["HealthCheckHttpCode"] = ",".join(check.http_codes)
        if check.method and not layer4:
            params["HealthCheckMethod"] = check.method
    return params


def _tcp_params(listener: Listener) -> dict[str, Any]:
    params: dict[str, Any] = {"PersistenceTimeout": listener.persistence_timeout}
    if listener.established_timeout is not None:
        params["EstablishedTimeout"] = listener.established_timeout
    if listener.connection_drain is None:
        params["ConnectionDrain"] = "off"
    else:
        params["ConnectionDrain"] = "on"
        params["ConnectionDrainTimeout"] = listener.connection_drain
    return params


def _http_params(listener: Listener) -> dict[str, Any]:
    params: dict[str, Any] = {}
    sticky = listener.sticky_session
    if sticky is None:
        params["StickySession"] = "off"
    else:
        params["StickySession"] = "on"
        params["StickySessionType"] = sticky.type
        if sticky.type == "insert" and sticky.cookie_timeout is not None:
            params["CookieTimeout"] = sticky.cookie_timeout
        if sticky.type == "server" and sticky.cookie:
            params["Cookie"] = sticky.cookie
    xff = listener.x_forwarded_for
    if xff is not None:
        params["XForwardedFor"] = on_off(xff.enabled)
        for param, name in _XFF_SWITCHES:
            params[param] = on_off(getattr(xff, name))
    for param, value in (
        ("Gzip", listener.gzip),
        ("IdleTimeout", listener.idle_timeout),
        ("RequestTimeout", listener.request_timeout),
    ):
        if value is not None:
            params[param] = on_off(value) if isinstance(value, bool) else value
    if listener.redirect_to_port is not None:
        params["ListenerForward"] = "on"
        params["ForwardPort"] = listener.redirect_to_port
    return params


def _https_params(listener: Listener, ref: Ref) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if listener.certificate is not None:
        params["ServerCertificateId"] = ref("certificate", listener.certificate)
    if listener.ca_certificate is not None:
        params["CACertificateId"] = ref("ca_certificate", listener.ca_certificate)
    if listener.http2 is not None:
        params["EnableHttp2"] = on_off(listener.http2)
    if listener.tls_cipher_policy is not None:
        params["TLSCipherPolicy"] = listener.tls_cipher_policy
    return params


# -- reading --------------------------------------------------------------


def listener_from_wire(
    item: Mapping[str, Any], names: Callable[[str, str], str | None]
) -> Listener:
    """A ``DescribeLoadBalancerListeners`` item as a ``Listener``.

    ``names(kind, id)`` maps a live id back to its spec name (group, acl,
    certificate); an id it does not know is kept as it is, so the plan
    shows it rather than hiding it.
    """
    protocol = Protocol(str(item["ListenerProtocol"]).lower())
    config: Mapping[str, Any] = item.get(CONFIG_KEYS[protocol]) or {}
    group_id = item.get("VServerGroupId") or None
    return Listener(
        protocol=protocol,
        port=int(item["ListenerPort"]),
        server_group=_named(names, "group", group_id),
        backend_port=_int(item.get("BackendServerPort")),
        scheduler=portable_scheduler(str(item.get("Scheduler") or "wrr")),
        bandwidth=_int(item.get("Bandwidth"), -1),
        description=item.get("Description") or None,
        health_check=_health_check_from(config, protocol),
        acl=_acl_from(item, names),
        persistence_timeout=_int(config.get("PersistenceTimeout"), 0),
        established_timeout=_int(config.get("EstablishedTimeout")),
        connection_drain=(
            _int(config.get("ConnectionDrainTimeout"))
            if is_on(config.get("ConnectionDrain"))
            else None
        ),
        proxy_protocol=is_on(config.get("ProxyProtocolV2Enabled")),
        **_http_fields(config, protocol, names),
    )


def master_slave_group_of(item: Mapping[str, Any]) -> str | None:
    """The master-slave group a listener item sends its traffic to, if any."""
    protocol = Protocol(str(item["ListenerProtocol"]).lower())
    config: Mapping[str, Any] = item.get(CONFIG_KEYS[protocol]) or {}
    return str(config.get("MasterSlaveServerGroupId") or "") or None


def _health_check_from(config: Mapping[str, Any], protocol: Protocol) -> HealthCheck:
    layer4 = protocol in (Protocol.TCP, Protocol.UDP)
    enabled = is_on(config.get("HealthCheck", config.get("HealthCheckSwitch", "on")))
    timeout_key = "HealthCheckConnectTimeout" if layer4 else "HealthCheckTimeout"
    default_type = {"udp": "udp", "tcp": "tcp"}.get(str(protocol), "http")
    codes = str(config.get("HealthCheckHttpCode") or "http_2xx")
    return HealthCheck(
        enabled=enabled,
        type=str(config.get("HealthCheckType") or default_type),
        interval=_int(config.get("HealthCheckInterval"), 2),
        timeout=_int(config.get(timeout_key), 5),
        healthy_threshold=_int(config.get("HealthyThreshold"), 3),
        unhealthy_threshold=_int(config.get("UnhealthyThreshold"), 3),
        port=_int(config.get("HealthCheckConnectPort")) or None,
        path=config.get("HealthCheckURI") or None,
        domain=config.get("HealthCheckDomain") or None,
        http_codes=tuple(code for code in codes.split(",") if code),
        method=config.get("HealthCheckMethod") or None,
        udp_request=config.get("HealthCheckReq") or None,
        udp_expect=config.get("HealthCheckExp") or None,
    )


def _acl_from(
    item: Mapping[str, Any], names: Callable[[str, str], str | None]
) -> AclBinding | None:
    if not is_on(item.get("AclStatus")):
        return None
    acl_id = item.get("AclId") or next(iter(item.get("AclIds") or []), None)
    if not acl_id:
        return None
    return AclBinding(
        acl=_named(names, "acl", acl_id) or acl_id,
        type=str(item.get("AclType") or "white"),
    )


def _http_fields(
    config: Mapping[str, Any],
    protocol: Protocol,
    names: Callable[[str, str], str | None],
) -> dict[str, Any]:
    if protocol not in (Protocol.HTTP, Protocol.HTTPS):
        return {}
    values: dict[str, Any] = {
        "sticky_session": _sticky_from(config),
        "x_forwarded_for": XForwardedFor(
            enabled=is_on(config.get("XForwardedFor", "on")),
            **{name: is_on(config.get(param)) for param, name in _XFF_SWITCHES},
        ),
        "gzip": is_on(config.get("Gzip", "on")),
        "idle_timeout": _int(config.get("IdleTimeout")),
        "request_timeout": _int(config.get("RequestTimeout")),
    }
    if protocol == Protocol.HTTP and is_on(config.get("ListenerForward")):
        values["redirect_to_port"] = _int(config.get("ForwardPort"))
    if protocol == Protocol.HTTPS:
        values["certificate"] = _named(
            names, "certificate", config.get("ServerCertificateId") or None
        )
        values["ca_certificate"] = _named(
            names, "ca_certificate", config.get("CACertificateId") or None
        )
        values["http2"] = is_on(config.get("EnableHttp2", "on"))
        values["tls_cipher_policy"] = config.get("TLSCipherPolicy") or None
    return values


def _sticky_from(config: Mapping[str, Any]) -> StickySession | None:
    if not is_on(config.get("StickySession")):
        return None
    return StickySession(
        type=str(config.get("StickySessionType") or "insert"),
        cookie=config.get("Cookie") or None,
        cookie_timeout=_int(config.get("CookieTimeout")),
    )


def _named(
    names: Callable[[str, str], str | None], kind: str, live_id: str | None
) -> str | None:
    if not live_id:
        return None
    return names(kind, live_id) or live_id


def _int(value: Any, default: int | None = None) -> Any:
    if value in (None, ""):
        return default
    return int(value)
