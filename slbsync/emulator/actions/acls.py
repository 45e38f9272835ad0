"""Access control list actions: create, rename, delete, entries, describe.

Reference: https://www.alibabacloud.com/help/en/slb/classic-load-balancer/
developer-reference/api-slb-2014-05-15-createaccesscontrollist (and the
neighbouring pages for each action below).
"""

from __future__ import annotations

import re
import time
from typing import Any

from slbsync.emulator.actions.load_balancers import DEFAULT_RESOURCE_GROUP
from slbsync.emulator.errors import InvalidParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import acls as acl_state
from slbsync.emulator.state import listeners as listener_state
from slbsync.emulator.state import tags as tag_state
from slbsync.emulator.state.acls import AclRecord
from slbsync.emulator.state.store import Store

RESOURCE_GROUP = r"rg-[\w-]{1,60}"
TAG_TYPE = "acl"


def iso_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _acl_name(ctx: ActionContext) -> str:
    name = ctx.params.require("AclName")
    if not re.fullmatch(acl_state.NAME_PATTERN, name):
        raise InvalidParameter(
            "AclName",
            "Use 1 to 80 characters: letters, digits, periods (.), forward "
            "slashes (/), underscores (_) or hyphens (-).",
        )
    return name


def _acl(ctx: ActionContext) -> AclRecord:
    """The ACL named by ``AclId``; one of another region is not found."""
    acl = acl_state.get_acl(ctx.store, ctx.params.str("AclId"))
    if acl.region_id != ctx.region_id:
        raise acl_state.AclNotFound()
    return acl


def _page(ctx: ActionContext, number_name: str) -> tuple[int, int]:
    number = ctx.params.int(number_name, default=1, minimum=1, maximum=1_000_000)
    size = ctx.params.int("PageSize", default=10, minimum=1, maximum=50)
    assert number is not None and size is not None
    return number, size


@action("CreateAccessControlList", writes=True)
def create_access_control_list(ctx: ActionContext) -> dict[str, Any]:
    """Create an empty ACL; names are unique per region, 50 ACLs per region.

    https://api.aliyun.com/document/Slb/2014-05-15/CreateAccessControlList
    """
    params = ctx.params
    name = _acl_name(ctx)
    version = params.str(
        "AddressIPVersion", default="ipv4", choices=acl_state.IP_VERSIONS
    )
    assert version is not None
    pairs = params.tags()
    tag_state.check_tags(pairs)
    acl_state.check_name_free(ctx.store, ctx.region_id, name)
    if (
        len(acl_state.acls_in_region(ctx.store, ctx.region_id))
        >= acl_state.ACLS_PER_REGION
    ):
        raise acl_state.AclNumberOverLimit()

    record = AclRecord(
        acl_id=acl_state.new_acl_id(ctx.store),
        acl_name=name,
        region_id=ctx.region_id,
        address_ip_version=version,
        resource_group_id=params.str("ResourceGroupId", pattern=RESOURCE_GROUP)
        or DEFAULT_RESOURCE_GROUP,
        create_time=ctx.now,
    )
    acl_state.acls(ctx.store)[record.acl_id] = record
    if pairs:
        tag_state.set_tags(ctx.store, TAG_TYPE, record.acl_id, pairs)
    return {"AclId": record.acl_id}


@action("DeleteAccessControlList", writes=True)
def delete_access_control_list(ctx: ActionContext) -> dict[str, Any]:
    """Delete an ACL no listener uses.

    https://api.aliyun.com/document/Slb/2014-05-15/DeleteAccessControlList
    """
    acl = _acl(ctx)
    if listener_state.listeners_using_acl(ctx.store, acl.acl_id):
        raise acl_state.AclBoundToListener()
    del acl_state.acls(ctx.store)[acl.acl_id]
    tag_state.remove_all_tags(ctx.store, TAG_TYPE, acl.acl_id)
    return {}


@action("SetAccessControlListAttribute", writes=True)
def set_access_control_list_attribute(ctx: ActionContext) -> dict[str, Any]:
    """Rename an ACL.

    https://api.aliyun.com/document/Slb/2014-05-15/SetAccessControlListAttribute
    """
    acl = _acl(ctx)
    name = _acl_name(ctx)
    acl_state.check_name_free(ctx.store, acl.region_id, name, own_id=acl.acl_id)
    acl.acl_name = name
    return {}


