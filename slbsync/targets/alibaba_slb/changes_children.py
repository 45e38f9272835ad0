"""Changes for what hangs off a load balancer: groups, servers, listeners, rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slbsync.diff.changes import Change, ChangeOp, FieldChange, ResourceKind
from slbsync.diff.changes import call_change as change
from slbsync.diff.differences import Difference
from slbsync.spec.model import ForwardingRule, Listener, Protocol, Server, ServerGroup
from slbsync.spec.plain import to_plain
from slbsync.targets.alibaba_slb.changes import (
    MISSING,
    MODIFIED,
    UNEXPECTED,
    PlanContext,
    created_fields,
    tag_changes,
)
from slbsync.targets.alibaba_slb.refs import by_name
from slbsync.targets.alibaba_slb.wire import (
    CREATE_ONLY_PARAMS,
    listener_action,
    listener_params,
)

SERVERS_PER_CALL = 20

# Listener fields a protocol does not take: a new listener's plan omits them.
_LAYER4_ONLY = ("persistence_timeout", "established_timeout", "connection_drain")
_HTTP_ONLY = (
    "sticky_session",
    "x_forwarded_for",
    "gzip",
    "idle_timeout",
    "request_timeout",
    "redirect_to_port",
)
_HTTPS_ONLY = ("certificate", "ca_certificate", "http2", "tls_cipher_policy")
_NOT_ON = {
    Protocol.TCP: (*_HTTP_ONLY, *_HTTPS_ONLY),
    Protocol.UDP: (*_LAYER4_ONLY, *_HTTP_ONLY, *_HTTPS_ONLY),
    Protocol.HTTP: (*_LAYER4_ONLY, "proxy_protocol", *_HTTPS_ONLY),
    Protocol.HTTPS: (*_LAYER4_ONLY, "proxy_protocol", "redirect_to_port"),
}  # fmt: skip
RULES_PER_CALL = 10

# Parameters that only make sense together: when one changes, all are sent.
PARAM_GROUPS = (
    ("AclStatus", "AclType", "AclId"),
    ("StickySession", "StickySessionType", "CookieTimeout", "Cookie"),
    ("ConnectionDrain", "ConnectionDrainTimeout"),
    ("HealthCheck", "HealthCheckSwitch", "HealthCheckType", "HealthCheckInterval",
     "HealthCheckTimeout", "HealthCheckConnectTimeout", "HealthyThreshold",
     "UnhealthyThreshold", "HealthCheckConnectPort", "HealthCheckURI",
     "HealthCheckDomain", "HealthCheckHttpCode", "HealthCheckMethod",
     "HealthCheckReq", "HealthCheckExp"),
)  # fmt: skip


def server_item(server: Server) -> dict[str, Any]:
    """A server as an element of the BackendServers JSON."""
    item: dict[str, Any] = {
        "ServerId": server.id,
        "Port": server.port,
        "Weight": server.weight,
        "Type": str(server.type),
    }
    if server.address and str(server.type) in ("eni", "eci"):
        item["ServerIp"] = server.address
    if server.description:
        item["Description"] = server.description
    return item


# -- server groups and their members -----------------------------------------


def group_changes(
    ctx: PlanContext, diff: Difference, first_servers: Sequence[Server]
) -> list[Change]:
    lb = diff.address.load_balancer
    if diff.status == MISSING:
        group: ServerGroup = diff.desired
        return [
            change(
                ChangeOp.CREATE,
                diff.address,
                "CreateVServerGroup",
                {
                    "LoadBalancerId": ctx.refs.load_balancer(lb),
                    "VServerGroupName": group.name,
                    "BackendServers": [server_item(s) for s in first_servers],
                },
                fields=[
                    *created_fields(group, ("name", "servers", "membership")),
                    *[
                        FieldChange(s.label, None, _server_json(s))
                        for s in first_servers
                    ],
                ],
                lb=lb,
                group=group.name,
            )
        ]
    if diff.status == UNEXPECTED:
        return [
            change(
                ChangeOp.DELETE,
                diff.address,
                "DeleteVServerGroup",
                {"VServerGroupId": diff.live_id},
                fields=[FieldChange("name", diff.live.name, None)],
                live_id=diff.live_id,
                lb=lb,
                group=diff.live.name,
            )
        ]
    names = {f.field: f for f in diff.fields}
    if "tags" not in names:
        return []
    group_id = diff.live_id or ctx.refs.group(lb, diff.desired.name)
    return tag_changes(
        ctx,
        diff,
        "vservergroup",
        group_id,
        diff.live.tags,
        diff.desired.tags,
        [names["tags"]],
    )


def server_changes(
    ctx: PlanContext,
    lb: str,
    group: str,
    diffs: Sequence[Difference],
    skip_adds: int,
) -> list[Change]:
    """Membership in batches of 20: adds, then weight changes, then removes,
    so the group never has fewer serving members than it needs."""
    adds = [d.desired for d in diffs if d.status == MISSING][skip_adds:]
    updates = [d for d in diffs if d.status == MODIFIED]
    removes = [d.live for d in diffs if d.status == UNEXPECTED]
    group_id = next((d.live_id for d in diffs if d.live_id), None)
    group_ref = group_id or ctx.refs.group(lb, group)
    address = ctx.address(lb, ResourceKind.SERVERS, group)
    steps: list[Change] = []

    def batch(
        op: ChangeOp, action: str, items: list[Any], fields: list[FieldChange]
    ) -> None:
        steps.append(
            change(
                op,
                address,
                action,
                {"VServerGroupId": group_ref, "BackendServers": items},
                fields=fields,
                live_id=group_id,
                lb=lb,
                group=group,
            )
        )

    for i in range(0, len(adds), SERVERS_PER_CALL):
        chunk = adds[i : i + SERVERS_PER_CALL]
        batch(
            ChangeOp.CREATE,
            "AddVServerGroupBackendServers",
            [server_item(s) for s in chunk],
            [FieldChange(s.label, None, _server_json(s)) for s in chunk],
        )
    for i in range(0, len(updates), SERVERS_PER_CALL):
        chunk_diffs = updates[i : i + SERVERS_PER_CALL]
        batch(
            ChangeOp.UPDATE,
            "SetVServerGroupAttribute",
            [server_item(d.desired) for d in chunk_diffs],
            [
                FieldChange(f"{d.desired.label}.{f.field}", f.old, f.new)
                for d in chunk_diffs
                for f in d.fields
            ],
        )
    for i in range(0, len(removes), SERVERS_PER_CALL):
        chunk = removes[i : i + SERVERS_PER_CALL]
        batch(
            ChangeOp.DELETE,
            "RemoveVServerGroupBackendServers",
            [server_item(s) for s in chunk],
            [FieldChange(s.label, _server_json(s), None) for s in chunk],
        )
    return steps


def _server_json(server: Server) -> dict[str, Any]:
    return {
        "weight": server.weight,
        "type": str(server.type),
        "description": server.description,
    }


# -- listeners ---------------------------------------------------------------


def listener_changes(
    ctx: PlanContext, diff: Difference, repoint: frozenset[str]
) -> tuple[list[Change], bool]:
    """The listener's changes, and whether it is replaced (its rules are
    then created again, since a deleted listener takes its rules along)."""
    lb = diff.address.load_balancer
    if diff.status == MISSING:
        return _create_listener(ctx, diff, diff.desired, replacement=False), False
    if diff.status == UNEXPECTED:
        return _delete_listener(ctx, diff, diff.live, replacement=False), False
    want: Listener = diff.desired
    have: Listener = diff.live
    names = {f.field for f in diff.fields}
    changed = _changed_params(ctx, lb, want, have, repoint)
    if "protocol" in names or changed & CREATE_ONLY_PARAMS:
        steps = _delete_listener(ctx, diff, have, replacement=True)
        steps += _create_listener(ctx, diff, want, replacement=True)
        return steps, True
    steps = []
    fields = [f for f in diff.fields if f.field != "running"]
    if changed:
        params = listener_params(want, ctx.refs.for_listener(lb))
        sent = {k: v for k, v in params.items() if k in changed}
        if "VServerGroupId" in sent:
            sent["VServerGroup"] = "on"
        if not fields:
            fields = [FieldChange("certificate", have.certificate, want.certificate)]
        steps.append(
            change(
                ChangeOp.UPDATE,
                diff.address,
                listener_action("Set", str(want.protocol)),
                {
                    "LoadBalancerId": ctx.refs.load_balancer(lb),
                    "ListenerPort": want.port,
                    **sent,
                },
                fields=fields,
                live_id=diff.live_id,
                lb=lb,
                protocol=str(want.protocol),
            )
        )
    if "running" in names:
        steps.append(_listener_state(ctx, diff, want, "StartLoadBalancerListener"))
    return steps, False


def repoint_listener(
    ctx: PlanContext, lb: str, listener: Listener, live_id: str | None
) -> Change:
    """A Set call moving an untouched HTTPS listener to a new certificate upload."""
    params = listener_params(listener, ctx.refs.for_listener(lb))
    sent: dict[str, Any] = {
        k: params[k] for k in ("ServerCertificateId", "CACertificateId") if k in params
    }
    address = ctx.address(lb, ResourceKind.LISTENER, listener.label)
    return change(
        ChangeOp.UPDATE,
        address,
        listener_action("Set", str(listener.protocol)),
        {
            "LoadBalancerId": ctx.refs.load_balancer(lb),
            "ListenerPort": listener.port,
            **sent,
        },
        fields=[FieldChange("certificate", listener.certificate, listener.certificate)],
        live_id=live_id,
        lb=lb,
        protocol=str(listener.protocol),
        note="moves to the certificate's new upload",
    )


def _changed_params(
    ctx: PlanContext, lb: str, want: Listener, have: Listener, repoint: frozenset[str]
) -> set[str]:
    """Wire parameters whose desired value differs from the live one."""
    desired = listener_params(want, by_name)
    live = listener_params(have, by_name)
    changed = {k for k, v in desired.items() if live.get(k) != v}
    for group in PARAM_GROUPS:
        if changed & set(group):
            changed |= set(group) & desired.keys()
    if want.certificate in repoint and "ServerCertificateId" in desired:
        changed.add("ServerCertificateId")
    if want.ca_certificate in repoint and "CACertificateId" in desired:
        changed.add("CACertificateId")
    return changed


def _create_listener(
    ctx: PlanContext, diff: Difference, listener: Listener, *, replacement: bool
) -> list[Change]:
    lb = diff.address.load_balancer
    params = listener_params(listener, ctx.refs.for_listener(lb))
    create = change(
        ChangeOp.CREATE,
        ctx.address(lb, ResourceKind.LISTENER, listener.label),
        listener_action("Create", str(listener.protocol)),
        {"LoadBalancerId": ctx.refs.load_balancer(lb), **params},
        fields=created_fields(
            listener, ("protocol", "port", "rules", *_NOT_ON[listener.protocol])
        ),
        lb=lb,
        protocol=str(listener.protocol),
        replacement=replacement,
    )
    return [create, _listener_state(ctx, diff, listener, "StartLoadBalancerListener")]


def _delete_listener(
    ctx: PlanContext, diff: Difference, listener: Listener, *, replacement: bool
) -> list[Change]:
    """Stop, then delete. A replacement's stop is ranked as a listener change so
    it runs with the delete, just before the new listener is created."""
    lb = diff.address.load_balancer
    address = ctx.address(lb, ResourceKind.LISTENER, listener.label)
    key = _listener_key(ctx, lb, listener)
    stop_address = address
    if not replacement:
        stop_address = ctx.address(lb, ResourceKind.LISTENER_STATE, listener.label)
    common: dict[str, Any] = {
        "live_id": diff.live_id,
        "lb": lb,
        "protocol": str(listener.protocol),
    }
    return [
        change(
            ChangeOp.DELETE,
            stop_address,
            "StopLoadBalancerListener",
            key,
            fields=[FieldChange("running", True, False)],
            replacement=replacement,
            **common,
        ),
        change(
            ChangeOp.DELETE,
            address,
            "DeleteLoadBalancerListener",
            key,
            fields=[FieldChange("protocol", str(listener.protocol), None)],
            replacement=replacement,
            note="replaced: the API cannot change this in place" if replacement else "",
            **common,
        ),
    ]


def _listener_state(
    ctx: PlanContext, diff: Difference, listener: Listener, action: str
) -> Change:
    lb = diff.address.load_balancer
    op = (
        ChangeOp.UPDATE
        if diff.status == MODIFIED and action.startswith("Start")
        else ChangeOp.CREATE
    )
    return change(
        op,
        ctx.address(lb, ResourceKind.LISTENER_STATE, listener.label),
        action,
        _listener_key(ctx, lb, listener),
        fields=[FieldChange("running", False, True)],
        lb=lb,
        protocol=str(listener.protocol),
    )


def _listener_key(ctx: PlanContext, lb: str, listener: Listener) -> dict[str, Any]:
    return {
        "LoadBalancerId": ctx.refs.load_balancer(lb),
        "ListenerPort": listener.port,
        "ListenerProtocol": str(listener.protocol),
    }


# -- forwarding rules ----------------------------------------------------------


def rule_changes(
    ctx: PlanContext, lb: str, label: str, diffs: Sequence[Difference]
) -> list[Change]:
    """Rules of one listener: creates and deletes in batches of 10."""
    creates: list[ForwardingRule] = [d.desired for d in diffs if d.status == MISSING]
    deletes: list[Difference] = [d for d in diffs if d.status == UNEXPECTED]
    steps: list[Change] = []
    for d in (d for d in diffs if d.status == MODIFIED):
        names = {f.field for f in d.fields}
        if names & {"domain", "url"}:
            # SetRule cannot move a rule to another domain or path.
            steps += _delete_rules(ctx, lb, label, [d], replacement=True)
            steps += create_rules(ctx, lb, label, [d.desired], replacement=True)
        else:
            steps.append(_set_rule(ctx, lb, label, d))
    steps = create_rules(ctx, lb, label, creates) + steps
    for i in range(0, len(deletes), RULES_PER_CALL):
        steps += _delete_rules(ctx, lb, label, deletes[i : i + RULES_PER_CALL])
    return steps


def create_rules(
    ctx: PlanContext,
    lb: str,
    label: str,
    rules: Sequence[ForwardingRule],
    *,
    replacement: bool = False,
) -> list[Change]:
    protocol, port = label.split("/")
    steps = []
    for i in range(0, len(rules), RULES_PER_CALL):
        chunk = rules[i : i + RULES_PER_CALL]
        items = []
        for rule in chunk:
            item: dict[str, Any] = {
                "RuleName": rule.name,
                "VServerGroupId": ctx.refs.group(lb, rule.server_group),
            }
            if rule.domain:
                item["Domain"] = rule.domain
            if rule.url:
                item["Url"] = rule.url
            items.append(item)
        steps.append(
            change(
                ChangeOp.CREATE,
                ctx.address(lb, ResourceKind.RULE, _rules_name(label, chunk)),
                "CreateRules",
                {
                    "LoadBalancerId": ctx.refs.load_balancer(lb),
                    "ListenerPort": int(port),
                    "ListenerProtocol": protocol,
                    "RuleList": items,
                },
                fields=[FieldChange(r.name, None, to_plain(r)) for r in chunk],
                replacement=replacement,
                lb=lb,
                listener=label,
            )
        )
    return steps


def _set_rule(ctx: PlanContext, lb: str, label: str, diff: Difference) -> Change:
    rule: ForwardingRule = diff.desired
    return change(
        ChangeOp.UPDATE,
        diff.address,
        "SetRule",
        {
            "RuleId": diff.live_id or ctx.refs.rule(lb, f"{label}/{rule.name}"),
            "VServerGroupId": ctx.refs.group(lb, rule.server_group),
        },
        fields=diff.fields,
        live_id=diff.live_id,
        lb=lb,
        listener=label,
    )


def _delete_rules(
    ctx: PlanContext,
    lb: str,
    label: str,
    diffs: Sequence[Difference],
    *,
    replacement: bool = False,
) -> list[Change]:
    rules = [d.live for d in diffs]
    return [
        change(
            ChangeOp.DELETE,
            ctx.address(lb, ResourceKind.RULE, _rules_name(label, rules)),
            "DeleteRules",
            {
                "RuleIds": [
                    d.live_id or ctx.refs.rule(lb, f"{label}/{d.live.name}")
                    for d in diffs
                ]
            },
            fields=[FieldChange(r.name, to_plain(r), None) for r in rules],
            live_id=diffs[0].live_id if len(diffs) == 1 else None,
            replacement=replacement,
            lb=lb,
            listener=label,
        )
    ]


def _rules_name(label: str, rules: Sequence[ForwardingRule]) -> str:
    return f"{label}/{','.join(r.name for r in rules)}"


def rule_label(address_name: str) -> tuple[str, str]:
    """``http/80/images`` as the listener label and the rule name."""
    protocol, port, name = address_name.split("/", 2)
    return f"{protocol}/{port}", name


def replaced_rules(ctx: PlanContext, lb: str, listener: Listener) -> list[Change]:
    """A replaced listener's rules, created again on the new listener."""
    return create_rules(ctx, lb, listener.label, listener.rules, replacement=True)
