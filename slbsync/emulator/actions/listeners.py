"""Listener actions: create, set, describe, list, start, stop and delete.

API reference (one page per action):
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-<action-in-lower-case>

A listener is created ``stopped`` and started only from ``stopped``. After a
write, the listener stays in a configuring window of ``ctx.configuring_seconds``
during which further writes to it are refused with the busy codes clients
retry (reads never are). ``DescribeLoadBalancerListeners`` returns each
listener's full per-protocol configuration, so one paged call reads a fleet.
"""

from __future__ import annotations

import copy
from typing import Any

from slbsync.emulator.actions.listener_settings import HASH_SCHEDULERS, apply_knobs
from slbsync.emulator.errors import (
    ApiError,
    InvalidParameter,
    MissingParameter,
    ServiceIsConfiguring,
)
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import load_balancers as lbs
from slbsync.emulator.state import tags
from slbsync.emulator.state.listeners import (
    LISTENERS_PER_LOAD_BALANCER,
    PROTOCOLS,
    ListenerRecord,
    check_not_configuring,
    delete_listener_record,
    find_listener_on_port,
    get_listener,
    listeners,
    listeners_of,
    mark_configuring,
    optional_protocol,
    require_lb_id,
    require_port,
)
from slbsync.emulator.state.store import Store

MAX_LOAD_BALANCER_IDS = 10
BANDWIDTH_MAX = 5120


# -- create -----------------------------------------------------------------


@action("CreateLoadBalancerTCPListener", writes=True)
def create_load_balancer_tcp_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createloadbalancertcplistener"""
    return _create(ctx, "tcp")


@action("CreateLoadBalancerUDPListener", writes=True)
def create_load_balancer_udp_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createloadbalancerudplistener"""
    return _create(ctx, "udp")


@action("CreateLoadBalancerHTTPListener", writes=True)
def create_load_balancer_http_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createloadbalancerhttplistener"""
    return _create(ctx, "http")


@action("CreateLoadBalancerHTTPSListener", writes=True)
def create_load_balancer_https_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createloadbalancerhttpslistener"""
    return _create(ctx, "https")


def _create(ctx: ActionContext, protocol: str) -> dict[str, Any]:
    params = ctx.params

    # Required parameters, checked before the load balancer is looked up.
    lb_id = require_lb_id(ctx)
    port = require_port(ctx)
    if protocol != "http":
        params.int("Bandwidth", required=True)
    if protocol in ("http", "https"):
        params.switch("HealthCheck", required=True)
    pairs = params.tags()
    tags.check_tags(pairs)
    lb = lbs.get_load_balancer(ctx.store, lb_id, for_write=True)

    if find_listener_on_port(ctx.store, lb.load_balancer_id, protocol, port):
        raise ApiError(
            "ListenerAlreadyExists",
            f"A listener with the specified port {port} already exists.",
        )
    if len(listeners_of(ctx.store, lb.load_balancer_id)) >= LISTENERS_PER_LOAD_BALANCER:
        raise ApiError(
            "ListenerNumberOverLimit",
            "The number of listeners of the load balancer exceeds the limit: "
            f"{LISTENERS_PER_LOAD_BALANCER}.",
        )

    listener = ListenerRecord(lb.load_balancer_id, protocol, port, create_time=ctx.now)
    if protocol in ("tcp", "udp"):
        listener.health_check_type = "tcp"
    else:
        listener.health_check_type = "http"
    _apply(ctx, lb, listener, creating=True)

    listeners(ctx.store)[listener.key] = listener
    if pairs:
        tags.set_tags(ctx.store, "listener", listener.tag_resource_id, pairs)
    # No configuring window: a new listener is stopped and clients start it
    # at once (the Kubernetes cloud controller does not even retry), and the
    # reference names only set, backend and rule changes as opening one.
    return {}


# -- set --------------------------------------------------------------------


@action("SetLoadBalancerTCPListenerAttribute", writes=True)
def set_load_balancer_tcp_listener_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setloadbalancertcplistenerattribute"""
    return _set(ctx, "tcp")


@action("SetLoadBalancerUDPListenerAttribute", writes=True)
def set_load_balancer_udp_listener_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setloadbalancerudplistenerattribute"""
    return _set(ctx, "udp")


