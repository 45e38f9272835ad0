"""Build model objects from raw spec data, one field table at a time.

Each ``build_*`` reads a mapping with ``read.read_fields`` and adds the rules
that tie its fields together (a static group lists servers, a discovered one
does not; an https listener needs a certificate...). What is wrong is
reported to the context and the object is still built from what is right,
or skipped when a required part is missing, so one run finds every problem.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from slbsync.spec import fields as f
from slbsync.spec import model
from slbsync.spec.certificates import read_certificate
from slbsync.spec.problems import Path
from slbsync.spec.read import INVALID, Context, Read, read_fields
from slbsync.spec.target_terms import (
    declared_by,
    every_one_of,
    is_declared,
    types_taking_setting,
)


def build_named(shape: f.Shape, name: str, raw: Any, path: Path, ctx: Context) -> Any:
    """A top-level object (target, load balancer, ACL, certificate) by name."""
    builder = _TOP_LEVEL[shape.name]
    _check_name(shape, name, path, ctx)
    return builder(name, raw, path, ctx)


def _check_name(shape: f.Shape, name: str, path: Path, ctx: Context) -> None:
    if not re.fullmatch(f.NAME_PATTERN, name):
        ctx.at_key(
            path, f'"{name}" is not a valid {shape.name} name; use {f.NAME_HINT}'
        )


# -- targets -----------------------------------------------------------------------


def build_target(name: str, raw: Any, path: Path, ctx: Context) -> Any:
    read = read_fields(f.TARGET, raw, path, ctx)
    if read is None or not read.complete:
        return None
    options = tuple(sorted(read.extra.items()))
    target = model.TargetSpec(
        name=name, options=options, location=ctx.index.value(path), **read.values
    )
    example = declared_by(target.type).region_needed
    if example is not None and target.region is None:
        ctx.at_value(
            path,
            f"{_article(target.type)} {target.type} target needs a region, "
            f"e.g. {example}",
        )
    return ctx.remember(target, path)


# -- load balancers ----------------------------------------------------------------


def build_load_balancer(name: str, raw: Any, path: Path, ctx: Context) -> Any:
    # A listener field may reach more protocols on this load balancer's target.
    target = raw.get("target") if isinstance(raw, dict) else None
    kind = ctx.target_types.get(target) if isinstance(target, str) else None
    extra = declared_by(kind).extra_field_protocols

    def nested(rule: f.Field, value: Any, spot: Path) -> Any:
        if rule.key == "server_groups":
            return _build_groups(value, spot, ctx, kind)
        listener = partial(_build_listener, extra=extra, kind=kind)
        return _build_list(value, spot, ctx, listener)

    read = read_fields(f.LOAD_BALANCER, raw, path, ctx, nested=nested)
    if read is None:
        return None
    if kind is not None and is_declared(kind):
        _refuse_other_targets_settings(read, kind, path, ctx)
    _refuse_unkept(f.LOAD_BALANCER, read, kind, path, ctx)
    if not read.complete:
        return None
    _check_load_balancer(read, path, ctx)
    lb = model.LoadBalancer(name=name, location=ctx.index.value(path), **read.values)
    _check_listener_keys(lb, path, ctx)
    return ctx.remember(lb, path)


def _refuse_other_targets_settings(
    read: Read, kind: str, path: Path, ctx: Context
) -> None:
    """Refuse, where written, each setting this target would ignore.

    Only keys the spec gives count: a model default is nobody's request.
    """
    declared = declared_by(kind)
    for key in sorted(read.given):
        rule = f.LOAD_BALANCER.field(key)
        if rule is None or not rule.per_target:
            continue
        if key in declared.load_balancer_settings:
            continue
        read.values.pop(rule.target_attr, None)  # nor checked with the rest
        advice = declared.instead_of.get(key, f"the {kind} target has none: remove it")
        ctx.at_key((*path, key), f"{_whose_setting(key)}; {advice}")


def _refuse_unkept(
    shape: f.Shape, read: Read, kind: str | None, path: Path, ctx: Context
) -> None:
    """Refuse, where written, each field the target has nowhere to keep
    (Target.unkept_fields), so no one thinks it was kept.

    Only keys the spec gives count: a model default is nobody's request.
    """
    unkept = declared_by(kind).unkept_fields.get(shape.name, {})
    for key in sorted(read.given & unkept.keys()):
        ctx.at_key((*path, key), unkept[key])


def _whose_setting(key: str) -> str:
    owners = types_taking_setting(key)
    if not owners:
        return f"{key} is no setting of an installed target"
    return f"{key} is {_article(owners[0])} {every_one_of(owners)} setting"


def _check_load_balancer(read: Read, path: Path, ctx: Context) -> None:
    values = read.values
    charge = values.get("instance_charge_type", "PayByCLCU")
    internet = values.get("internet_charge_type", "paybytraffic")
    if charge == "PayByCLCU" and internet != "paybytraffic":
        ctx.at_value(
            (*path, "internet_charge_type"),
            "a PayByCLCU load balancer pays for traffic (paybytraffic); "
            "paybybandwidth needs instance_charge_type PayBySpec",
        )
    if "bandwidth" in values and internet != "paybybandwidth":
        ctx.at_key(
            (*path, "bandwidth"),
            "bandwidth applies to internet_charge_type paybybandwidth; "
            "remove it or set internet_charge_type: paybybandwidth",
        )
    if (
        "spec" in values
        and charge == "PayByCLCU"
        and values["spec"] != "slb.lcu.elastic"
    ):
        ctx.at_key(
            (*path, "spec"),
            "a PayByCLCU load balancer has no spec to choose; remove spec or set "
            "instance_charge_type: PayBySpec",
        )
    reason = "modification_protection_reason"
    if reason in values and not values.get("modification_protection", False):
        ctx.at_key(
            (*path, reason),
            "a reason is kept only while modification_protection is true",
        )


def _check_listener_keys(lb: model.LoadBalancer, path: Path, ctx: Context) -> None:
    seen: dict[tuple[str, int], model.Listener] = {}
    # tcp, http and https all take the port's TCP side; only udp can share it.
    tcp_ports: dict[int, model.Listener] = {}
    for listener in lb.listeners:
        spot = ctx.paths[id(listener)]
        first = seen.get(listener.key)
        if first is not None:
            ctx.at_value(
                spot,
                f"listener {listener.label} is given twice; the first is at "
                f"{first.location}",
            )
            continue
        seen[listener.key] = listener
        if listener.protocol == model.Protocol.UDP:
            continue
        holder = tcp_ports.setdefault(listener.port, listener)
        if holder is not listener:
            ctx.at_value(
                spot,
                f"port {listener.port} is already taken by listener {holder.label} "
                f"at {holder.location}; tcp, http and https listeners cannot share "
                "a port (a udp listener can)",
            )


def _build_groups(raw: Any, path: Path, ctx: Context, kind: str | None) -> Any:
    if not isinstance(raw, dict):
        ctx.at_value(path, "server_groups is a map of group name: group")
        return INVALID
    groups = []
    for name, value in raw.items():
        spot = (*path, name)
        _check_name(f.SERVER_GROUP, name, spot, ctx)
        group = _build_group(name, value, spot, ctx, kind)
        if group is not None:
            groups.append(group)
    return tuple(groups)


def _build_group(
    name: str, raw: Any, path: Path, ctx: Context, kind: str | None
) -> Any:
    def nested(rule: f.Field, value: Any, spot: Path) -> Any:
        if rule.key == "discover":
            return _build_object(f.DISCOVERY, value, spot, ctx)
        return _build_list(value, spot, ctx, partial(_build_server, kind=kind))

    read = read_fields(f.SERVER_GROUP, raw, path, ctx, nested=nested)
    if read is None:
        return None
    _refuse_unkept(f.SERVER_GROUP, read, kind, path, ctx)
    membership = read.values.get("membership", "static")
    _check_membership(membership, read, path, ctx)
    group = model.ServerGroup(name=name, location=ctx.index.value(path), **read.values)
    seen: dict[tuple[str, int], model.Server] = {}
    for server in group.servers:
        first = seen.setdefault(server.key, server)
        if first is not server:
            ctx.at_value(
                ctx.paths[id(server)],
                f"server {server.label} is listed twice; the first is at "
                f"{first.location}",
            )
    return ctx.remember(group, path)


def _check_membership(membership: str, read: Read, path: Path, ctx: Context) -> None:
    given = read.given
    if membership == "discovered":
        if "discover" not in given:
            ctx.at_value(
                path,
                "a discovered group needs discover: {instance_tags: ..., port: ...}",
            )
        if "servers" in given:
            ctx.at_key(
                (*path, "servers"),
                "a discovered group finds its servers itself; remove servers "
                "or use membership: static",
            )
    elif "discover" in given:
        ctx.at_key(
            (*path, "discover"),
            f"discover is for membership: discovered; this group is {membership}",
        )
    if membership == "external" and "servers" in given:
        ctx.at_key(
            (*path, "servers"),
            "an external group's servers are registered by others; remove servers "
            "or use membership: static",
        )


def _build_server(raw: Any, path: Path, ctx: Context, *, kind: str | None) -> Any:
    read = read_fields(f.SERVER, raw, path, ctx)
    if read is None:
        return None
    _refuse_unkept(f.SERVER, read, kind, path, ctx)
    if not read.complete:
        return None
    values = read.values
    server_type = values.get("type", "ecs")
    if "id" not in read.given and "address" not in read.given:
        ctx.at_value(
            path, "a server needs an id (i-..., eni-..., eci-...) or an address"
        )
        return None
    if server_type == "ip" and "address" not in read.given:
        ctx.at_value(path, "a server of type ip needs an address")
    if server_type in ("eni", "eci") and "id" not in read.given:
        ctx.at_value(
            path, f"a server of type {server_type} needs its {server_type}-... id"
        )
    if "id" in values and "address" in values and server_type in ("ecs", "ip"):
        ctx.at_value(
            path,
            f"a server of type {server_type} has an id or an address, not both; both "
            "are for eni and eci servers (address is their ServerIp)",
        )
    server = model.Server(location=ctx.index.value(path), **values)
    return ctx.remember(server, path)


# -- listeners ---------------------------------------------------------------------


def _build_listener(
    raw: Any,
    path: Path,
    ctx: Context,
    *,
    extra: Mapping[str, tuple[str, ...]],
    kind: str | None,
) -> Any:
    protocol = raw.get("protocol") if isinstance(raw, dict) else None
    known = protocol if protocol in f.PROTOCOLS else None

    def nested(rule: f.Field, value: Any, spot: Path) -> Any:
        if rule.key == "rules":
            return _build_list(value, spot, ctx, _build_rule)
        if rule.key == "health_check":
            return _build_health_check(value, spot, ctx, known)
        return _build_object(rule.shape, value, spot, ctx)

    read = read_fields(
        f.LISTENER,
        raw,
        path,
        ctx,
        protocol=known,
        extra_protocols=extra,
        nested=nested,
    )
    if read is None:
        return None
    _refuse_unkept(f.LISTENER, read, kind, path, ctx)
    if not read.complete or known is None:
        return None
    values = read.values
    values.setdefault("health_check", _default_health_check(known))
    _check_listener(known, read, path, ctx)
    listener = model.Listener(location=ctx.index.value(path), **values)
    return ctx.remember(listener, path)


def _check_listener(protocol: str, read: Read, path: Path, ctx: Context) -> None:
    given = read.given
    if "server_group" not in given and "redirect_to_port" not in given:
        ctx.at_value(
            path,
            "a listener needs a server_group (or, on http, redirect_to_port)",
        )
    if protocol in ("https", "tls") and "certificate" not in given:
        ctx.at_value(
            path,
            f"{_article(protocol)} {protocol} listener needs a certificate",
        )
    if "ca_certificate" in given and "certificate" not in given:
        ctx.at_key((*path, "ca_certificate"), "mutual TLS needs a certificate too")
    sticky = read.values.get("sticky_session")
    if isinstance(sticky, model.StickySession):
        _check_sticky(sticky, (*path, "sticky_session"), ctx)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiouh" else "a"


def _check_sticky(sticky: model.StickySession, path: Path, ctx: Context) -> None:
    if sticky.type == "insert":
        if sticky.cookie is not None:
            ctx.at_key(
                (*path, "cookie"),
                "cookie names the server's cookie for type server; type insert "
                "sets its own (give cookie_timeout)",
            )
        if sticky.cookie_timeout is None:
            ctx.at_value(path, "type insert needs cookie_timeout, e.g. 1h")
    else:
        if sticky.cookie is None:
            ctx.at_value(path, "type server needs cookie: the server's cookie name")
        if sticky.cookie_timeout is not None:
            ctx.at_key(
                (*path, "cookie_timeout"),
                "cookie_timeout is for type insert; the server sets its own",
            )


def _default_health_check(protocol: str) -> model.HealthCheck:
    # An untouched listener gets the check type its protocol implies.
    return model.HealthCheck(type=f.HEALTH_CHECK_TYPES_BY_PROTOCOL[protocol][0])


def _build_health_check(
    raw: Any, path: Path, ctx: Context, protocol: str | None
) -> Any:
    read = read_fields(f.HEALTH_CHECK, raw, path, ctx)
    if read is None:
        return INVALID
    values = read.values
    allowed = f.HEALTH_CHECK_TYPES_BY_PROTOCOL.get(protocol or "", f.HEALTH_CHECK_TYPES)
    kind = values.setdefault("type", allowed[0])
    if protocol is not None and kind not in allowed:
        ctx.at_value(
            (*path, "type"),
            f"{protocol} listeners check with {' or '.join(allowed)}, not {kind}",
        )
    for key in ("path", "domain", "http_codes", "method"):
        if key in read.given and kind != "http":
            ctx.at_key((*path, key), f"{key} is for http checks; this check is {kind}")
    if "method" in read.given and protocol == "tcp":
        ctx.at_key(
            (*path, "method"),
            "the method of a check is set on http and https listeners only",
        )
    for key in ("request", "expect"):
        if key in read.given and kind != "udp":
            ctx.at_key((*path, key), f"{key} is for udp checks; this check is {kind}")
    return model.HealthCheck(**values)


def _build_rule(raw: Any, path: Path, ctx: Context) -> Any:
    read = read_fields(f.RULE, raw, path, ctx)
    if read is None or not read.complete:
        return None
    if "domain" not in read.given and "url" not in read.given:
        ctx.at_value(path, "a rule needs a domain, a url or both")
    rule = model.ForwardingRule(location=ctx.index.value(path), **read.values)
    return ctx.remember(rule, path)


# -- ACLs and certificates ---------------------------------------------------------


def build_acl(name: str, raw: Any, path: Path, ctx: Context) -> Any:
    def nested(rule: f.Field, value: Any, spot: Path) -> Any:
        return _build_list(value, spot, ctx, _build_acl_entry)

    read = read_fields(f.ACL, raw, path, ctx, nested=nested)
    if read is None:
        return None
    target = read.values.get("target")
    kind = ctx.target_types.get(target) if isinstance(target, str) else None
    _refuse_unkept(f.ACL, read, kind, path, ctx)
    if not read.complete:
        return None
    acl = model.Acl(name=name, location=ctx.index.value(path), **read.values)
    version = 4 if acl.address_ip_version == "ipv4" else 6
    seen: set[str] = set()
    for i, entry in enumerate(acl.entries):
        spot = ctx.paths.get(id(entry), (*path, "entries", i))
        if ipaddress.ip_network(entry.cidr).version != version:
            ctx.at_value(spot, f"{entry.cidr} is not an {acl.address_ip_version} block")
        if entry.cidr in seen:
            ctx.at_value(spot, f"{entry.cidr} is listed twice")
        seen.add(entry.cidr)
    return ctx.remember(acl, path)


def _build_acl_entry(raw: Any, path: Path, ctx: Context) -> Any:
    read = read_fields(f.ACL_ENTRY, raw, path, ctx)
    if read is None or not read.complete:
        return None
    cidr = read.values["cidr"]
    spot = (*path, "cidr") if isinstance(raw, dict) else path
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        try:
            loose = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            message = f'"{cidr}" is not an address block; write it as 10.0.0.0/8'
        else:
            message = f"{cidr} has host bits set; the block is {loose}"
        ctx.at_value(spot, message)
        return None
    entry = model.AclEntry(cidr=str(network), comment=read.values.get("comment", ""))
    return ctx.remember(entry, path)


def build_certificate(name: str, raw: Any, path: Path, ctx: Context) -> Any:
    read = read_fields(f.CERTIFICATE, raw, path, ctx)
    if read is None or not read.complete:
        return None
    values = read.values
    kind = values.get("kind", "server")
    if kind == "server" and "private_key" not in read.given:
        ctx.at_value(path, "a server certificate needs private_key: its key's PEM file")
    if kind == "ca" and "private_key" in read.given:
        ctx.at_key(
            (*path, "private_key"),
            "a CA certificate is uploaded without a private key; remove it",
        )
    loaded = read_certificate(
        values["certificate_file"],
        values.get("private_key_file") if kind == "server" else None,
        ctx.base_dir,
    )
    for key, message in loaded.problems:
        ctx.at_value((*path, key), message)
    # Built even when a file is wrong (its problem is reported), so that the
    # listeners naming it do not report it missing as well.
    certificate = model.Certificate(
        name=name,
        location=ctx.index.value(path),
        **{
            **values,
            "certificate_file": loaded.certificate_file,
            "private_key_file": loaded.private_key_file,
            "certificate_pem": loaded.pem or "",
            "fingerprint": loaded.fingerprint,
        },
    )
    return ctx.remember(certificate, path)


# -- helpers ---------------------------------------------------------------------


def _build_object(shape: f.Shape | None, raw: Any, path: Path, ctx: Context) -> Any:
    assert shape is not None and shape.model is not None
    read = read_fields(shape, raw, path, ctx)
    if read is None or not read.complete:
        return INVALID
    return shape.model(**read.values)


def _build_list(raw: Any, path: Path, ctx: Context, build_item: Any) -> Any:
    if not isinstance(raw, list):
        ctx.at_value(path, f"{path[-1]} is a list (- item per line), not a map or text")
        return INVALID
    items = (build_item(item, (*path, i), ctx) for i, item in enumerate(raw))
    return tuple(item for item in items if item is not None)


_TOP_LEVEL = {
    f.TARGET.name: build_target,
    f.LOAD_BALANCER.name: build_load_balancer,
    f.ACL.name: build_acl,
    f.CERTIFICATE.name: build_certificate,
}
