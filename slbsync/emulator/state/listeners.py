"""Listeners of the emulated load balancers, and their configuring window.

A listener is identified by (load balancer, protocol, port). TCP, HTTP and
HTTPS all listen on TCP, so they share one port space; a UDP listener may sit
on the same port number as one of them (the only case where a client must
name the protocol to pick a listener).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from slbsync.emulator.errors import (
    ApiError,
    InvalidParameter,
    ListenerBusy,
    ListenerNotFound,
    MissingParameter,
)
from slbsync.emulator.state import rules
from slbsync.emulator.state.store import Store

if TYPE_CHECKING:
    from slbsync.emulator.registry import ActionContext

TABLE = "listeners"
PROTOCOLS = ("tcp", "udp", "http", "https")
LISTENERS_PER_LOAD_BALANCER = 50  # listeners-per-slb in the cloud's quota list


@dataclass
class ListenerRecord:
    """One listener with every knob of its protocol (unused ones keep defaults)."""

    load_balancer_id: str
    protocol: str
    port: int
    status: str = "stopped"
    description: str = ""
    bandwidth: int = -1
    backend_server_port: int | None = None
    scheduler: str = "wrr"
    vserver_group_id: str = ""
    master_slave_server_group_id: str = ""
    listener_forward: str = "off"
    forward_port: int | None = None
    acl_status: str = "off"
    acl_type: str = ""
    acl_id: str = ""
    server_certificate_id: str = ""
    ca_certificate_id: str = ""
    busy_until: float = 0.0
    create_time: float = 0.0
    # Health check; TCP/UDP call the switch HealthCheckSwitch, HTTP(S) HealthCheck.
    health_check: str = "on"
    health_check_type: str = "tcp"
    health_check_interval: int = 2
    health_check_connect_timeout: int = 5
    health_check_timeout: int = 5
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3
    health_check_connect_port: int | None = None
    health_check_domain: str = ""
    health_check_uri: str = ""
    health_check_http_code: str = "http_2xx"
    health_check_method: str = "head"
    health_check_req: str = ""
    health_check_exp: str = ""
    # TCP (and partly UDP)
    persistence_timeout: int = 0
    established_timeout: int = 900
    connection_drain: str = "off"
    connection_drain_timeout: int | None = None
    proxy_protocol_v2_enabled: bool = False
    syn_proxy: str = "disable"
    # HTTP and HTTPS
    sticky_session: str = "off"
    sticky_session_type: str = ""
    cookie_timeout: int | None = None
    cookie: str = ""
    gzip: str = "on"
    idle_timeout: int = 15
    request_timeout: int = 60
    x_forwarded_for: str = "on"
    x_forwarded_for_slbip: str = "off"
    x_forwarded_for_slbid: str = "off"
    x_forwarded_for_proto: str = "off"
    x_forwarded_for_slbport: str = "off"
    x_forwarded_for_client_src_port: str = "off"
    # HTTPS
    enable_http2: str = "on"
    tls_cipher_policy: str = "tls_cipher_policy_1_0"

    @property
    def key(self) -> str:
        return listener_key(self.load_balancer_id, self.protocol, self.port)

    @property
    def tag_resource_id(self) -> str:
        """The id a listener has as a tag resource: ``lb-xxx_http_80``."""
        return f"{self.load_balancer_id}_{self.protocol}_{self.port}"


def listener_key(lb_id: str, protocol: str, port: int) -> str:
    return f"{lb_id}/{protocol}/{port}"


def transport_of(protocol: str) -> str:
    """``udp`` for UDP, ``tcp`` for the TCP-based protocols."""
    return "udp" if protocol == "udp" else "tcp"


def listeners(store: Store) -> dict[str, ListenerRecord]:
    return store.table(TABLE, ListenerRecord)


def listeners_of(store: Store, lb_id: str) -> list[ListenerRecord]:
    """The listeners of one load balancer, by port then protocol."""
    found = [rec for rec in listeners(store).values() if rec.load_balancer_id == lb_id]
    return sorted(found, key=lambda rec: (rec.port, rec.protocol))


def get_listener(
    store: Store, lb_id: str, protocol: str | None, port: int
) -> ListenerRecord:
    """The listener on ``port``; ``protocol`` may be left out when it is unique."""
    on_port = [rec for rec in listeners_of(store, lb_id) if rec.port == port]
    if protocol is not None:
        on_port = [rec for rec in on_port if rec.protocol == protocol.lower()]
    if not on_port:
        raise ListenerNotFound()
    if len(on_port) > 1:
        raise ApiError(
            "TooManyListeners",
            "More than 1 listener is found, please be more specified.",
        )
    return on_port[0]


def find_listener_on_port(
    store: Store, lb_id: str, protocol: str, port: int
) -> ListenerRecord | None:
    """A listener that would clash with a new ``protocol`` listener on ``port``."""
    for rec in listeners_of(store, lb_id):
        if rec.port == port and transport_of(rec.protocol) == transport_of(protocol):
            return rec
    return None


def listeners_using_acl(store: Store, acl_id: str) -> list[ListenerRecord]:
    return [
        rec
        for rec in _all_sorted(store)
        if rec.acl_id == acl_id and rec.acl_status == "on"
    ]


def listeners_using_certificate(store: Store, cert_id: str) -> list[ListenerRecord]:
    return [
        rec
        for rec in _all_sorted(store)
        if cert_id in (rec.server_certificate_id, rec.ca_certificate_id)
    ]


def listeners_using_vserver_group(store: Store, group_id: str) -> list[ListenerRecord]:
    return [rec for rec in _all_sorted(store) if rec.vserver_group_id == group_id]


def listeners_using_master_slave_group(
    store: Store, group_id: str
) -> list[ListenerRecord]:
    return [
        rec
        for rec in _all_sorted(store)
        if rec.master_slave_server_group_id == group_id
    ]


def listeners_using_default_group(store: Store, lb_id: str) -> list[ListenerRecord]:
    """The listeners of ``lb_id`` that forward to its default server group.

    Those name neither a VServer nor a master-slave group but a backend
    port; an HTTP listener that only redirects to HTTPS has none.
    """
    return [
        rec
        for rec in listeners_of(store, lb_id)
        if not rec.vserver_group_id
        and not rec.master_slave_server_group_id
        and rec.backend_server_port is not None
    ]


def listeners_fed_by_vserver_group(store: Store, group_id: str) -> list[ListenerRecord]:
    """The listeners forwarding to ``group_id`` directly or through a rule."""
    table = listeners(store)
    fed = {rec.key: rec for rec in listeners_using_vserver_group(store, group_id)}
    for rule in rules.rules_using_group(store, group_id):
        key = listener_key(
            rule.load_balancer_id, rule.listener_protocol, rule.listener_port
        )
        if key in table:
            fed.setdefault(key, table[key])
    return sorted(fed.values(), key=lambda rec: (rec.port, rec.protocol))


def _all_sorted(store: Store) -> list[ListenerRecord]:
    return sorted(
        listeners(store).values(),
        key=lambda rec: (rec.load_balancer_id, rec.port, rec.protocol),
    )


def mark_configuring(ctx: ActionContext, listener: ListenerRecord) -> None:
    """Open the configuring window that follows a write to ``listener``.

    A backend change opens it too: a member change of a VServer group opens
    the window of each listener forwarding to the group, directly or through
    one of its forwarding rules (actions/server_groups.py), and a change of
    the default backend servers that of each listener using the default
    group (actions/backends.py). A master-slave group cannot change while a
    listener uses it: the API has no modify action and refuses to delete a
    group in use, so no window is opened for one.
    """
    listener.busy_until = ctx.now + ctx.configuring_seconds


def check_not_configuring(
    ctx: ActionContext,
    listener: ListenerRecord,
    busy: type[ApiError] = ListenerBusy,
) -> None:
    """Refuse a write while the listener is still applying the previous one.

    Attribute and rule writes get ``ListenerBusy``
    (OperationFailed.ListenerStatusNotSupport, what Terraform retries on
    update); start, stop and delete pass ``ServiceIsConfiguring``.
    """
    if ctx.configuring_seconds > 0 and ctx.now < listener.busy_until:
        raise busy()


def require_port(ctx: ActionContext) -> int:
    port = ctx.params.int("ListenerPort", required=True, minimum=1, maximum=65535)
    assert port is not None
    return port


def optional_protocol(ctx: ActionContext) -> str | None:
    value = ctx.params.str("ListenerProtocol")
    if value is None:
        return None
    if value.lower() not in PROTOCOLS:
        raise InvalidParameter(
            "ListenerProtocol", "Valid values: tcp, udp, http, https."
        )
    return value.lower()


def require_lb_id(ctx: ActionContext) -> str:
    value = ctx.params.str("LoadBalancerId")
    if not value:
        raise MissingParameter("LoadBalancerId")
    return value


def delete_listener_record(store: Store, listener: ListenerRecord) -> None:
    """Drop a listener with its tags, forwarding rules and domain extensions."""
    from slbsync.emulator.state import certificates, tags

    rules.delete_rules_of_listener(
        store, listener.load_balancer_id, listener.protocol, listener.port
    )
    if listener.protocol == "https":
        extensions = certificates.domain_extensions(store)
        for extension in certificates.domain_extensions_of_listener(
            store, listener.load_balancer_id, listener.port, listener.create_time
        ):
            extensions.pop(extension.domain_extension_id, None)
    tags.remove_all_tags(store, "listener", listener.tag_resource_id)
    listeners(store).pop(listener.key, None)