@action("SetLoadBalancerHTTPListenerAttribute", writes=True)
def set_load_balancer_http_listener_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setloadbalancerhttplistenerattribute"""
    return _set(ctx, "http")


@action("SetLoadBalancerHTTPSListenerAttribute", writes=True)
def set_load_balancer_https_listener_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setloadbalancerhttpslistenerattribute"""
    return _set(ctx, "https")


def _set(ctx: ActionContext, protocol: str) -> dict[str, Any]:
    lb = lbs.get_load_balancer(ctx.store, require_lb_id(ctx), for_write=True)
    port = require_port(ctx)
    current = get_listener(ctx.store, lb.load_balancer_id, protocol, port)
    check_not_configuring(ctx, current)

    # Work on a copy so a refused request changes nothing.
    changed = copy.deepcopy(current)
    _apply_group_switches(ctx, changed)
    _apply(ctx, lb, changed, creating=False)

    # DryRun semantics are unverified for CLB; we answer as ALB/NLB document.
    if ctx.params.bool("DryRun", default=False):
        raise ApiError(
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        )
    listeners(ctx.store)[changed.key] = changed
    mark_configuring(ctx, changed)
    return {}


def _apply_group_switches(ctx: ActionContext, listener: ListenerRecord) -> None:
    """``VServerGroup``/``MasterSlaveServerGroup`` on|off on the Set calls."""
    params = ctx.params
    vsg_switch = params.switch("VServerGroup")
    vsg_id = params.str("VServerGroupId")
    if vsg_switch == "on" and not vsg_id:
        raise MissingParameter("VServerGroupId")
    if vsg_switch == "off":
        listener.vserver_group_id = ""
    elif vsg_id:
        listener.vserver_group_id = vsg_id

    if listener.protocol not in ("tcp", "udp"):
        return
    ms_switch = params.switch("MasterSlaveServerGroup")
    ms_id = params.str("MasterSlaveServerGroupId")
    if ms_switch == "on" and not ms_id:
        raise MissingParameter("MasterSlaveServerGroupId")
    if ms_switch == "on" and vsg_switch == "on":
        _group_mismatch()
    if ms_switch == "off":
        listener.master_slave_server_group_id = ""
    elif ms_id:
        listener.master_slave_server_group_id = ms_id


def _group_mismatch() -> None:
    raise ApiError(
        "Abs.VServerGroupIdAndMasterSlaveServerGroupId.MissMatch",
        "VServerGroupId and MasterSlaveServerGroupId cannot both be set.",
    )


# -- shared validation ------------------------------------------------------


def _apply(
    ctx: ActionContext, lb: Any, listener: ListenerRecord, *, creating: bool
) -> None:
    """Read the knobs onto ``listener`` and check the result as a whole."""
    params = ctx.params
    apply_knobs(params, listener, creating=creating)
    bandwidth = params.int("Bandwidth")
    if bandwidth is not None:
        _check_bandwidth(ctx.store, lb, listener, bandwidth)
        listener.bandwidth = bandwidth
    if creating:
        listener.vserver_group_id = params.str("VServerGroupId") or ""
        if listener.protocol in ("tcp", "udp"):
            ms_id = params.str("MasterSlaveServerGroupId") or ""
            listener.master_slave_server_group_id = ms_id

    if listener.scheduler in HASH_SCHEDULERS and not getattr(lb, "spec", None):
        raise InvalidParameter(
            "Scheduler",
            f"{listener.scheduler} needs a high-performance (non-shared) instance.",
        )
    _check_backend_target(ctx.store, listener)
    _check_acl(ctx.store, listener)
    _check_certificates(ctx.store, listener)
    _check_sticky_session(listener)
    if creating:
        _check_forward(ctx.store, listener)