@action("AddAccessControlListEntry", writes=True)
def add_access_control_list_entry(ctx: ActionContext) -> dict[str, Any]:
    """Add up to 50 CIDR entries; entries already present are skipped.

    https://api.aliyun.com/document/Slb/2014-05-15/AddAccessControlListEntry
    """
    acl = _acl(ctx)
    raw = ctx.params.json("AclEntrys", required=True)
    entries = acl_state.parse_entries(raw, acl.address_ip_version)
    acl_state.add_entries(acl, entries)
    return {}


@action("RemoveAccessControlListEntry", writes=True)
def remove_access_control_list_entry(ctx: ActionContext) -> dict[str, Any]:
    """Remove entries; absent ones are skipped, all absent is AclEntryEmpty.

    https://api.aliyun.com/document/Slb/2014-05-15/RemoveAccessControlListEntry
    """
    acl = _acl(ctx)
    raw = ctx.params.json("AclEntrys", required=True)
    entries = acl_state.parse_entries(raw, acl.address_ip_version, for_removal=True)
    acl_state.remove_entries(acl, entries)
    return {}


@action("DescribeAccessControlLists")
def describe_access_control_lists(ctx: ActionContext) -> dict[str, Any]:
    """The region's ACLs, filtered (name by substring) and paged (10, max 50).

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeAccessControlLists
    """
    params = ctx.params
    name_part = params.str("AclName")
    version = params.str("AddressIPVersion", choices=acl_state.IP_VERSIONS)
    group = params.str("ResourceGroupId")
    # A tag filter without a value matches any value of that key.
    wanted = [(key, value or None) for key, value in params.tags()]
    number, size = _page(ctx, "PageNumber")

    found = [
        acl
        for acl in acl_state.acls_in_region(ctx.store, ctx.region_id)
        if (name_part is None or name_part in acl.acl_name)
        and (version is None or acl.address_ip_version == version)
        and (group is None or acl.resource_group_id == group)
        and tag_state.has_tags(ctx.store, TAG_TYPE, acl.acl_id, wanted)
    ]
    page = found[(number - 1) * size : number * size]
    return {
        "Acls": {"Acl": [_summary(ctx.store, acl) for acl in page]},
        "TotalCount": len(found),
        "Count": len(page),
        "PageNumber": number,
        "PageSize": size,
    }


def _summary(store: Store, acl: AclRecord) -> dict[str, Any]:
    return {
        "AclId": acl.acl_id,
        "AclName": acl.acl_name,
        "AddressIPVersion": acl.address_ip_version,
        "CreateTime": iso_time(acl.create_time),
        "ResourceGroupId": acl.resource_group_id,
        "Tags": tag_state.tags_body(tag_state.tags_of(store, TAG_TYPE, acl.acl_id)),
    }


@action("DescribeAccessControlListAttribute")
def describe_access_control_list_attribute(ctx: ActionContext) -> dict[str, Any]:
    """One ACL with a page of its entries (10, max 50) and the listeners using it.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeAccessControlListAttribute
    """
    acl = _acl(ctx)
    comment = ctx.params.str("AclEntryComment")
    number, size = _page(ctx, "Page")

    entries = [
        item for item in acl.entries if comment is None or item["comment"] == comment
    ]
    page = entries[(number - 1) * size : number * size]
    related = [
        {
            "LoadBalancerId": listener.load_balancer_id,
            "ListenerPort": listener.port,
            "Protocol": listener.protocol,
            "AclType": listener.acl_type,
        }
        for listener in listener_state.listeners_using_acl(ctx.store, acl.acl_id)
    ]
    body = _summary(ctx.store, acl)
    body.update(
        {
            "AclEntrys": {
                "AclEntry": [
                    {"AclEntryIP": item["entry"], "AclEntryComment": item["comment"]}
                    for item in page
                ]
            },
            "TotalAclEntry": len(entries),
            "RelatedListeners": {"RelatedListener": related},
        }
    )
    return body
