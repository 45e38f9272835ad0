"""Read the owned nginx file back into the spec model, with crossplane.

The directives are the truth (servers, weights, ``down``, the balancing
method, timeouts, listen flags); the marker comments ``render.py`` writes
only say which load balancer and server group an upstream belongs to, tell
round_robin from weighted_round_robin, and keep server groups no listener
uses. A hand edit to a directive therefore shows as drift.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import crossplane

from slbsync.errors import TargetError
from slbsync.spec.model import (
    Acl,
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
)
from slbsync.spec.plain import from_plain
from slbsync.targets.nginx.access import read_acls, read_binding
from slbsync.targets.nginx.mapping import (
    HEALTH_CHECK_TYPES,
    is_stream,
    normalise_load_balancer,
    scheduler_from_directive,
    xff_from_headers,
)
from slbsync.targets.nginx.options import parse_seconds
from slbsync.targets.nginx.render import (
    CERTIFICATE_MARKER,
    LB_MARKER,
    REDIRECT_MARKER,
    UPSTREAM_MARKER,
    CertificateFiles,
)

log = logging.getLogger(__name__)

Directive = dict[str, Any]


@dataclass
class OwnedConfig:
    """What the owned file holds, in the spec's vocabulary."""

    load_balancers: list[LoadBalancer] = field(default_factory=list)
    certificates: dict[str, CertificateFiles] = field(default_factory=dict)
    # Listeners written but not served: their external group has no server
    # yet (render.held_back). Not live; staged changes start from them too.
    held_back: dict[str, list[Listener]] = field(default_factory=dict)
    # Fingerprints of the certificates nginx loaded at the last apply, by name.
    fingerprints: dict[str, str] = field(default_factory=dict)
    worker_shutdown_timeout: int | None = None
    # The addresses listeners bind ("" for all), to notice a changed option.
    listen_addresses: set[str] = field(default_factory=set)
    acls: list[Acl] = field(default_factory=list)
    # Per ACL name, the addresses of each server block applying it.
    served_acls: dict[str, list[list[str]]] = field(default_factory=dict)


@dataclass
class _Upstream:
    marker: dict[str, Any]
    balancing: list[str] | None
    servers: list[Server]
    health: dict[str, int]


@dataclass
class _LoadBalancerParts:
    name: str
    group_order: list[str] = field(default_factory=list)
    groups: dict[str, ServerGroup] = field(default_factory=dict)
    memberships: dict[str, str] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    held_back: list[Listener] = field(default_factory=list)


def read_owned_config(
    path: str, target: str, certificate_names: dict[str, str] | None = None
) -> OwnedConfig:
    """Parse the owned file; a missing file means nothing is live.

    ``certificate_names`` maps certificate file paths to the spec's names, so
    an HTTPS listener reads back with the name the spec uses.
    """
    if not os.path.exists(path):
        return OwnedConfig()
    parsed = crossplane.parse(path, comments=True, single=True, check_ctx=False)
    if parsed["status"] != "ok":
        errors = "; ".join(
            f"line {e.get('line')}: {e.get('error')}" for e in parsed["errors"]
        )
        raise TargetError(
            f"target {target}: cannot parse {path} ({errors}); it is owned by "
            "slbsync, so fix or delete it and run slbsync apply again"
        )
    directives: list[Directive] = parsed["config"][0]["parsed"]
    return _read(directives, target, certificate_names or {})


def _read(
    directives: list[Directive], target: str, certificate_names: dict[str, str]
) -> OwnedConfig:
    owned = OwnedConfig()
    parts: dict[str, _LoadBalancerParts] = {}
    _collect_listen_addresses(directives, owned.listen_addresses)
    comments = [
        d.get("comment", "").strip() for d in directives if d["directive"] == "#"
    ]
    for directive in directives:
        name = directive["directive"]
        comment = directive.get("comment", "").strip()
        if name == "#" and comment.startswith(LB_MARKER):
            _read_lb_marker(comment, parts)
        elif name == "#" and comment.startswith(CERTIFICATE_MARKER):
            document = _marker_json(comment, CERTIFICATE_MARKER)
            owned.fingerprints[document["name"]] = document.get("fingerprint", "")
        elif name == "worker_shutdown_timeout":
            owned.worker_shutdown_timeout = parse_seconds(directive["args"][0])
        elif name in ("stream", "http"):
            _read_block(directive["block"], name, parts, owned, certificate_names)

    for name, files in owned.certificates.items():
        fingerprint = owned.fingerprints.get(name, "")
        owned.certificates[name] = dataclasses.replace(files, fingerprint=fingerprint)
    owned.acls = read_acls(comments, target, owned.served_acls, _marker_json)
    for lb_parts in parts.values():
        owned.load_balancers.append(_assemble(lb_parts, target))
        if lb_parts.held_back:
            owned.held_back[lb_parts.name] = lb_parts.held_back
    return owned


