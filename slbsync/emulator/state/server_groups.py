"""VServer groups and master-slave server groups, and backend-server parsing.

Both kinds of group belong to one load balancer and hold members as dicts
with the cloud's keys (``ServerId, Port, Weight, Type, ServerIp,
Description``; master-slave members add ``ServerType``). The parsing here is
shared by every action that takes a ``BackendServers`` JSON list, so all of
them validate alike.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slbsync.emulator.errors import (
    ApiError,
    InvalidParameter,
    MissingParameter,
    VServerGroupNotFound,
    VServerGroupProcessing,
)
from slbsync.emulator.params import as_int, parse_lenient_json
from slbsync.emulator.state.store import Store

if TYPE_CHECKING:
    from slbsync.emulator.registry import ActionContext

VSERVER_TABLE = "vserver_groups"
MASTER_SLAVE_TABLE = "master_slave_server_groups"

# The documented cap on servers in one Create/Add/Remove/Modify/Set call.
MAX_BACKEND_SERVERS_PER_CALL = 20
SERVER_TYPES = ("ecs", "eni", "eci")
_DESCRIPTION = re.compile(r"[A-Za-z0-9\-/._ ]{1,80}")
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# The quota on servers per load balancer is ``Store.backend_server_quota``.
# The cloud gives no figure for VServer groups per load balancer, so no group
# quota is enforced here.


@dataclass
class VServerGroupRecord:
    vserver_group_id: str
    load_balancer_id: str
    name: str = ""
    backend_servers: list[dict[str, Any]] = field(default_factory=list)
    create_time: float = 0.0
    busy_until: float = 0.0


@dataclass
class MasterSlaveGroupRecord:
    master_slave_server_group_id: str
    load_balancer_id: str
    name: str = ""
    backend_servers: list[dict[str, Any]] = field(default_factory=list)
    create_time: float = 0.0


def vserver_groups(store: Store) -> dict[str, VServerGroupRecord]:
    return store.table(VSERVER_TABLE, VServerGroupRecord)


def master_slave_groups(store: Store) -> dict[str, MasterSlaveGroupRecord]:
    return store.table(MASTER_SLAVE_TABLE, MasterSlaveGroupRecord)


def get_vserver_group(store: Store, group_id: str | None) -> VServerGroupRecord:
    group = vserver_groups(store).get(group_id or "")
    if group is None:
        raise VServerGroupNotFound()
    return group


def vserver_groups_of(store: Store, lb_id: str) -> list[VServerGroupRecord]:
    found = [g for g in vserver_groups(store).values() if g.load_balancer_id == lb_id]
    return sorted(found, key=lambda g: (g.create_time, g.vserver_group_id))


def get_master_slave_group(
    store: Store, group_id: str | None
) -> MasterSlaveGroupRecord:
    group = master_slave_groups(store).get(group_id or "")
    if group is None:
        raise ApiError(
            "InvalidParameter", "The specified MasterSlaveGroupId does not exist.", 404
        )
    return group


def master_slave_groups_of(store: Store, lb_id: str) -> list[MasterSlaveGroupRecord]:
    found = [
        g for g in master_slave_groups(store).values() if g.load_balancer_id == lb_id
    ]
    return sorted(found, key=lambda g: (g.create_time, g.master_slave_server_group_id))


def new_group_id(store: Store, kind: str) -> str:
    """``rsp-`` plus 22 lower-case alphanumerics, unique and stable per store."""
    number = store.next_number(kind)
    digest = int.from_bytes(hashlib.sha256(f"{kind}:{number}".encode()).digest())
    chars = []
    for _ in range(22):
        digest, index = divmod(digest, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return "rsp-" + "".join(chars)


def format_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def check_not_processing(ctx: ActionContext, group: VServerGroupRecord) -> None:
    """Refuse a group write while the previous one is still being applied."""
    if ctx.configuring_seconds > 0 and ctx.now < group.busy_until:
        raise VServerGroupProcessing()


def mark_processing(ctx: ActionContext, group: VServerGroupRecord) -> None:
    group.busy_until = ctx.now + ctx.configuring_seconds


def read_backend_servers(
    ctx: ActionContext, name: str, *, required: bool = True
) -> list[dict[str, Any]] | None:
    """The raw ``name`` JSON list: ``None`` when absent, ``[]`` when empty.

    Terraform batches servers by 20 and, for an exact multiple of 20, sends
    one more call with ``BackendServers=""``; that empty string is read as an
    empty list, which every action treats as a call that changes nothing.
    """
    text = ctx.params.raw(name)
    if text is None:
        if required:
            raise MissingParameter(name)
        return None
    if text.strip() == "":
        return []
    try:
        parsed = parse_lenient_json(name, text)
    except ApiError:
        raise ApiError(
            "BackendServersMalformed", f"The specified {name} is malformed."
        ) from None
    if not isinstance(parsed, list) or not all(isinstance(i, dict) for i in parsed):
        raise ApiError(
            "BackendServersMalformed",
            f"The specified {name} must be a JSON list of objects.",
        )
    if len(parsed) > MAX_BACKEND_SERVERS_PER_CALL:
        raise ApiError(
            "TooManyBackendServers",
            "The total number of input real servers exceeds max supported number: 20",
        )
    return parsed


def normalize_server(
    item: dict[str, Any], *, with_port: bool, name: str = "BackendServers"
) -> dict[str, Any]:
    """One backend server in the stored shape, validated like the cloud does."""
    server_id = str(item.get("ServerId") or "").strip()
    if not server_id:
        raise InvalidParameter(name, "ServerId is required for every server.")
    server_type = str(item.get("Type") or "ecs").lower()
    if server_type not in SERVER_TYPES:
        raise InvalidParameter(name, "Type must be one of ecs, eni, eci.")
    server_ip = str(item.get("ServerIp") or "")
    if server_type in ("eni", "eci") and not server_ip:
        raise InvalidParameter(
            name, f"ServerIp is required for a {server_type} server."
        )
    server: dict[str, Any] = {"ServerId": server_id, "Type": server_type}
    if with_port:
        if item.get("Port") in (None, ""):
            raise InvalidParameter(name, "Port is required for every server.")
        server["Port"] = as_int("Port", item["Port"], minimum=1, maximum=65535)
    server["Weight"] = _weight(item.get("Weight", 100))
    server["ServerIp"] = server_ip
    description = str(item.get("Description") or "")
    if description and not _DESCRIPTION.fullmatch(description):
        raise InvalidParameter(
            name,
            "Description must be 1-80 letters, digits, spaces or - / . _ characters.",
        )
    server["Description"] = description
    return server


def _weight(value: Any) -> int:
    try:
        return as_int("Weight", value, minimum=0, maximum=100)
    except ApiError:
        raise ApiError(
            "InvalidWeight.Malformed",
            f'The specified Weight "{value}" is not valid; use 0 to 100.',
        ) from None


def server_identity(server: dict[str, Any]) -> tuple[str, int, str]:
    return (
        server["ServerId"],
        int(server.get("Port") or 0),
        server.get("ServerIp", ""),
    )


def matches(member: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether ``wanted`` names ``member``; a missing ServerIp matches any."""
    if member["ServerId"] != wanted["ServerId"]:
        return False
    if "Port" in wanted and int(member.get("Port") or 0) != wanted["Port"]:
        return False
    return not wanted.get("ServerIp") or wanted["ServerIp"] == member.get("ServerIp")


