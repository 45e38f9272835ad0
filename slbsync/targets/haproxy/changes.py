"""Differences to HAProxy changes: runtime API where it can, reload where not.

Membership and weights of a running backend change over the runtime API
(no reload; also written to the owned file). Anything that changes the
file's structure (a load balancer, frontend or backend, a scheduler, a
health check) is a ``config reload`` change: the run renders, checks and
reloads once, in ``commit``. Servers of a group that is created or removed
in the same run ride along with the group.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slbsync.diff.changes import Change, ChangeOp, ResourceKind, payload_of
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.spec.model import Acl, Certificate, Listener, LoadBalancer, Server
from slbsync.spec.plain import to_plain
from slbsync.targets.base import LiveState
from slbsync.targets.haproxy.mapping import backend_name, groups_of, server_name
from slbsync.targets.haproxy.normalise import (
    normalise_group,
    normalise_listener,
    normalise_server,
)

log = logging.getLogger(__name__)

RELOAD = "config reload"
WRITE = "write config"
ADD_SERVER = "runtime add server"
SET_WEIGHT = "runtime set weight"
REMOVE_SERVER = "runtime drain and del server"

_OP = {
    DifferenceStatus.MISSING: ChangeOp.CREATE,
    DifferenceStatus.MODIFIED: ChangeOp.UPDATE,
    DifferenceStatus.UNEXPECTED: ChangeOp.DELETE,
}
_SERVER_ORDER = {ChangeOp.CREATE: 0, ChangeOp.UPDATE: 1, ChangeOp.DELETE: 2}


def changes_for(differences: Sequence[Difference], live: LiveState) -> list[Change]:
    whole = _whole_resources(differences)
    listeners = _desired_listeners(differences, live)
    changes: list[Change] = []
    servers: list[Change] = []
    for difference in differences:
        kind, op = difference.kind, _OP[difference.status]
        lb = difference.address.load_balancer
        if kind == ResourceKind.SERVERS:
            group = difference.address.name.split("/", 1)[0]
            if (lb, group) in whole or (lb, "") in whole:
                continue  # created or removed with its group
            servers.append(_server_change(difference, op, listeners.get((lb, group))))
        elif kind == ResourceKind.LOAD_BALANCER:
            changes += _load_balancer_change(difference, op)
        elif kind == ResourceKind.SERVER_GROUP:
            if op == ChangeOp.DELETE and (lb, "") in whole:
                continue
            if op != ChangeOp.UPDATE:
                changes.append(_group_change(difference, op))
        elif kind == ResourceKind.LISTENER:
            if op == ChangeOp.DELETE and (lb, "") in whole:
                continue
            changes.append(_listener_change(difference, op))
        elif kind == ResourceKind.RULE:
            changes.append(_rule_change(difference, op))
        elif kind in (ResourceKind.CERTIFICATE, ResourceKind.ACL):
            changes.append(_regional_change(difference, op))
        else:
            log.warning(
                "haproxy: %s is not something a haproxy target holds; skipped",
                difference.address,
            )
    servers.sort(key=lambda change: _SERVER_ORDER[change.op])
    return changes + servers


def _whole_resources(differences: Sequence[Difference]) -> set[tuple[str, str]]:
    """(lb, group) created or removed whole; (lb, "") for a load balancer."""
    whole = set()
    for item in differences:
        if item.status == DifferenceStatus.MODIFIED:
            continue
        if item.kind == ResourceKind.SERVER_GROUP:
            whole.add((item.address.load_balancer, item.address.name))
        elif item.kind == ResourceKind.LOAD_BALANCER:
            whole.add((item.address.load_balancer, ""))
    return whole


def _desired_listeners(
    differences: Sequence[Difference], live: LiveState
) -> dict[tuple[str, str], Listener]:
    """The listener that decides each group's checks: desired, else live."""
    found: dict[tuple[str, str], Listener] = {}
    for live_lb in live.load_balancers:
        for listener in live_lb.spec.listeners:
            for group in groups_of(listener):
                found.setdefault((live_lb.spec.name, group), listener)
    for item in differences:
        desired = item.desired
        if isinstance(desired, Listener):
            for group in groups_of(desired):
                key = (item.address.load_balancer, group)
                found[key] = normalise_listener(desired)
    return found


