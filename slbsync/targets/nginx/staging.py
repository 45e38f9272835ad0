"""Stage one change into the desired model of load balancers.

``apply_change`` does not touch nginx: it folds each change into an
in-memory model that starts as the owned file reads, and ``commit`` renders
that model once. Each change carries the desired (or, for a delete, the
live) resource as plain values (``slbsync/spec/plain.py``), so a saved plan stages the
same way.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from slbsync.diff.changes import Change, ChangeOp, ResourceKind
from slbsync.spec.model import (
    ForwardingRule,
    Listener,
    LoadBalancer,
    Server,
    ServerGroup,
)
from slbsync.spec.plain import from_plain

log = logging.getLogger(__name__)

Stager = Callable[[LoadBalancer, Change], LoadBalancer]


def stage(model: dict[str, LoadBalancer], change: Change, target: str) -> None:
    """Fold one change into ``model`` (load balancers by name)."""
    lb_name = change.address.load_balancer
    kind = change.address.kind
    if kind == ResourceKind.LOAD_BALANCER:
        if change.op == ChangeOp.DELETE:
            model.pop(lb_name, None)  # its listeners and groups go with it
        else:
            model.setdefault(lb_name, LoadBalancer(name=lb_name, target=target))
        return

    stager = _STAGERS.get(kind)
    if stager is None:
        # Certificates are the user's files and ACLs are kept by the target
        # beside this model (NginxTarget._stage_acl); listeners always run.
        log.debug("apply: target=%s nothing to stage for %s", target, kind)
        return
    lb = model.get(lb_name) or LoadBalancer(name=lb_name, target=target)
    model[lb_name] = stager(lb, change)


def _desired(change: Change) -> dict[str, Any]:
    desired: dict[str, Any] = change.get("desired")
    return desired


def _stage_group(lb: LoadBalancer, change: Change) -> LoadBalancer:
    name = (change.get("desired") or change.get("live"))["name"]
    groups = {g.name: g for g in lb.server_groups}
    if change.op == ChangeOp.DELETE:
        groups.pop(name, None)
    else:
        # Members come as changes of their own; a new group starts with the
        # spec's (the same servers again are harmless).
        group = from_plain(ServerGroup, _desired(change))
        kept = groups[name].servers if name in groups else group.servers
        groups[name] = dataclasses.replace(group, servers=kept)
    return dataclasses.replace(lb, server_groups=tuple(groups.values()))


def _stage_server(lb: LoadBalancer, change: Change) -> LoadBalancer:
    group_name = change.address.name.rpartition("/")[0]
    groups = {g.name: g for g in lb.server_groups}
    group = groups.get(group_name) or ServerGroup(name=group_name)
    servers = group.servers_by_key()
    if change.op == ChangeOp.DELETE:
        servers.pop(from_plain(Server, change.get("live")).key, None)
    else:
        server = from_plain(Server, _desired(change))
        servers[server.key] = server
    groups[group_name] = dataclasses.replace(group, servers=tuple(servers.values()))
    return dataclasses.replace(lb, server_groups=tuple(groups.values()))


def _stage_listener(lb: LoadBalancer, change: Change) -> LoadBalancer:
    listeners = {x.key: x for x in lb.listeners}
    live = change.get("live")
    if live:
        # A protocol change arrives as one update: the old key goes.
        listeners.pop(from_plain(Listener, live).key, None)
    if change.op != ChangeOp.DELETE:
        listener = from_plain(Listener, _desired(change))
        listeners[listener.key] = listener
    return dataclasses.replace(lb, listeners=tuple(listeners.values()))


def _stage_rule(lb: LoadBalancer, change: Change) -> LoadBalancer:
    label, _, rule_name = change.address.name.rpartition("/")
    by_label = {x.label: x for x in lb.listeners}
    if label not in by_label:
        return lb  # its listener is gone (deleted in this run)
    listener = by_label[label]
    rules = {r.name: r for r in listener.rules if r.name != rule_name}
    if change.op != ChangeOp.DELETE:
        rules[rule_name] = from_plain(ForwardingRule, _desired(change))
    by_label[label] = dataclasses.replace(listener, rules=tuple(rules.values()))
    return dataclasses.replace(lb, listeners=tuple(by_label.values()))


_STAGERS: dict[ResourceKind, Stager] = {
    ResourceKind.SERVER_GROUP: _stage_group,
    ResourceKind.SERVERS: _stage_server,
    ResourceKind.LISTENER: _stage_listener,
    ResourceKind.RULE: _stage_rule,
}
