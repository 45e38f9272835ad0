"""DescribeHealthStatus: the health of each backend behind each listener.

API reference:
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-describehealthstatus

The emulator runs no health checks. A backend of a running listener with
its check on is ``normal`` unless the control API set an override
(``state.health``); a stopped listener or one with its check off reports
``unavailable``. Members of forwarding rules' groups are not reported.
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import ecs, health
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
        for server_id, server_port, server_ip in _backends(ctx.store, lb, listener):
            entries.append(
                {
                    "ServerId": server_id,
                    "ServerIp": server_ip or _private_ip(ctx.store, server_id),
                    "Port": server_port,
                    "ListenerPort": listener.port,
                    "Protocol": listener.protocol,
                    "ServerHealthStatus": _status(
                        ctx.store, listener, server_id, server_port
                    ),
                }
            )
    return {"BackendServers": {"BackendServer": entries}}


def _backends(
    store: Store, lb: Any, listener: ListenerRecord
) -> list[tuple[str, int, str]]:
    """(server id, backend port, server ip) behind ``listener``."""
    # TODO(emulator): members of the groups that forwarding rules point at are
    # not reported, so a rule-only backend never shows up in health output;
    # add them from state.rules.rules_of_listener when a client needs it.
    if listener.vserver_group_id:
        members = get_vserver_group(store, listener.vserver_group_id).backend_servers
    elif listener.master_slave_server_group_id:
        group = get_master_slave_group(store, listener.master_slave_server_group_id)
        members = group.backend_servers
    elif listener.backend_server_port is not None:
        members = [
            {**member, "Port": listener.backend_server_port}
            for member in lb.backend_servers
        ]
    else:
        members = []  # an HTTP listener that only redirects to HTTPS
    return [(m["ServerId"], int(m["Port"]), m.get("ServerIp", "")) for m in members]


def _status(store: Store, listener: ListenerRecord, server_id: str, port: int) -> str:
    if listener.status != "running" or listener.health_check != "on":
        return "unavailable"
    return health.health_of(store, server_id, port) or "normal"


def _private_ip(store: Store, server_id: str) -> str:
    instance = ecs.get_instance(store, server_id)
    return instance.private_ip if instance is not None else ""