def _load_balancer_change(difference: Difference, op: ChangeOp) -> list[Change]:
    if op == ChangeOp.UPDATE:
        return []  # nothing of a load balancer's own lives in HAProxy
    note = (
        "its frontends and backends are rendered as they are created"
        if op == ChangeOp.CREATE
        else "removes all its frontends and backends; old workers drain"
    )
    action = WRITE if op == ChangeOp.CREATE else RELOAD
    return [Change(op, difference.address, action, payload=payload_of(), note=note)]


def _group_change(difference: Difference, op: ChangeOp) -> Change:
    payload = {}
    if op == ChangeOp.CREATE:
        payload["group"] = to_plain(normalise_group(difference.desired))
    name = difference.address.name
    count = len(difference.desired.servers) if difference.desired else 0
    note = f"backend {backend_name(difference.address.load_balancer, name)}"
    if op == ChangeOp.CREATE:
        note += f" with {count} servers"
    return Change(
        op, difference.address, RELOAD, payload=payload_of(**payload), note=note
    )


def _listener_change(difference: Difference, op: ChangeOp) -> Change:
    payload = {}
    if op != ChangeOp.DELETE:
        payload["listener"] = to_plain(normalise_listener(difference.desired))
    else:
        live: Listener = difference.live
        payload["key"] = [str(live.protocol), live.port]
    return Change(
        op,
        difference.address,
        RELOAD,
        fields=difference.fields,
        payload=payload_of(**payload),
    )


def _rule_change(difference: Difference, op: ChangeOp) -> Change:
    """A forwarding rule: an ``acl`` and ``use_backend`` in its frontend."""
    payload = {}
    if op != ChangeOp.DELETE:
        payload["rule"] = to_plain(difference.desired)
    return Change(
        op,
        difference.address,
        RELOAD,
        fields=difference.fields,
        payload=payload_of(**payload),
    )


def _regional_change(difference: Difference, op: ChangeOp) -> Change:
    """A certificate or ACL: kept in the owned file (and PEM files), reloaded.

    A certificate change carries the paths of the user's files, never their
    content, so a saved plan writes the same PEM file at apply time.
    """
    payload: dict[str, object] = {"name": difference.address.name}
    desired = difference.desired
    if isinstance(desired, Certificate):
        payload["certificate"] = {
            "name": desired.name,
            "kind": desired.kind,
            "certificate_file": desired.certificate_file,
            "private_key_file": desired.private_key_file,
        }
    elif isinstance(desired, Acl):
        payload["acl"] = to_plain(desired)
    note = (
        "PEM file (certificate and key) written for HAProxy, mode 0600"
        if difference.kind == ResourceKind.CERTIFICATE and desired is not None
        else ""
    )
    return Change(
        op,
        difference.address,
        RELOAD,
        fields=difference.fields,
        payload=payload_of(**payload),
        note=note,
    )


def _server_change(
    difference: Difference, op: ChangeOp, listener: Listener | None
) -> Change:
    server: Server = normalise_server(difference.desired or difference.live)
    group = difference.address.name.split("/", 1)[0]
    backend = backend_name(difference.address.load_balancer, group)
    payload = {
        "group": group,
        "backend": backend,
        "server": to_plain(server),
        "name": server_name(server),
    }
    if listener is not None:
        payload["health_check"] = to_plain(listener.health_check)
        payload["connection_drain"] = listener.connection_drain
        payload["sticky"] = listener.sticky_session is not None
        payload["proxy_protocol"] = listener.proxy_protocol
    action = {
        ChangeOp.CREATE: ADD_SERVER,
        ChangeOp.UPDATE: SET_WEIGHT,
        ChangeOp.DELETE: REMOVE_SERVER,
    }[op]
    return Change(
        op,
        difference.address,
        action,
        fields=difference.fields,
        payload=payload_of(**payload),
    )


def find_listener(lb: LoadBalancer, group: str) -> Listener | None:
    return next((item for item in lb.listeners if item.server_group == group), None)