def _check_bandwidth(
    store: Store, lb: Any, listener: ListenerRecord, bandwidth: int
) -> None:
    if bandwidth != -1 and not 1 <= bandwidth <= BANDWIDTH_MAX:
        raise InvalidParameter(
            "Bandwidth", f"Use -1 (unlimited) or 1 to {BANDWIDTH_MAX}."
        )
    if getattr(lb, "internet_charge_type", "") != "paybybandwidth":
        return
    others = sum(
        max(rec.bandwidth, 0)
        for rec in listeners_of(store, lb.load_balancer_id)
        if rec.key != listener.key
    )
    limit = int(getattr(lb, "bandwidth", 0) or 0)
    if bandwidth == -1 or others + bandwidth > limit:
        raise ApiError(
            "InvalidParameter",
            "The specified Bandwidth is invalid. It exceeds the maximum bandwidth "
            "available to the instance.",
        )


def _check_backend_target(store: Store, listener: ListenerRecord) -> None:
    """One group at most, of this load balancer, or a backend port."""
    from slbsync.emulator.state.server_groups import (
        get_master_slave_group,
        get_vserver_group,
    )

    if listener.vserver_group_id and listener.master_slave_server_group_id:
        _group_mismatch()
    group_lb = None
    if listener.vserver_group_id:
        group_lb = get_vserver_group(store, listener.vserver_group_id).load_balancer_id
    elif listener.master_slave_server_group_id:
        group = get_master_slave_group(store, listener.master_slave_server_group_id)
        group_lb = group.load_balancer_id
    if group_lb is not None and group_lb != listener.load_balancer_id:
        raise ApiError(
            "VipNotMatchRspool",
            "The specified server group does not belong to the load balancer "
            "of the listener.",
        )
    redirects = listener.protocol == "http" and listener.listener_forward == "on"
    if group_lb is None and listener.backend_server_port is None and not redirects:
        raise MissingParameter("BackendServerPort")


def _check_acl(store: Store, listener: ListenerRecord) -> None:
    from slbsync.emulator.state import acls

    if listener.acl_status == "on":
        if not listener.acl_id:
            raise MissingParameter("AclId")
        if not listener.acl_type:
            raise MissingParameter("AclType")
    if listener.acl_id:
        acls.get_acl(store, listener.acl_id)


def _check_certificates(store: Store, listener: ListenerRecord) -> None:
    if listener.protocol != "https":
        return
    from slbsync.emulator.state import certificates

    if not listener.server_certificate_id:
        raise MissingParameter("ServerCertificateId")
    certificates.get_server_certificate(store, listener.server_certificate_id)
    if listener.ca_certificate_id:
        certificates.get_ca_certificate(store, listener.ca_certificate_id)


def _check_sticky_session(listener: ListenerRecord) -> None:
    if listener.protocol not in ("http", "https") or listener.sticky_session != "on":
        return
    if not listener.sticky_session_type:
        raise MissingParameter("StickySessionType")
    if listener.sticky_session_type == "insert" and listener.cookie_timeout is None:
        raise MissingParameter("CookieTimeout")
    if listener.sticky_session_type == "server" and not listener.cookie:
        raise MissingParameter("Cookie")


def _check_forward(store: Store, listener: ListenerRecord) -> None:
    """An HTTP listener that redirects must point at an HTTPS listener."""
    if listener.protocol != "http" or listener.listener_forward != "on":
        return
    if listener.forward_port is None:
        raise MissingParameter("ForwardPort")
    targets = [
        rec
        for rec in listeners_of(store, listener.load_balancer_id)
        if rec.protocol == "https" and rec.port == listener.forward_port
    ]
    if not targets:
        raise InvalidParameter(
            "ForwardPort", "It must be the port of an HTTPS listener of this instance."
        )


# -- describe ---------------------------------------------------------------


@action("DescribeLoadBalancerTCPListenerAttribute")
def describe_load_balancer_tcp_listener_attribute(
    ctx: ActionContext,
) -> dict[str, Any]:
    """api-slb-2014-05-15-describeloadbalancertcplistenerattribute"""
    return _describe_attribute(ctx, "tcp")


