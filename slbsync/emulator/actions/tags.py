"""Tags: TagResources, UntagResources, ListTagResources and the legacy
AddTags, RemoveTags and DescribeTags of load balancers.

API reference: https://api.aliyun.com/document/Slb/2014-05-15/TagResources
(and the pages of the other actions, same path with the action's name).
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import tags
from slbsync.emulator.state.load_balancers import get_load_balancer, load_balancers

Body = dict[str, Any]
MAX_RESOURCES_PER_CALL = 20
LIST_PAGE_SIZE = 50


def check_resource_exists(
    ctx: ActionContext, resource_type: str, resource_id: str
) -> None:
    """Raise the cloud's not-found error for a resource that is not there."""
    store = ctx.store
    if resource_type == "instance":
        get_load_balancer(store, resource_id)
    elif resource_type == "listener":
        from slbsync.emulator.state.listeners import get_listener

        lb_id, protocol, port = _listener_parts(resource_id)
        get_load_balancer(store, lb_id)
        get_listener(store, lb_id, protocol, port)
    elif resource_type == "vservergroup":
        from slbsync.emulator.state.server_groups import get_vserver_group

        get_vserver_group(store, resource_id)
    elif resource_type == "masterslaveservergroup":
        from slbsync.emulator.state.server_groups import get_master_slave_group

        get_master_slave_group(store, resource_id)
    elif resource_type == "acl":
        from slbsync.emulator.state.acls import get_acl

        get_acl(store, resource_id)
    elif resource_type == "certificate":
        _check_certificate(ctx, resource_id)


def _listener_parts(resource_id: str) -> tuple[str, str, int]:
    lb_id, _, rest = resource_id.partition("_")
    protocol, _, port = rest.partition("_")
    if protocol not in ("tcp", "udp", "http", "https") or not port.isdigit():
        raise InvalidParameter(
            "ResourceId", f"{resource_id}: a listener is <lbId>_<protocol>_<port>."
        )
    return lb_id, protocol, int(port)


def _check_certificate(ctx: ActionContext, resource_id: str) -> None:
    from slbsync.emulator.state.certificates import (
        get_ca_certificate,
        get_server_certificate,
    )

    try:
        get_server_certificate(ctx.store, resource_id)
    except ApiError:
        get_ca_certificate(ctx.store, resource_id)


def _resource_ids(ctx: ActionContext, *, required: bool) -> list[str]:
    ids = ctx.params.indexed("ResourceId")
    if required and not ids:
        raise MissingParameter("ResourceId.N")
    if len(ids) > MAX_RESOURCES_PER_CALL:
        raise InvalidParameter(
            "ResourceId.N", f"At most {MAX_RESOURCES_PER_CALL} resources per call."
        )
    return ids


def _resource_type(ctx: ActionContext) -> str:
    resource_type = ctx.params.require("ResourceType")
    tags.check_resource_type(resource_type)
    return resource_type