def _read_lb_marker(comment: str, parts: dict[str, _LoadBalancerParts]) -> None:
    document = _marker_json(comment, LB_MARKER)
    lb = parts.setdefault(document["name"], _LoadBalancerParts(document["name"]))
    lb.group_order = list(document.get("server_groups", []))
    lb.memberships = dict(document.get("memberships", {}))
    for plain in document.get("idle_server_groups", []):
        group = from_plain(ServerGroup, plain)
        lb.groups[group.name] = group
    waiting = document.get("held_back_listeners", [])
    lb.held_back = [from_plain(Listener, plain) for plain in waiting]


def _read_block(
    block: list[Directive],
    context: str,
    parts: dict[str, _LoadBalancerParts],
    owned: OwnedConfig,
    certificate_names: dict[str, str],
) -> None:
    upstreams = {
        d["args"][0]: _read_upstream(d["block"])
        for d in block
        if d["directive"] == "upstream"
    }
    domain_servers = []
    for directive in block:
        if directive["directive"] != "server":
            continue
        body = directive["block"]
        if _find(body, "server_name"):
            domain_servers.append(body)  # rules: read from the rule upstreams
            continue
        redirect = _read_redirect(body)
        if redirect is not None:
            lb_name, listener = redirect
            parts.setdefault(lb_name, _LoadBalancerParts(lb_name))
            parts[lb_name].listeners.append(listener)
            continue
        proxy_pass = _find(body, "proxy_pass") or _find(
            _root_location(body), "proxy_pass"
        )
        if not proxy_pass:
            continue
        name = proxy_pass[0].removeprefix("http://")
        upstream = upstreams.get(name)
        if upstream is None or not upstream.marker:
            log.debug("read: skipping server block without marked upstream %s", name)
            continue
        lb_name = upstream.marker["load_balancer"]
        lb = parts.setdefault(lb_name, _LoadBalancerParts(lb_name))
        group_name = upstream.marker["server_group"]
        if group_name not in lb.groups:
            lb.groups[group_name] = ServerGroup(
                name=group_name, servers=tuple(upstream.servers)
            )
        if context == "stream":
            listener = _stream_listener(body, upstream)
        else:
            listener = _http_listener(body, upstream, owned, certificate_names)
        lb.listeners.append(_with_acl(listener, body, owned))
    _keep_orphaned_groups(upstreams, parts)
    _attach_rules(upstreams, parts)
    for body in domain_servers:
        _check_domain_acl(body, parts, owned)


def _keep_orphaned_groups(
    upstreams: dict[str, _Upstream], parts: dict[str, _LoadBalancerParts]
) -> None:
    """Read a group from its listener's upstream when no server block uses it.

    A hand edit that deletes a listener's server block leaves its marked
    upstream behind; the group's servers are still listed there, so only the
    listener is missing. Groups a server block reached keep that reading.
    """
    for upstream in upstreams.values():
        marker = upstream.marker
        # Unmarked: not ours; rule upstreams: _attach_rules. A leftover upstream
        # of a load balancer nothing else names does not conjure one up.
        if not marker or "rule" in marker or marker["load_balancer"] not in parts:
            continue
        lb = parts[marker["load_balancer"]]
        group = marker["server_group"]
        if group not in lb.groups:
            lb.groups[group] = ServerGroup(name=group, servers=tuple(upstream.servers))


def _with_acl(
    listener: Listener, body: list[Directive], owned: OwnedConfig
) -> Listener:
    """``listener`` with the ACL its server block applies (noting its addresses)."""
    binding, cidrs = read_binding(body, _marker_json)
    if binding is not None and cidrs is not None:
        owned.served_acls.setdefault(binding.acl, []).append(cidrs)
    return dataclasses.replace(listener, acl=binding)


