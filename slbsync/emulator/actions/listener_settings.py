"""The knobs of each listener protocol: which parameters it takes, their ranges.

Create*Listener and Set*ListenerAttribute read the same knobs; a knob names
the wire parameter, the record field and how the value is checked. The
gateway ignores parameters a protocol does not define, so a TCP request
carrying ``Cookie`` is not refused: the knob is simply not read.
References: the Create/Set pages of each protocol in the CLB API reference,
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter
from slbsync.emulator.params import Params
from slbsync.emulator.state.listeners import ListenerRecord

SCHEDULERS = {
    "tcp": ("wrr", "rr", "wlc", "sch", "tch"),
    "udp": ("wrr", "rr", "wlc", "sch", "tch", "qch"),
    "http": ("wrr", "rr", "wlc"),
    "https": ("wrr", "rr", "wlc"),
}
# Consistent-hash schedulers run only on high-performance (non-shared) instances.
HASH_SCHEDULERS = ("sch", "tch", "qch")
TLS_POLICIES = (
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
)
HTTP_CODES = ("http_2xx", "http_3xx", "http_4xx", "http_5xx")
DESCRIPTION_PATTERN = r"[A-Za-z0-9\-/._]{1,256}"
DOMAIN_PATTERN = r"\$_ip|[A-Za-z0-9.\-]{1,80}"
URI_PATTERN = r"/[A-Za-z0-9\-/.%?#&=_]{1,79}"
_UDP_PROBE = re.compile(r"[A-Za-z0-9]+")
_COOKIE_FORBIDDEN = re.compile(r"[,; ]")


@dataclass(frozen=True)
class Knob:
    """One wire parameter mapped onto a ``ListenerRecord`` field."""

    param: str
    field: str
    kind: str  # int, switch, choice, bool, text
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    on_create: bool = True
    on_set: bool = True


def _int(param: str, field: str, low: int, high: int, **kw: Any) -> Knob:
    return Knob(param, field, "int", low=low, high=high, **kw)


def _switch(param: str, field: str, **kw: Any) -> Knob:
    return Knob(param, field, "switch", **kw)


def _choice(param: str, field: str, choices: tuple[str, ...], **kw: Any) -> Knob:
    return Knob(param, field, "choice", choices=choices, **kw)


def _text(param: str, field: str, pattern: str | None = None, **kw: Any) -> Knob:
    return Knob(param, field, "text", pattern=pattern, **kw)


COMMON = (
    _text("Description", "description", DESCRIPTION_PATTERN),
    _switch("AclStatus", "acl_status"),
    _choice("AclType", "acl_type", ("white", "black")),
    _text("AclId", "acl_id"),
    _int("BackendServerPort", "backend_server_port", 1, 65535, on_set=False),
    _int("HealthyThreshold", "healthy_threshold", 2, 10),
    _int("UnhealthyThreshold", "unhealthy_threshold", 2, 10),
    _int("HealthCheckInterval", "health_check_interval", 1, 50),
    _int("HealthCheckConnectPort", "health_check_connect_port", 1, 65535),
)
LAYER4 = (
    _switch("HealthCheckSwitch", "health_check"),
    _int("HealthCheckConnectTimeout", "health_check_connect_timeout", 1, 300),
    Knob("ProxyProtocolV2Enabled", "proxy_protocol_v2_enabled", "bool"),
)
TCP = (
    *COMMON,
    *LAYER4,
    _choice("HealthCheckType", "health_check_type", ("tcp", "http")),
    _text("HealthCheckDomain", "health_check_domain", DOMAIN_PATTERN),
    _text("HealthCheckURI", "health_check_uri", URI_PATTERN),
    _text("HealthCheckHttpCode", "health_check_http_code"),
    _int("PersistenceTimeout", "persistence_timeout", 0, 3600),
    _int("EstablishedTimeout", "established_timeout", 10, 900),
    _switch("ConnectionDrain", "connection_drain"),
    _int("ConnectionDrainTimeout", "connection_drain_timeout", 10, 900),
    _choice("SynProxy", "syn_proxy", ("enable", "disable"), on_create=False),
)
UDP = (
    *COMMON,
    *LAYER4,
    _text("HealthCheckReq", "health_check_req"),
    _text("HealthCheckExp", "health_check_exp"),
)
HTTP_COMMON = (
    *COMMON,
    _switch("HealthCheck", "health_check"),
    _int("HealthCheckTimeout", "health_check_timeout", 1, 300),
    _text("HealthCheckDomain", "health_check_domain", DOMAIN_PATTERN),
    _text("HealthCheckURI", "health_check_uri", URI_PATTERN),
    _text("HealthCheckHttpCode", "health_check_http_code"),
    _choice("HealthCheckMethod", "health_check_method", ("head", "get")),
    _switch("StickySession", "sticky_session"),
    _choice("StickySessionType", "sticky_session_type", ("insert", "server")),
    _int("CookieTimeout", "cookie_timeout", 1, 86400),
    _text("Cookie", "cookie"),
    _switch("Gzip", "gzip"),
    _int("IdleTimeout", "idle_timeout", 1, 60),
    _int("RequestTimeout", "request_timeout", 1, 180),
    _switch("XForwardedFor", "x_forwarded_for"),
    _switch("XForwardedFor_SLBIP", "x_forwarded_for_slbip"),
    _switch("XForwardedFor_SLBID", "x_forwarded_for_slbid"),
    _switch("XForwardedFor_proto", "x_forwarded_for_proto"),
    _switch("XForwardedFor_SLBPORT", "x_forwarded_for_slbport"),
    _switch("XForwardedFor_ClientSrcPort", "x_forwarded_for_client_src_port"),
)
HTTP = (
    *HTTP_COMMON,
    _switch("ListenerForward", "listener_forward", on_set=False),
    _int("ForwardPort", "forward_port", 1, 65535, on_set=False),
)
HTTPS = (
    *HTTP_COMMON,
    _text("ServerCertificateId", "server_certificate_id"),
    _text("CACertificateId", "ca_certificate_id"),
    _switch("EnableHttp2", "enable_http2"),
    _choice("TLSCipherPolicy", "tls_cipher_policy", TLS_POLICIES),
)
KNOBS = {"tcp": TCP, "udp": UDP, "http": HTTP, "https": HTTPS}


def apply_knobs(
    params: Params, listener: ListenerRecord, *, creating: bool
) -> list[str]:
    """Copy every knob present in ``params`` onto ``listener``; the names set."""
    changed = []
    for knob in KNOBS[listener.protocol]:
        if not (knob.on_create if creating else knob.on_set):
            continue
        value = read_knob(params, knob)
        if value is not None:
            setattr(listener, knob.field, value)
            changed.append(knob.param)
    scheduler = params.str("Scheduler", choices=SCHEDULERS[listener.protocol])
    if scheduler is not None:
        listener.scheduler = scheduler
    _check_free_text(listener)
    return changed


def read_knob(params: Params, knob: Knob) -> Any:
    if knob.kind == "int":
        return params.int(knob.param, minimum=knob.low, maximum=knob.high)
    if knob.kind == "switch":
        return params.switch(knob.param)
    if knob.kind == "bool":
        return params.bool(knob.param)
    if knob.kind == "choice":
        return params.str(knob.param, choices=knob.choices)
    return params.str(knob.param, pattern=knob.pattern)


def _check_free_text(listener: ListenerRecord) -> None:
    """The free-text knobs whose rules a pattern alone cannot say."""
    codes = [c for c in listener.health_check_http_code.split(",") if c]
    if any(code not in HTTP_CODES for code in codes):
        raise InvalidParameter(
            "HealthCheckHttpCode",
            "Use a comma-separated list of http_2xx, http_3xx, http_4xx, http_5xx.",
        )
    for name, value in (
        ("HealthCheckReq", listener.health_check_req),
        ("HealthCheckExp", listener.health_check_exp),
    ):
        if value and len(value) > 64:
            raise ApiError(
                f"InvalidParamLength.{name}",
                f"The length of {name} should be between 1 and 64.",
            )
        if value and not _UDP_PROBE.fullmatch(value):
            raise InvalidParameter(name, "Only letters and digits are allowed.")
    cookie = listener.cookie
    if cookie and (
        len(cookie) > 200
        or not cookie.isascii()
        or _COOKIE_FORBIDDEN.search(cookie)
        or cookie.startswith("$")
    ):
        raise InvalidParameter(
            "Cookie",
            "Use 1-200 ASCII characters without , ; space, not starting with $.",
        )