@action("TagResources", writes=True)
def tag_resources(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/TagResources"""
    resource_type = _resource_type(ctx)
    ids = _resource_ids(ctx, required=True)
    pairs = ctx.params.tags()
    if not pairs:
        raise MissingParameter("Tag.N.Key")
    tags.check_tags(pairs)
    # Check every resource first, so a refusal changes nothing.
    for resource_id in ids:
        check_resource_exists(ctx, resource_type, resource_id)
        held = dict(tags.tags_of(ctx.store, resource_type, resource_id))
        if len(held | dict(pairs)) > tags.MAX_TAGS_PER_RESOURCE:
            raise ApiError(
                "TagCountLimit",
                f"The resource {resource_id} would hold more than "
                f"{tags.MAX_TAGS_PER_RESOURCE} tags.",
            )
    for resource_id in ids:
        tags.set_tags(ctx.store, resource_type, resource_id, pairs)
    return {}


@action("UntagResources", writes=True)
def untag_resources(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/UntagResources

    With no TagKey.N, every tag is removed (``All`` only matters then, and
    the cloud removes everything whether it is true or not).
    """
    resource_type = _resource_type(ctx)
    ids = _resource_ids(ctx, required=True)
    keys = ctx.params.indexed("TagKey")
    if len(keys) > tags.MAX_TAGS_PER_RESOURCE:
        raise InvalidParameter("TagKey.N", "At most 20 tag keys per call.")
    ctx.params.bool("All")
    for resource_id in ids:
        check_resource_exists(ctx, resource_type, resource_id)
    for resource_id in ids:
        if keys:
            tags.remove_tags(ctx.store, resource_type, resource_id, keys)
        else:
            tags.remove_all_tags(ctx.store, resource_type, resource_id)
    return {}


@action("ListTagResources")
def list_tag_resources(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/ListTagResources

    Pages hold 50 resource-tag pairs; NextToken is empty on the last page.
    """
    resource_type = _resource_type(ctx)
    ids = _resource_ids(ctx, required=False)
    wanted = [(key, value) for key, value in _tag_filters(ctx)]
    if not ids and not wanted:
        raise MissingParameter("ResourceId.N")
    rows = [
        {
            "ResourceId": record.resource_id,
            "ResourceType": resource_type,
            "TagKey": key,
            "TagValue": value,
        }
        for record in tags.tagged_resources(ctx.store, resource_type)
        if (not ids or record.resource_id in ids)
        and tags.has_tags(ctx.store, resource_type, record.resource_id, wanted)
        for key, value in sorted(record.tags.items())
    ]
    start = _token_offset(ctx.params.str("NextToken"))
    page = rows[start : start + LIST_PAGE_SIZE]
    end = start + LIST_PAGE_SIZE
    return {
        "TagResources": {"TagResource": page},
        "NextToken": str(end) if end < len(rows) else "",
    }


def _tag_filters(ctx: ActionContext) -> list[tuple[str, str | None]]:
    wanted: list[tuple[str, str | None]] = []
    for item in ctx.params.indexed_objects("Tag"):
        key = item.get("Key") or item.get("key")
        if not key:
            raise InvalidParameter("Tag.N.Key", "A tag key is required.")
        wanted.append((key, item.get("Value", item.get("value"))))
    if len(wanted) > tags.MAX_TAGS_PER_RESOURCE:
        raise InvalidParameter("Tag.N", "At most 20 tags per call.")
    return wanted


def _token_offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InvalidParameter("NextToken", f"{token} is not a token we issued.")
    return int(token)


def _legacy_tags(ctx: ActionContext, *, required: bool) -> list[tuple[str, str]]:
    """The old API's ``Tags`` JSON: ``[{"TagKey": "k", "TagValue": "v"}]``."""
    value = ctx.params.json("Tags", required=required)
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or len(value) > 10:
        raise InvalidParameter(
            "Tags", 'Use [{"TagKey":"k","TagValue":"v"}], at most 10.'
        )
    pairs = []
    for item in value:
        if not isinstance(item, dict) or not item.get("TagKey"):
            raise InvalidParameter("Tags", "Each tag needs a TagKey.")
        pairs.append((str(item["TagKey"]), str(item.get("TagValue") or "")))
    return pairs


@action("AddTags", writes=True)
def add_tags(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/AddTags (legacy, LB only)"""
    pairs = _legacy_tags(ctx, required=True)
    record = get_load_balancer(ctx.store, ctx.params.str("LoadBalancerId"))
    tags.set_tags(ctx.store, "instance", record.load_balancer_id, pairs)
    return {}


@action("RemoveTags", writes=True)
def remove_tags(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/RemoveTags (legacy, LB only)

    A tag is removed when its key and value both match.
    """
    pairs = _legacy_tags(ctx, required=True)
    record = get_load_balancer(ctx.store, ctx.params.str("LoadBalancerId"))
    held = dict(tags.tags_of(ctx.store, "instance", record.load_balancer_id))
    keys = [key for key, value in pairs if held.get(key) == value]
    tags.remove_tags(ctx.store, "instance", record.load_balancer_id, keys)
    return {}


@action("DescribeTags")
def describe_tags(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/DescribeTags (legacy)

    ``DistinctKey=true`` groups by key alone (TagValue is then empty).
    """
    params = ctx.params
    page_number = params.int("PageNumber", default=1, minimum=1, maximum=10**6) or 1
    page_size = params.int("PageSize", default=50, minimum=1, maximum=100) or 50
    distinct = params.bool("DistinctKey", default=False)
    wanted = _legacy_tags(ctx, required=False)
    lb_ids = {
        item.strip()
        for item in (params.str("LoadBalancerId") or "").split(",")
        if item.strip()
    }
    counts: dict[tuple[str, str], int] = {}
    for lb_id, record in load_balancers(ctx.store).items():
        if record.region_id != ctx.region_id or (lb_ids and lb_id not in lb_ids):
            continue
        for key, value in tags.tags_of(ctx.store, "instance", lb_id):
            if wanted and (key, value) not in wanted:
                continue
            group = (key, "") if distinct else (key, value)
            counts[group] = counts.get(group, 0) + 1
    rows = [
        {"TagKey": key, "TagValue": value, "InstanceCount": count}
        for (key, value), count in sorted(counts.items())
    ]
    start = (page_number - 1) * page_size
    return {
        "TagSets": {"TagSet": rows[start : start + page_size]},
        "TotalCount": len(rows),
        "PageNumber": page_number,
        "PageSize": page_size,
    }