def reject_duplicates(servers: list[dict[str, Any]], name: str) -> None:
    seen: set[tuple[str, int, str]] = set()
    for server in servers:
        identity = server_identity(server)
        if identity in seen:
            raise InvalidParameter(
                name, f"The server {server['ServerId']} is listed more than once."
            )
        seen.add(identity)


class BackendServerQuotaExceeded(ApiError):
    code = "InstanceBackendServerNumberOverLimit"

    def __init__(self, lb_id: str, count: int, quota: int) -> None:
        super().__init__(
            message=f"The backend servers of load balancer {lb_id} would number "
            f"{count}, over its quota of {quota} (backendservers-per-slb)."
        )


def attached_servers(
    store: Store,
    lb_id: str,
    default_members: list[dict[str, Any]],
    replacing: tuple[str, list[dict[str, Any]]] | None = None,
) -> set[tuple[str, str]]:
    """Distinct servers on a load balancer: (ServerId, ServerIp), any port.

    Counted across the default group (keyed by the load balancer id), the
    VServer groups and the master-slave groups; ``replacing`` puts one
    group's proposed members in place of its stored ones (or adds a group
    about to be created).
    """
    groups: dict[str, list[dict[str, Any]]] = {lb_id: default_members}
    for group in vserver_groups_of(store, lb_id):
        groups[group.vserver_group_id] = group.backend_servers
    for ms in master_slave_groups_of(store, lb_id):
        groups[ms.master_slave_server_group_id] = ms.backend_servers
    if replacing is not None:
        groups[replacing[0]] = replacing[1]
    return {
        (member["ServerId"], member.get("ServerIp", ""))
        for members in groups.values()
        for member in members
    }


def check_backend_server_quota(
    store: Store,
    lb_id: str,
    default_members: list[dict[str, Any]],
    replacing: tuple[str, list[dict[str, Any]]],
) -> None:
    """Refuse a change that takes the load balancer past its server quota.

    A change that does not grow the count passes even above the quota (after
    the quota was lowered), so that a load balancer over it can still shrink
    or swap servers.
    """
    after = len(attached_servers(store, lb_id, default_members, replacing))
    quota = store.backend_server_quota
    if after <= quota:
        return
    if after > len(attached_servers(store, lb_id, default_members)):
        raise BackendServerQuotaExceeded(lb_id, after, quota)


def check_servers_exist(store: Store, servers: list[dict[str, Any]]) -> None:
    """The cloud refuses servers that are not running (see state.ecs)."""
    from slbsync.emulator.state import ecs

    for server in servers:
        ecs.check_backend_server(store, server["ServerId"], server["Type"])


def parse_servers(
    ctx: ActionContext,
    name: str,
    *,
    with_port: bool,
    check_exist: bool,
    required: bool = True,
) -> list[dict[str, Any]] | None:
    """Read, validate and (for additions) check the servers in ``name``."""
    raw = read_backend_servers(ctx, name, required=required)
    if raw is None:
        return None
    servers = [normalize_server(item, with_port=with_port, name=name) for item in raw]
    reject_duplicates(servers, name)
    if check_exist:
        check_servers_exist(ctx.store, servers)
    return servers


def server_body(server: dict[str, Any], *, keys: tuple[str, ...]) -> dict[str, Any]:
    """A member as the SDK model of one action expects it (only ``keys``)."""
    return {key: server[key] for key in keys if key in server}


def delete_groups_of(store: Store, lb_id: str) -> None:
    """Cleanup for DeleteLoadBalancer: its groups and their tags go with it."""
    from slbsync.emulator.state import tags

    for group in vserver_groups_of(store, lb_id):
        tags.remove_all_tags(store, "vservergroup", group.vserver_group_id)
        vserver_groups(store).pop(group.vserver_group_id, None)
    for ms in master_slave_groups_of(store, lb_id):
        tags.remove_all_tags(
            store, "masterslaveservergroup", ms.master_slave_server_group_id
        )
        master_slave_groups(store).pop(ms.master_slave_server_group_id, None)