def _check_domain_acl(
    body: list[Directive], parts: dict[str, _LoadBalancerParts], owned: OwnedConfig
) -> None:
    """A domain rule's server block must refuse whom its listener refuses.

    Its lines are rendered from the listener's ACL; when a hand edit made
    them differ, the listener reads back with them, so the edit shows.
    """
    binding, cidrs = read_binding(body, _marker_json)
    if binding is not None and cidrs is not None:
        owned.served_acls.setdefault(binding.acl, []).append(cidrs)
    port = _port((_find(body, "listen") or ["0"])[0])
    for lb in parts.values():
        lb.listeners = [
            dataclasses.replace(x, acl=binding)
            if not is_stream(x.protocol) and x.port == port and x.acl != binding
            else x
            for x in lb.listeners
        ]


def _attach_rules(
    upstreams: dict[str, _Upstream], parts: dict[str, _LoadBalancerParts]
) -> None:
    """Add each rule upstream's rule to its listener (and its group's servers)."""
    rules: dict[tuple[str, str], list[ForwardingRule]] = {}
    for upstream in upstreams.values():
        marker = upstream.marker
        if "rule" not in marker or marker["load_balancer"] not in parts:
            continue
        lb = parts[marker["load_balancer"]]
        group = marker["server_group"]
        if group not in lb.groups:
            lb.groups[group] = ServerGroup(name=group, servers=tuple(upstream.servers))
        rule = ForwardingRule(
            name=marker["rule"],
            server_group=group,
            domain=marker.get("domain"),
            url=marker.get("url"),
        )
        rules.setdefault((lb.name, marker["listener"]), []).append(rule)
    for (lb_name, label), found in rules.items():
        lb = parts[lb_name]
        lb.listeners = [
            dataclasses.replace(x, rules=tuple(found)) if x.label == label else x
            for x in lb.listeners
        ]


def _read_redirect(body: list[Directive]) -> tuple[str, Listener] | None:
    """A redirecting HTTP listener, by its marker; None for other servers."""
    comments = [d["comment"].strip() for d in body if d["directive"] == "#"]
    marker = next((c for c in comments if c.startswith(REDIRECT_MARKER)), None)
    returned = _find(body, "return")
    if marker is None or not returned or len(returned) != 2:
        return None
    document = _marker_json(marker, REDIRECT_MARKER)
    port = returned[1].split("$request_uri")[0].rpartition(":")[2]
    listen = _find(body, "listen") or ["0"]
    listener = Listener(
        protocol=Protocol.HTTP,
        port=_port(listen[0]),
        server_group=document.get("server_group"),
        health_check=HealthCheck(type="http"),
        gzip=False,
        redirect_to_port=int(port) if port.isdigit() else None,
    )
    return document["load_balancer"], listener


def _read_upstream(block: list[Directive]) -> _Upstream:
    upstream = _Upstream(marker={}, balancing=None, servers=[], health={})
    for directive in block:
        name, args = directive["directive"], directive.get("args", [])
        if name == "#" and directive["comment"].strip().startswith(UPSTREAM_MARKER):
            upstream.marker = _marker_json(directive["comment"], UPSTREAM_MARKER)
        elif name in ("least_conn", "hash", "ip_hash", "random"):
            upstream.balancing = [name, *args]
        elif name == "server":
            server, health = _read_server(args)
            upstream.servers.append(server)
            if not upstream.health:
                upstream.health = health
    return upstream


def _read_server(args: list[str]) -> tuple[Server, dict[str, int]]:
    address, _, port = args[0].rpartition(":")
    address = address.removeprefix("[").removesuffix("]")  # IPv6
    weight = 1  # nginx's default when a hand edit leaves weight out
    health: dict[str, int] = {}
    for param in args[1:]:
        key, _, value = param.partition("=")
        if key == "weight":
            weight = int(value)
        elif key == "down":
            weight = 0
        elif key == "max_fails":
            health["max_fails"] = int(value)
        elif key == "fail_timeout":
            health["fail_timeout"] = parse_seconds(value) or 10
    server = Server(port=int(port), address=address, weight=weight, type=ServerType.IP)
    return server, health


