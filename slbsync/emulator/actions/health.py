"""DescribeHealthStatus: the health of each backend behind each listener.

API reference:
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-describehealthstatus

The emulator runs no health checks. A backend of a running listener with
its check on is ``normal`` unless the control API set an override
(``state.health``); a stopped listener or one with its check off reports
``unavailable``. Members of the VServer groups the listener's forwarding
rules point at are reported under the listener too (once per server and
port); a rule with ``ListenerSync`` off checks with its own ``HealthCheck``
switch, so one turned off reports its members ``unavailable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import ecs, health, rules
from slbsync.emulator.state import load_balancers as lbs
from slbsync.emulator.state.listeners import (
    ListenerRecord,
    listeners_of,
    optional_protocol,
)
from slbsync.emulator.state.server_groups import (
    get_master_slave_group,
    get_vserver_group,
)
from slbsync.emulator.state.store import Store


@action("DescribeHealthStatus")
def describe_health_status(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-describehealthstatus"""
    params = ctx.params
    lb = lbs.get_load_balancer(ctx.store, params.str("LoadBalancerId", required=True))
    port = params.int("ListenerPort", minimum=1, maximum=65535)
    protocol = optional_protocol(ctx)

    entries = []
    for listener in listeners_of(ctx.store, lb.load_balancer_id):
        if port is not None and listener.port != port:
            continue
        if protocol is not None and listener.protocol != protocol:
            continue
        for backend in _backends(ctx.store, lb, listener):
            entries.append(_entry(ctx.store, listener, backend))
    return {"BackendServers": {"BackendServer": entries}}


@dataclass(frozen=True)
class _Backend:
    server_id: str
    port: int
    server_ip: str
    health_check: str  # "on" or "off": the switch of whoever checks it


def _entry(store: Store, listener: ListenerRecord, backend: _Backend) -> dict[str, Any]:
    return {
        "ServerId": backend.server_id,
        "ServerIp": backend.server_ip or _private_ip(store, backend.server_id),
        "Port": backend.port,
        "ListenerPort": listener.port,
        "Protocol": listener.protocol,
        "ServerHealthStatus": _status(store, listener, backend),
    }


def _backends(store: Store, lb: Any, listener: ListenerRecord) -> list[_Backend]:
    """The backends behind ``listener``: its own, then its rules' groups'.

    A server and port reached both ways is reported once, as the listener's.
    """
    found = _members(_listener_members(store, lb, listener), listener.health_check)
    for rule in rules.rules_of_listener(
        store, listener.load_balancer_id, listener.protocol, listener.port
    ):
        group = get_vserver_group(store, rule.vserver_group_id)
        found += _members(group.backend_servers, _rule_health_check(rule, listener))
    unique: dict[tuple[str, int], _Backend] = {}
    for backend in found:
        unique.setdefault((backend.server_id, backend.port), backend)
    return list(unique.values())


def _listener_members(
    store: Store, lb: Any, listener: ListenerRecord
) -> list[dict[str, Any]]:
    if listener.vserver_group_id:
        return get_vserver_group(store, listener.vserver_group_id).backend_servers
    if listener.master_slave_server_group_id:
        group = get_master_slave_group(store, listener.master_slave_server_group_id)
        return group.backend_servers
    if listener.backend_server_port is not None:
        return [
            {**member, "Port": listener.backend_server_port}
            for member in lb.backend_servers
        ]
    return []  # an HTTP listener that only redirects to HTTPS


def _members(members: list[dict[str, Any]], health_check: str) -> list[_Backend]:
    return [
        _Backend(m["ServerId"], int(m["Port"]), m.get("ServerIp", ""), health_check)
        for m in members
    ]


def _rule_health_check(rule: rules.RuleRecord, listener: ListenerRecord) -> str:
    """A rule follows its listener's check unless ListenerSync is off."""
    if rule.listener_sync == "off":
        return str(rule.overrides.get("HealthCheck", listener.health_check))
    return listener.health_check


def _status(store: Store, listener: ListenerRecord, backend: _Backend) -> str:
    if listener.status != "running" or backend.health_check != "on":
        return "unavailable"
    return health.health_of(store, backend.server_id, backend.port) or "normal"


def _private_ip(store: Store, server_id: str) -> str:
    instance = ecs.get_instance(store, server_id)
    return instance.private_ip if instance is not None else ""
