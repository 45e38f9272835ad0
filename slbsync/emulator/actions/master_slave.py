"""Master-slave server groups: create, delete, list and attribute.

API reference (one page per action):
https://help.aliyun.com/en/slb/classic-load-balancer/developer-reference/api-slb-2014-05-15-<action-in-lower-case>

A group holds exactly two servers, one ``Master`` and one ``Slave``. The
API has no modify action: a change is a delete and a create.
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.errors import ApiError, MissingParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import load_balancers as lbs
from slbsync.emulator.state import tags
from slbsync.emulator.state.listeners import listeners_using_master_slave_group
from slbsync.emulator.state.server_groups import (
    MasterSlaveGroupRecord,
    check_backend_server_quota,
    check_servers_exist,
    format_time,
    get_master_slave_group,
    master_slave_groups,
    master_slave_groups_of,
    new_group_id,
    normalize_server,
    read_backend_servers,
)

PARAM = "MasterSlaveBackendServers"
NAME_MAX_LENGTH = 80
NAME_PATTERN = r"[A-Za-z0-9\-/._]{1,80}"  # letters, digits and - / . _
MEMBER_KEYS = ("ServerId", "Port", "Weight", "Type", "ServerType", "Description")


def _refuse(code: str, message: str) -> ApiError:
    return ApiError(code, message, 400)


@action("CreateMasterSlaveServerGroup", writes=True)
def create_master_slave_server_group(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-createmasterslaveservergroup"""
    lb = lbs.get_load_balancer(
        ctx.store, ctx.params.str("LoadBalancerId", required=True), for_write=True
    )
    name = ctx.params.str(
        "MasterSlaveServerGroupName", max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN
    )
    servers = _parse_members(ctx)
    pairs = ctx.params.tags()
    tags.check_tags(pairs)
    check_backend_server_quota(
        ctx.store, lb.load_balancer_id, lb.backend_servers, ("", servers)
    )

    group = MasterSlaveGroupRecord(
        master_slave_server_group_id=new_group_id(ctx.store, "master-slave-group"),
        load_balancer_id=lb.load_balancer_id,
        name=name or "",
        backend_servers=servers,
        create_time=ctx.now,
    )
    master_slave_groups(ctx.store)[group.master_slave_server_group_id] = group
    if pairs:
        tags.set_tags(
            ctx.store,
            "masterslaveservergroup",
            group.master_slave_server_group_id,
            pairs,
        )
    return {
        "MasterSlaveServerGroupId": group.master_slave_server_group_id,
        **_members(group),
    }


def _parse_members(ctx: ActionContext) -> list[dict[str, Any]]:
    """Exactly one Master and one Slave, checked in the cloud's order."""
    raw = read_backend_servers(ctx, PARAM) or []
    if len(raw) != 2:
        raise _refuse(
            "BACKEND_SERVERS_NUM_MUST_BE_TWO",
            "A master-slave server group needs exactly two backend servers.",
        )
    for item in raw:
        if not str(item.get("ServerId") or "").strip():
            raise _refuse(
                "BACKEND_SERVER_ID_CAN_NOT_EMPTY", "The ServerId cannot be empty."
            )
        if item.get("Port") in (None, ""):
            raise _refuse(
                "BACKEND_SERVER_PORT_CAN_NOT_EMPTY", "The Port cannot be empty."
            )
        if item.get("ServerType") not in ("Master", "Slave"):
            raise _refuse(
                "INVALID_SERVER_TYPE", "The ServerType must be Master or Slave."
            )
    if sorted(item["ServerType"] for item in raw) != ["Master", "Slave"]:
        raise _refuse(
            "BACKEND_SERVERS_CAN_ONLY_CONTAIN_ONE_MASTER_AND_ONE_SLAVE",
            "The backend servers must be one Master and one Slave.",
        )
    servers = []
    for item in raw:
        server = normalize_server(item, with_port=True, name=PARAM)
        server["ServerType"] = item["ServerType"]
        servers.append(server)
    first, second = servers
    if (first["ServerId"], first["Port"]) == (second["ServerId"], second["Port"]):
        raise _refuse(
            "BACKEND_SERVERS_HAVE_SAME_PORT_AND_SERVERID",
            "The Master and the Slave cannot have the same ServerId and Port.",
        )
    check_servers_exist(ctx.store, servers)
    return servers