@action("DescribeLoadBalancerUDPListenerAttribute")
def describe_load_balancer_udp_listener_attribute(
    ctx: ActionContext,
) -> dict[str, Any]:
    """api-slb-2014-05-15-describeloadbalancerudplistenerattribute"""
    return _describe_attribute(ctx, "udp")


@action("DescribeLoadBalancerHTTPListenerAttribute")
def describe_load_balancer_http_listener_attribute(
    ctx: ActionContext,
) -> dict[str, Any]:
    """api-slb-2014-05-15-describeloadbalancerhttplistenerattribute"""
    return _describe_attribute(ctx, "http")


@action("DescribeLoadBalancerHTTPSListenerAttribute")
def describe_load_balancer_https_listener_attribute(
    ctx: ActionContext,
) -> dict[str, Any]:
    """api-slb-2014-05-15-describeloadbalancerhttpslistenerattribute"""
    return _describe_attribute(ctx, "https")


def _describe_attribute(ctx: ActionContext, protocol: str) -> dict[str, Any]:
    lb = lbs.get_load_balancer(ctx.store, require_lb_id(ctx))
    listener = get_listener(ctx.store, lb.load_balancer_id, protocol, require_port(ctx))
    body = _summary(ctx.store, listener)
    body["AclIds"] = {"AclId": body["AclIds"]}
    body["Tags"] = tags.tags_body(
        tags.tags_of(ctx.store, "listener", _tag_id(listener))
    )
    body.update(protocol_fields(listener, proxy_as_text=False))
    if protocol in ("http", "https"):
        body["Rules"] = {"Rule": _rules(ctx.store, listener)}
    if protocol == "https":
        body["DomainExtensions"] = {"DomainExtension": _extensions(ctx.store, listener)}
    return _compact(body)


