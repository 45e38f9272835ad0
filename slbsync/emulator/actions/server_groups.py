"""VServer group actions: create, delete, list, attribute and member changes.

API reference (one page per action):
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-<action-in-lower-case>

Every ``BackendServers`` list is read leniently (single quotes, numbers as
strings), holds at most 20 servers, and an empty string (what Terraform
sends for the extra batch after an exact multiple of 20) changes nothing.
While ``configuring_ms`` is above zero, a write to a group inside that window
after the previous one is refused with ``VServerGroupProcessing``.
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import load_balancers as lbs
from slbsync.emulator.state import tags
from slbsync.emulator.state.listeners import (
    listeners_fed_by_vserver_group,
    listeners_using_vserver_group,
    mark_configuring,
)
from slbsync.emulator.state.server_groups import (
    VServerGroupRecord,
    check_backend_server_quota,
    check_not_processing,
    delete_groups_of,
    format_time,
    get_vserver_group,
    mark_processing,
    matches,
    new_group_id,
    parse_servers,
    server_body,
    server_identity,
    vserver_groups,
    vserver_groups_of,
)

NAME_MAX_LENGTH = 80
NAME_PATTERN = r"[A-Za-z0-9\-/._]{1,80}"  # letters, digits and - / . _
# Keys of a member in each response; Remove's model has no Description.
MEMBER_KEYS = ("ServerId", "Port", "Weight", "Type", "Description")
ATTRIBUTE_KEYS = ("ServerId", "Port", "Weight", "Type", "ServerIp", "Description")
REMOVE_KEYS = ("ServerId", "Port", "Weight", "Type")


@action("CreateVServerGroup", writes=True)
def create_vserver_group(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createvservergroup"""
    lb = lbs.get_load_balancer(
        ctx.store, ctx.params.str("LoadBalancerId", required=True), for_write=True
    )
    name = (
        ctx.params.str(
            "VServerGroupName", max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN
        )
        or ""
    )
    servers = parse_servers(
        ctx, "BackendServers", with_port=True, check_exist=True, required=False
    )
    pairs = ctx.params.tags()
    tags.check_tags(pairs)
    # Checked before the new id is drawn, so that a refusal changes nothing.
    check_backend_server_quota(
        ctx.store, lb.load_balancer_id, lb.backend_servers, ("", servers or [])
    )

    group = VServerGroupRecord(
        vserver_group_id=new_group_id(ctx.store, "vserver-group"),
        load_balancer_id=lb.load_balancer_id,
        name=name,
        backend_servers=servers or [],
        create_time=ctx.now,
    )
    vserver_groups(ctx.store)[group.vserver_group_id] = group
    if pairs:
        tags.set_tags(ctx.store, "vservergroup", group.vserver_group_id, pairs)
    mark_processing(ctx, group)
    return _members_body(group, MEMBER_KEYS)