@action("DeleteMasterSlaveServerGroup", writes=True)
def delete_master_slave_server_group(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-deletemasterslaveservergroup (refused while in use)."""
    group = _group(ctx)
    lbs.get_load_balancer(ctx.store, group.load_balancer_id, for_write=True)
    if listeners_using_master_slave_group(
        ctx.store, group.master_slave_server_group_id
    ):
        raise ApiError(
            "RspoolVipExist",
            "The MasterSlaveServerGroup is used by a listener; detach it first.",
        )
    tags.remove_all_tags(
        ctx.store, "masterslaveservergroup", group.master_slave_server_group_id
    )
    del master_slave_groups(ctx.store)[group.master_slave_server_group_id]
    return {}


@action("DescribeMasterSlaveServerGroups")
def describe_master_slave_server_groups(ctx: ActionContext) -> dict[str, Any]:
    """api-slb-2014-05-15-describemasterslaveservergroups (not paginated)."""
    params = ctx.params
    lb = lbs.get_load_balancer(ctx.store, params.str("LoadBalancerId", required=True))
    include_listener = params.bool("IncludeListener", default=False)
    name_part = params.str("Description")
    wanted_tags = params.tags()

    found = []
    for group in master_slave_groups_of(ctx.store, lb.load_balancer_id):
        if name_part is not None and name_part not in group.name:
            continue
        pairs = _tag_pairs(ctx, group)
        if not all(pair in set(pairs) for pair in wanted_tags):
            continue
        entry: dict[str, Any] = {
            "MasterSlaveServerGroupId": group.master_slave_server_group_id,
            "MasterSlaveServerGroupName": group.name,
            "CreateTime": format_time(group.create_time),
            "Tags": tags.tags_body(pairs),
        }
        if include_listener:
            using = listeners_using_master_slave_group(
                ctx.store, group.master_slave_server_group_id
            )
            entry["AssociatedObjects"] = {
                "Listeners": {
                    "Listener": [
                        {"Port": rec.port, "Protocol": rec.protocol} for rec in using
                    ]
                }
            }
        found.append(entry)
    return {"MasterSlaveServerGroups": {"MasterSlaveServerGroup": found}}


@action("DescribeMasterSlaveServerGroupAttribute")
def describe_master_slave_server_group_attribute(
    ctx: ActionContext,
) -> dict[str, Any]:
    """api-slb-2014-05-15-describemasterslaveservergroupattribute"""
    group = _group(ctx)
    return {
        "MasterSlaveServerGroupId": group.master_slave_server_group_id,
        "MasterSlaveServerGroupName": group.name,
        "LoadBalancerId": group.load_balancer_id,
        "CreateTime": format_time(group.create_time),
        "Tags": tags.tags_body(_tag_pairs(ctx, group)),
        **_members(group),
    }


def _group(ctx: ActionContext) -> MasterSlaveGroupRecord:
    group_id = ctx.params.str("MasterSlaveServerGroupId")
    if not group_id:
        raise MissingParameter("MasterSlaveServerGroupId")
    return get_master_slave_group(ctx.store, group_id)


def _tag_pairs(
    ctx: ActionContext, group: MasterSlaveGroupRecord
) -> list[tuple[str, str]]:
    return tags.tags_of(
        ctx.store, "masterslaveservergroup", group.master_slave_server_group_id
    )


def _members(group: MasterSlaveGroupRecord) -> dict[str, Any]:
    return {
        "MasterSlaveBackendServers": {
            "MasterSlaveBackendServer": [
                {key: member[key] for key in MEMBER_KEYS if key in member}
                for member in group.backend_servers
            ]
        }
    }