def _health(
    upstream: _Upstream, protocol: Protocol, timeout: str | None
) -> HealthCheck:
    check_type = HEALTH_CHECK_TYPES[protocol]
    max_fails = upstream.health.get("max_fails", 1)  # nginx's defaults
    fail_timeout = upstream.health.get("fail_timeout", 10)
    if max_fails == 0:
        return HealthCheck(enabled=False, type=check_type)
    return HealthCheck(
        enabled=True,
        type=check_type,
        interval=max(1, fail_timeout // max_fails),
        timeout=(parse_seconds(timeout) or 60) if timeout else 60,
        unhealthy_threshold=max_fails,
    )


def _stream_listener(body: list[Directive], upstream: _Upstream) -> Listener:
    listen = _find(body, "listen") or ["0"]
    protocol = Protocol.UDP if "udp" in listen[1:] else Protocol.TCP
    timeout = _find(body, "proxy_connect_timeout")
    established = _find(body, "proxy_timeout")
    return Listener(
        protocol=protocol,
        port=_port(listen[0]),
        server_group=upstream.marker["server_group"],
        scheduler=scheduler_from_directive(
            upstream.balancing, upstream.marker.get("scheduler")
        ),
        health_check=_health(upstream, protocol, timeout[0] if timeout else None),
        established_timeout=parse_seconds(established[0]) if established else None,
        proxy_protocol=(_find(body, "proxy_protocol") or ["off"])[0] == "on",
    )


def _http_listener(
    body: list[Directive],
    upstream: _Upstream,
    owned: OwnedConfig,
    certificate_names: dict[str, str],
) -> Listener:
    listen = _find(body, "listen") or ["0"]
    https = "ssl" in listen[1:]
    protocol = Protocol.HTTPS if https else Protocol.HTTP
    location = _root_location(body)
    headers = {
        d["args"][0]: d["args"][1]
        for d in location
        if d["directive"] == "proxy_set_header" and len(d["args"]) == 2
    }
    timeout = _find(location, "proxy_connect_timeout")
    idle = _find(body, "keepalive_timeout")
    request = _find(location, "proxy_read_timeout")

    certificate = None
    cert_file = _find(body, "ssl_certificate")
    if https and cert_file:
        key_file = _find(body, "ssl_certificate_key") or [""]
        certificate = certificate_names.get(cert_file[0], cert_file[0])
        owned.certificates[certificate] = CertificateFiles(cert_file[0], key_file[0])

    ca_certificate = None
    ca_file = _find(body, "ssl_client_certificate")
    if https and ca_file:
        ca_certificate = certificate_names.get(ca_file[0], ca_file[0])
        owned.certificates[ca_certificate] = CertificateFiles(ca_file[0], "")

    return Listener(
        protocol=protocol,
        port=_port(listen[0]),
        server_group=upstream.marker["server_group"],
        scheduler=scheduler_from_directive(
            upstream.balancing, upstream.marker.get("scheduler")
        ),
        health_check=_health(upstream, protocol, timeout[0] if timeout else None),
        ca_certificate=ca_certificate,
        x_forwarded_for=xff_from_headers(headers),
        gzip=(_find(body, "gzip") or ["off"])[0] == "on",
        idle_timeout=parse_seconds(idle[0]) if idle else None,
        request_timeout=parse_seconds(request[0]) if request else None,
        certificate=certificate,
        http2=("http2" in listen[1:]) if https else None,
    )


def _assemble(parts: _LoadBalancerParts, target: str) -> LoadBalancer:
    order = parts.group_order + sorted(set(parts.groups) - set(parts.group_order))
    groups = []
    for name in order:
        group = parts.groups.get(name, ServerGroup(name=name))
        membership = parts.memberships.get(name, str(group.membership))
        groups.append(
            ServerGroup(
                name=name, membership=Membership(membership), servers=group.servers
            )
        )
    lb = LoadBalancer(
        name=parts.name,
        target=target,
        server_groups=tuple(groups),
        listeners=tuple(parts.listeners),
    )
    return normalise_load_balancer(lb)


def _marker_json(comment: str, marker: str) -> dict[str, Any]:
    text = comment.strip().removeprefix(marker)
    try:
        document: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as err:
        raise TargetError(
            f"the slbsync marker comment {comment.strip()!r} is damaged ({err}); "
            "delete the owned file's hand edits and run slbsync apply again"
        ) from err
    return document


def _find(block: list[Directive], name: str) -> list[str] | None:
    return next((d["args"] for d in block if d["directive"] == name), None)


def _root_location(body: list[Directive]) -> list[Directive]:
    """The block of ``location /``: the listener's own traffic."""
    return next(
        (
            d["block"]
            for d in body
            if d["directive"] == "location" and d["args"] == ["/"]
        ),
        [],
    )


def _collect_listen_addresses(block: list[Directive], found: set[str]) -> None:
    for directive in block:
        if directive["directive"] == "listen" and directive["args"]:
            address = directive["args"][0].rpartition(":")[0]
            found.add(address.removeprefix("[").removesuffix("]"))
        _collect_listen_addresses(directive.get("block", []), found)


def _port(listen: str) -> int:
    return int(listen.rpartition(":")[2])