@action("DeleteVServerGroup", writes=True)
def delete_vserver_group(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-deletevservergroup (refused while in use)."""
    from slbsync.emulator.state import rules

    group = _group_for_write(ctx)
    if listeners_using_vserver_group(ctx.store, group.vserver_group_id):
        raise ApiError(
            "RspoolVipExist",
            "The VServerGroup is used by a listener; detach it before deleting.",
        )
    if rules.rules_using_group(ctx.store, group.vserver_group_id):
        raise ApiError(
            "RspoolRuleExist",
            "The VServerGroup is used by a forwarding rule; delete the rule first.",
        )
    tags.remove_all_tags(ctx.store, "vservergroup", group.vserver_group_id)
    del vserver_groups(ctx.store)[group.vserver_group_id]
    return {}


@action("DescribeVServerGroups")
def describe_vserver_groups(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-describevservergroups (not paginated)."""
    params = ctx.params
    lb = lbs.get_load_balancer(ctx.store, params.str("LoadBalancerId", required=True))
    include_listener = params.bool("IncludeListener", default=False)
    include_rule = params.bool("IncludeRule", default=False)
    name_part = params.str("Description")
    wanted_tags = params.tags()

    found = []
    for group in vserver_groups_of(ctx.store, lb.load_balancer_id):
        if name_part is not None and name_part not in group.name:
            continue
        held = set(tags.tags_of(ctx.store, "vservergroup", group.vserver_group_id))
        if not all(pair in held for pair in wanted_tags):
            continue
        found.append(_group_entry(ctx, group, include_listener, include_rule))
    return {"VServerGroups": {"VServerGroup": found}}


def _group_entry(
    ctx: ActionContext,
    group: VServerGroupRecord,
    include_listener: bool | None,
    include_rule: bool | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "VServerGroupId": group.vserver_group_id,
        "VServerGroupName": group.name,
        "CreateTime": format_time(group.create_time),
        "ServerCount": len(group.backend_servers),
        "Tags": _tags(ctx, group),
    }
    if include_listener or include_rule:
        entry["AssociatedObjects"] = _associated(
            ctx, group, include_listener, include_rule
        )
    return entry


def _associated(
    ctx: ActionContext,
    group: VServerGroupRecord,
    include_listener: bool | None,
    include_rule: bool | None,
) -> dict[str, Any]:
    from slbsync.emulator.state import rules

    objects: dict[str, Any] = {}
    if include_listener:
        using = listeners_using_vserver_group(ctx.store, group.vserver_group_id)
        objects["Listeners"] = {
            "Listener": [{"Port": rec.port, "Protocol": rec.protocol} for rec in using]
        }
    if include_rule:
        objects["Rules"] = {
            "Rule": [
                {
                    "RuleId": rule.rule_id,
                    "RuleName": rule.rule_name,
                    "Domain": rule.domain,
                    "Url": rule.url,
                }
                for rule in rules.rules_using_group(ctx.store, group.vserver_group_id)
            ]
        }
    return objects


@action("DescribeVServerGroupAttribute")
def describe_vserver_group_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-describevservergroupattribute (all members, no paging)."""
    group = get_vserver_group(
        ctx.store, ctx.params.str("VServerGroupId", required=True)
    )
    body = _members_body(group, ATTRIBUTE_KEYS)
    body.update(
        {
            "VServerGroupName": group.name,
            "LoadBalancerId": group.load_balancer_id,
            "CreateTime": format_time(group.create_time),
            "Tags": _tags(ctx, group),
        }
    )
    return body


@action("AddVServerGroupBackendServers", writes=True)
def add_vserver_group_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-addvservergroupbackendservers

    A server already in the group (same ServerId, Port and ServerIp) is left
    as it is, as AddBackendServers documents for the default group.
    """
    group = _group_for_write(ctx)
    servers = parse_servers(ctx, "BackendServers", with_port=True, check_exist=True)
    held = {server_identity(member) for member in group.backend_servers}
    added = [s for s in servers or [] if server_identity(s) not in held]
    _check_quota(ctx, group, group.backend_servers + added)
    group.backend_servers.extend(added)
    _done(ctx, group, servers)
    return _members_body(group, MEMBER_KEYS)


@action("RemoveVServerGroupBackendServers", writes=True)
def remove_vserver_group_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-removevservergroupbackendservers (absent ones ignored)."""
    group = _group_for_write(ctx)
    servers = parse_servers(ctx, "BackendServers", with_port=True, check_exist=False)
    for server in servers or []:
        group.backend_servers = [
            member for member in group.backend_servers if not matches(member, server)
        ]
    _done(ctx, group, servers)
    return _members_body(group, REMOVE_KEYS)


@action("ModifyVServerGroupBackendServers", writes=True)
def modify_vserver_group_backend_servers(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-modifyvservergroupbackendservers

    Replaces ``OldBackendServers`` (each must be in the group) with
    ``NewBackendServers``; a new server already in the group is updated.
    """
    group = _group_for_write(ctx)
    old = parse_servers(ctx, "OldBackendServers", with_port=True, check_exist=False)
    new = parse_servers(ctx, "NewBackendServers", with_port=True, check_exist=True)
    members = list(group.backend_servers)
    for server in old or []:
        if not any(matches(member, server) for member in members):
            raise InvalidParameter(
                "OldBackendServers",
                f"{server['ServerId']}:{server['Port']} is not in the group.",
            )
        members = [member for member in members if not matches(member, server)]
    for server in new or []:
        members = [m for m in members if server_identity(m) != server_identity(server)]
        members.append(server)
    _check_quota(ctx, group, members)
    group.backend_servers = members
    _done(ctx, group, (old or []) + (new or []))
    return _members_body(group, MEMBER_KEYS)


@action("SetVServerGroupAttribute", writes=True)
def set_vserver_group_attribute(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-setvservergroupattribute

    Changes the group name and the weight (and description) of members that
    are already in the group; a server not in the group is refused.
    """
    group = _group_for_write(ctx)
    name = ctx.params.str(
        "VServerGroupName", max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN
    )
    servers = parse_servers(
        ctx, "BackendServers", with_port=True, check_exist=False, required=False
    )
    updates = []
    for server in servers or []:
        found = [m for m in group.backend_servers if matches(m, server)]
        if not found:
            raise InvalidParameter(
                "BackendServers",
                f"The server {server['ServerId']}:{server['Port']} is not in the group;"
                " use AddVServerGroupBackendServers to add it.",
            )
        updates.append((found, server))

    for found, server in updates:
        for member in found:
            member["Weight"] = server["Weight"]
            if server["Description"]:
                member["Description"] = server["Description"]
    if name is not None:
        group.name = name
    mark_processing(ctx, group)
    if servers:
        _configure_listeners_of(ctx, group)
    body = _members_body(group, MEMBER_KEYS)
    body["VServerGroupName"] = group.name
    return body


def _group_for_write(ctx: ActionContext) -> VServerGroupRecord:
    group_id = ctx.params.str("VServerGroupId")
    if not group_id:
        raise MissingParameter("VServerGroupId")
    group = get_vserver_group(ctx.store, group_id)
    lbs.get_load_balancer(ctx.store, group.load_balancer_id, for_write=True)
    check_not_processing(ctx, group)
    return group


def _check_quota(
    ctx: ActionContext, group: VServerGroupRecord, members: list[dict[str, Any]]
) -> None:
    lb = lbs.get_load_balancer(ctx.store, group.load_balancer_id)
    check_backend_server_quota(
        ctx.store,
        lb.load_balancer_id,
        lb.backend_servers,
        (group.vserver_group_id, members),
    )


def _done(
    ctx: ActionContext, group: VServerGroupRecord, servers: list[Any] | None
) -> None:
    """Open the processing window, unless the call changed nothing."""
    if servers:
        mark_processing(ctx, group)
        _configure_listeners_of(ctx, group)


def _configure_listeners_of(ctx: ActionContext, group: VServerGroupRecord) -> None:
    """A member change is a backend change of every listener forwarding to it.

    The reference (section 4.2) names backend changes among those that put a
    listener into its configuring window; a listener whose forwarding rule
    points at the group is fed by it as much as one naming it directly.
    """
    for listener in listeners_fed_by_vserver_group(ctx.store, group.vserver_group_id):
        mark_configuring(ctx, listener)


def _members_body(group: VServerGroupRecord, keys: tuple[str, ...]) -> dict[str, Any]:
    return {
        "VServerGroupId": group.vserver_group_id,
        "BackendServers": {
            "BackendServer": [
                server_body(member, keys=keys) for member in group.backend_servers
            ]
        },
    }


def _tags(ctx: ActionContext, group: VServerGroupRecord) -> dict[str, Any]:
    pairs = tags.tags_of(ctx.store, "vservergroup", group.vserver_group_id)
    return tags.tags_body(pairs)


lbs.register_cleanup(delete_groups_of)
