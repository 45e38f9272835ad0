"""The default server group of a load balancer: add, remove, set weights.

API reference (one page per action):
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-<action-in-lower-case>

Members of the default group have no port of their own (listeners give it
with ``BackendServerPort``). The SDK models disagree on the type of
``Weight``: a string in AddBackendServers and SetBackendServers responses,
an integer in RemoveBackendServers; we answer each as its model expects.

A call that changed the group is a backend change of each listener using
the default group, and opens their configuring windows
(``state.listeners.mark_configuring``).
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.errors import InvalidParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import load_balancers as lbs
from slbsync.emulator.state.listeners import (
    listeners_using_default_group,
    mark_configuring,
)
from slbsync.emulator.state.server_groups import (
    check_backend_server_quota,
    matches,
    parse_servers,
)

MEMBER_KEYS = ("ServerId", "Weight", "Type", "Description")


def _load_balancer(ctx: ActionContext) -> Any:
    lb_id = ctx.params.str("LoadBalancerId", required=True)
    return lbs.get_load_balancer(ctx.store, lb_id, for_write=True)


def _body(lb: Any, *, weight_as_text: bool) -> dict[str, Any]:
    members = []
    for member in lb.backend_servers:
        item = {key: member.get(key, "") for key in MEMBER_KEYS}
        item["Weight"] = str(member["Weight"]) if weight_as_text else member["Weight"]
        members.append(item)
    return {
        "LoadBalancerId": lb.load_balancer_id,
        "BackendServers": {"BackendServer": members},
    }


def _configure_listeners_of(ctx: ActionContext, lb: Any) -> None:
    for listener in listeners_using_default_group(ctx.store, lb.load_balancer_id):
        mark_configuring(ctx, listener)


def _stored(server: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerId": server["ServerId"],
        "Weight": server["Weight"],
        "Type": server["Type"],
        "ServerIp": server["ServerIp"],
        "Description": server["Description"],
    }


@action("AddBackendServers", writes=True)
def add_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-addbackendservers (already attached ones are ignored)."""
    lb = _load_balancer(ctx)
    servers = parse_servers(ctx, "BackendServers", with_port=False, check_exist=True)
    added: list[dict[str, Any]] = []
    for server in servers or []:
        if not any(matches(member, server) for member in lb.backend_servers):
            added.append(_stored(server))
    # The default group is keyed by the load balancer id in the count.
    members = lb.backend_servers + added
    check_backend_server_quota(
        ctx.store,
        lb.load_balancer_id,
        lb.backend_servers,
        (lb.load_balancer_id, members),
    )
    lb.backend_servers = members
    if added:
        _configure_listeners_of(ctx, lb)
    return _body(lb, weight_as_text=True)


@action("RemoveBackendServers", writes=True)
def remove_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-removebackendservers (absent ones are ignored)."""
    lb = _load_balancer(ctx)
    servers = parse_servers(ctx, "BackendServers", with_port=False, check_exist=False)
    before = len(lb.backend_servers)
    for server in servers or []:
        lb.backend_servers = [m for m in lb.backend_servers if not matches(m, server)]
    if len(lb.backend_servers) != before:
        _configure_listeners_of(ctx, lb)
    return _body(lb, weight_as_text=False)


@action("SetBackendServers", writes=True)
def set_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setbackendservers (weights of attached servers only)."""
    lb = _load_balancer(ctx)
    servers = parse_servers(
        ctx, "BackendServers", with_port=False, check_exist=False, required=False
    )
    updates = []
    for server in servers or []:
        found = [m for m in lb.backend_servers if matches(m, server)]
        if not found:
            raise InvalidParameter(
                "BackendServers",
                f"The server {server['ServerId']} is not attached to the load balancer;"
                " use AddBackendServers to attach it.",
            )
        updates.append((found, server["Weight"]))
    for found, weight in updates:
        for member in found:
            member["Weight"] = weight
    if updates:
        _configure_listeners_of(ctx, lb)
    return _body(lb, weight_as_text=True)
