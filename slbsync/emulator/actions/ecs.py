"""ECS ``DescribeInstances`` (API version 2014-05-26), over seeded instances.

API reference: https://api.aliyun.com/document/Ecs/2014-05-26/DescribeInstances
Filters emulated: InstanceIds, Tag.N, Status, VpcId, VSwitchId, ZoneId,
InstanceName, PrivateIpAddresses; paging by PageNumber/PageSize or by
NextToken/MaxResults. Not emulated: the other filters the API defines
(they are refused, see ``not_emulated``).
"""

from __future__ import annotations

import time
from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter
from slbsync.emulator.registry import ECS_VERSION, ActionContext, action
from slbsync.emulator.state.ecs import STATUSES, InstanceRecord, instances

Body = dict[str, Any]
_NOT_EMULATED = (
    "ImageId",
    "InstanceType",
    "InstanceTypeFamily",
    "SecurityGroupId",
    "EipAddresses",
    "PublicIpAddresses",
    "InnerIpAddresses",
    "RdmaIpAddresses",
    "KeyPairName",
    "HpcClusterId",
    "LockReason",
    "ResourceGroupId",
    "DeviceAvailable",
    "IoOptimized",
    "NeedSaleCycle",
    "AdditionalAttributes",
    "InstanceChargeType",
    "InternetChargeType",
    "InstanceNetworkType",
    "DryRun",
)


def _json_list(ctx: ActionContext, name: str, limit: int) -> list[str] | None:
    value = ctx.params.json(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidParameter(name, f"Use a JSON list of at most {limit} items.")
    return [str(item) for item in value]


@action("DescribeInstances", version=ECS_VERSION, not_emulated=_NOT_EMULATED)
def describe_instances(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Ecs/2014-05-26/DescribeInstances"""
    params = ctx.params
    ids = _json_list(ctx, "InstanceIds", 100)
    private_ips = _json_list(ctx, "PrivateIpAddresses", 100)
    status = params.str("Status", choices=STATUSES)
    wanted_tags = [
        (item.get("Key", ""), item.get("Value"))
        for item in params.indexed_objects("Tag")
    ]
    if len(wanted_tags) > 20:
        raise InvalidParameter("Tag.N", "At most 20 tags are allowed.")
    equal = {
        "vpc_id": params.str("VpcId"),
        "vswitch_id": params.str("VSwitchId"),
        "zone_id": params.str("ZoneId"),
        "instance_name": params.str("InstanceName"),
        "status": status,
    }
    found = [
        record
        for record in sorted(instances(ctx.store).values(), key=lambda r: r.instance_id)
        if record.region_id == ctx.region_id
        and (ids is None or record.instance_id in ids)
        and (private_ips is None or record.private_ip in private_ips)
        and all(v is None or getattr(record, k) == v for k, v in equal.items())
        and _has_tags(record, wanted_tags)
    ]
    if "NextToken" in params or "MaxResults" in params:
        return _token_page(ctx, found)
    page_number = params.int("PageNumber", default=1, minimum=1, maximum=10**6) or 1
    page_size = params.int("PageSize", default=10, minimum=1, maximum=100) or 10
    start = (page_number - 1) * page_size
    return {
        "TotalCount": len(found),
        "PageNumber": page_number,
        "PageSize": page_size,
        "NextToken": "",
        "Instances": {
            "Instance": [_instance_body(r) for r in found[start : start + page_size]]
        },
    }


def _token_page(ctx: ActionContext, found: list[InstanceRecord]) -> Body:
    max_results = ctx.params.int("MaxResults", default=10, minimum=1, maximum=100) or 10
    token = ctx.params.str("NextToken")
    start = 0
    if token:
        if not token.isdigit():
            raise ApiError(
                "InvalidNextToken.Malformed", "The specified NextToken is not valid."
            )
        start = int(token)
    end = start + max_results
    return {
        "TotalCount": len(found),
        "NextToken": str(end) if end < len(found) else "",
        "Instances": {"Instance": [_instance_body(r) for r in found[start:end]]},
    }


def _has_tags(record: InstanceRecord, wanted: list[tuple[str, str | None]]) -> bool:
    held = dict((key, value) for key, value in record.tags)
    return all(
        key in held and (value is None or held[key] == value) for key, value in wanted
    )


def _instance_body(record: InstanceRecord) -> Body:
    in_vpc = bool(record.vpc_id)
    return {
        "InstanceId": record.instance_id,
        "InstanceName": record.instance_name,
        "HostName": record.instance_name,
        "Status": record.status,
        "RegionId": record.region_id,
        "ZoneId": record.zone_id,
        "InstanceNetworkType": "vpc" if in_vpc else "classic",
        "CreationTime": time.strftime(
            "%Y-%m-%dT%H:%MZ", time.gmtime(record.create_time)
        ),
        "VpcAttributes": {
            "VpcId": record.vpc_id,
            "VSwitchId": record.vswitch_id,
            "PrivateIpAddress": {"IpAddress": [record.private_ip] if in_vpc else []},
        },
        "InnerIpAddress": {"IpAddress": [] if in_vpc else [record.private_ip]},
        "PublicIpAddress": {"IpAddress": []},
        "Tags": {
            "Tag": [{"TagKey": key, "TagValue": value} for key, value in record.tags]
        },
    }