@action("DescribeLoadBalancerListeners")
def describe_load_balancer_listeners(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-describeloadbalancerlisteners

    Bare lists (``Listeners: [...]``, ``AclIds``, ``Tags``), unlike every
    other SLB action; ``Listeners`` is left out when nothing matches.
    """
    params = ctx.params
    found = _filtered_listeners(ctx)
    page_size = params.int("MaxResults", default=20, minimum=1, maximum=100)
    assert page_size is not None
    start = _offset(params.str("NextToken"), len(found))
    page = found[start : start + page_size]
    following = start + page_size
    body: dict[str, Any] = {
        "TotalCount": len(found),
        "MaxResults": page_size,
        "NextToken": str(following) if following < len(found) else "",
    }
    if page:
        body["Listeners"] = [_list_entry(ctx.store, rec) for rec in page]
    return body


def _filtered_listeners(ctx: ActionContext) -> list[ListenerRecord]:
    params = ctx.params
    wanted_ids = params.indexed("LoadBalancerId")
    if len(wanted_ids) > MAX_LOAD_BALANCER_IDS:
        raise InvalidParameter(
            "LoadBalancerId", f"At most {MAX_LOAD_BALANCER_IDS} ids per request."
        )
    protocol = params.str("ListenerProtocol")
    if protocol is not None and protocol.lower() not in PROTOCOLS:
        raise InvalidParameter(
            "ListenerProtocol", "Valid values: tcp, udp, http, https."
        )
    port = params.int("ListenerPort", minimum=1, maximum=65535)
    description = params.str("Description")
    wanted_tags = params.tags()

    # The load balancers in scope first, so the listener loop stays cheap.
    in_scope = {
        lb_id
        for lb_id, lb in lbs.load_balancers(ctx.store).items()
        if lb.region_id == ctx.region_id and (not wanted_ids or lb_id in wanted_ids)
    }
    protocol = protocol.lower() if protocol is not None else None
    found = []
    for rec in listeners(ctx.store).values():
        if rec.load_balancer_id not in in_scope:
            continue
        if protocol is not None and rec.protocol != protocol:
            continue
        if port is not None and rec.port != port:
            continue
        if description is not None and rec.description != description:
            continue
        if wanted_tags and not _has_tags(ctx.store, rec, wanted_tags):
            continue
        found.append(rec)
    return sorted(found, key=lambda rec: (rec.load_balancer_id, rec.port, rec.protocol))


def _has_tags(
    store: Store, listener: ListenerRecord, wanted: list[tuple[str, str]]
) -> bool:
    held = set(tags.tags_of(store, "listener", listener.tag_resource_id))
    return all(pair in held for pair in wanted)


def _offset(token: str | None, total: int) -> int:
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise InvalidParameter("NextToken", "The token is not one this API issued.")
    return int(token)


def _list_entry(store: Store, listener: ListenerRecord) -> dict[str, Any]:
    entry = _summary(store, listener)
    entry["ListenerProtocol"] = listener.protocol
    pairs = tags.tags_of(store, "listener", _tag_id(listener))
    entry["Tags"] = [{"TagKey": key, "TagValue": value} for key, value in pairs]
    config_name = f"{listener.protocol.upper()}ListenerConfig"
    entry[config_name] = _compact(protocol_fields(listener, proxy_as_text=True))
    return _compact(entry)


def _summary(store: Store, listener: ListenerRecord) -> dict[str, Any]:
    """The fields every listener response carries, whatever the protocol."""
    return {
        "LoadBalancerId": listener.load_balancer_id,
        "ListenerPort": listener.port,
        "Status": listener.status,
        "Bandwidth": listener.bandwidth,
        "Scheduler": listener.scheduler,
        "BackendServerPort": listener.backend_server_port,
        "VServerGroupId": listener.vserver_group_id,
        "Description": listener.description,
        "AclId": listener.acl_id,
        "AclIds": [listener.acl_id] if listener.acl_id else [],
        "AclStatus": listener.acl_status,
        "AclType": listener.acl_type,
    }


def protocol_fields(listener: ListenerRecord, *, proxy_as_text: bool) -> dict[str, Any]:
    """The protocol's own fields, as both the attribute and list calls name them.

    ``ProxyProtocolV2Enabled`` is a bool in the attribute responses and a
    string inside ``*ListenerConfig`` (the SDK models differ).
    """
    rec = listener
    health = {
        "HealthCheck": rec.health_check,
        "HealthCheckInterval": rec.health_check_interval,
        "HealthyThreshold": rec.healthy_threshold,
        "UnhealthyThreshold": rec.unhealthy_threshold,
        "HealthCheckConnectPort": rec.health_check_connect_port,
    }
    proxy: Any = rec.proxy_protocol_v2_enabled
    if proxy_as_text:
        proxy = "true" if proxy else "false"
    if rec.protocol == "udp":
        return {
            **health,
            "HealthCheckConnectTimeout": rec.health_check_connect_timeout,
            "HealthCheckReq": rec.health_check_req,
            "HealthCheckExp": rec.health_check_exp,
            "ProxyProtocolV2Enabled": proxy,
            "MasterSlaveServerGroupId": rec.master_slave_server_group_id,
        }
    http_check = {
        "HealthCheckDomain": rec.health_check_domain,
        "HealthCheckURI": rec.health_check_uri,
        "HealthCheckHttpCode": rec.health_check_http_code,
    }
    if rec.protocol == "tcp":
        return {
            **health,
            **http_check,
            "HealthCheckType": rec.health_check_type,
            "HealthCheckConnectTimeout": rec.health_check_connect_timeout,
            "PersistenceTimeout": rec.persistence_timeout,
            "EstablishedTimeout": rec.established_timeout,
            "ConnectionDrain": rec.connection_drain,
            "ConnectionDrainTimeout": rec.connection_drain_timeout,
            "ProxyProtocolV2Enabled": proxy,
            "MasterSlaveServerGroupId": rec.master_slave_server_group_id,
            "SynProxy": rec.syn_proxy,
        }
    fields = {
        **health,
        **http_check,
        "HealthCheckTimeout": rec.health_check_timeout,
        "HealthCheckMethod": rec.health_check_method,
        "StickySession": rec.sticky_session,
        "StickySessionType": rec.sticky_session_type,
        "CookieTimeout": rec.cookie_timeout,
        "Cookie": rec.cookie,
        "Gzip": rec.gzip,
        "IdleTimeout": rec.idle_timeout,
        "RequestTimeout": rec.request_timeout,
        "XForwardedFor": rec.x_forwarded_for,
        "XForwardedFor_SLBIP": rec.x_forwarded_for_slbip,
        "XForwardedFor_SLBID": rec.x_forwarded_for_slbid,
        "XForwardedFor_proto": rec.x_forwarded_for_proto,
        "XForwardedFor_SLBPORT": rec.x_forwarded_for_slbport,
        "XForwardedFor_ClientSrcPort": rec.x_forwarded_for_client_src_port,
    }
    if rec.protocol == "http":
        fields["ListenerForward"] = rec.listener_forward
        fields["ForwardPort"] = rec.forward_port
    else:
        fields["ServerCertificateId"] = rec.server_certificate_id
        fields["CACertificateId"] = rec.ca_certificate_id
        fields["EnableHttp2"] = rec.enable_http2
        fields["TLSCipherPolicy"] = rec.tls_cipher_policy
    return fields


def _rules(store: Store, listener: ListenerRecord) -> list[dict[str, Any]]:
    from slbsync.emulator.state import rules

    return [
        {
            "RuleId": rule.rule_id,
            "RuleName": rule.rule_name,
            "Domain": rule.domain,
            "Url": rule.url,
            "VServerGroupId": rule.vserver_group_id,
        }
        for rule in rules.rules_of_listener(
            store, listener.load_balancer_id, listener.protocol, listener.port
        )
    ]


def _extensions(store: Store, listener: ListenerRecord) -> list[dict[str, Any]]:
    from slbsync.emulator.state import certificates

    return [
        {
            "DomainExtensionId": extension.domain_extension_id,
            "Domain": extension.domain,
            "ServerCertificateId": extension.server_certificate_id,
        }
        for extension in certificates.domain_extensions_of_listener(
            store, listener.load_balancer_id, listener.port, listener.create_time
        )
    ]


def _tag_id(listener: ListenerRecord) -> str:
    return listener.tag_resource_id


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    """Leave out unset fields, as the cloud does, rather than send nulls."""
    return {
        key: value for key, value in body.items() if value is not None and value != ""
    }


# -- start, stop, delete ----------------------------------------------------


def _target_listener(ctx: ActionContext) -> tuple[Any, ListenerRecord]:
    lb = lbs.get_load_balancer(ctx.store, require_lb_id(ctx), for_write=True)
    port = require_port(ctx)
    protocol = optional_protocol(ctx)
    listener = get_listener(ctx.store, lb.load_balancer_id, protocol, port)
    check_not_configuring(ctx, listener, ServiceIsConfiguring)
    return lb, listener


@action("StartLoadBalancerListener", writes=True)
def start_load_balancer_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-startloadbalancerlistener (only from ``stopped``)."""
    _, listener = _target_listener(ctx)
    if listener.status != "stopped":
        raise ApiError(
            "Operation.NotAllowed", "The specified listener is not allowed to operate."
        )
    listener.status = "running"
    mark_configuring(ctx, listener)
    return {}


@action("StopLoadBalancerListener", writes=True)
def stop_load_balancer_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-stoploadbalancerlistener (a stopped one stays stopped)."""
    _, listener = _target_listener(ctx)
    if listener.status != "stopped":
        listener.status = "stopped"
        mark_configuring(ctx, listener)
    return {}


@action("DeleteLoadBalancerListener", writes=True)
def delete_load_balancer_listener(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-deleteloadbalancerlistener

    Its forwarding rules and tags go with it; a load balancer left without
    listeners turns ``inactive``, as the cloud's does.
    """
    lb, listener = _target_listener(ctx)
    delete_listener_record(ctx.store, listener)
    if not listeners_of(ctx.store, lb.load_balancer_id) and lb.status == "active":
        lb.status = "inactive"
    return {}


def _delete_listeners_of(store: Store, lb_id: str) -> None:
    for listener in listeners_of(store, lb_id):
        delete_listener_record(store, listener)


lbs.register_cleanup(_delete_listeners_of)
