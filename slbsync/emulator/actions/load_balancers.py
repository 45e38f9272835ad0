"""Load balancer instances: create, delete, describe, and their settings.

API reference: https://api.aliyun.com/document/Slb/2014-05-15/CreateLoadBalancer
(and the pages of the other actions, same path with the action's name).
Subscription billing (``PayType=PrePay`` with ``Duration``/``PricingCycle``)
is not emulated: no orders exist, so no ``OrderId`` is ever returned.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from typing import Any

from slbsync.emulator.actions.regions import zones_of
from slbsync.emulator.errors import ApiError, InvalidParameter, NotEmulated
from slbsync.emulator.params import Params
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import tags
from slbsync.emulator.state.load_balancers import (
    LoadBalancerRecord,
    address_in_use,
    delete_load_balancer,
    find_by_client_token,
    get_load_balancer,
    load_balancers,
)

Body = dict[str, Any]

SPECS = (
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
    "slb.s4.large",
)
CLCU_SPEC = "slb.lcu.elastic"
NAME_PATTERN = r"[A-Za-z\u4e00-\u9fa5][\w.\-\u4e00-\u9fa5]{0,79}"
REASON_PATTERN = r"[A-Za-z\u4e00-\u9fa5][\w.\-\u4e00-\u9fa5 ]{0,79}"
DEFAULT_RESOURCE_GROUP = "rg-acfmslbsyncdefault"
# Pay-as-you-go instances report this end time (year 2999).
PAY_ON_DEMAND_END = ("2999-09-08T16:00:00Z", 32493801600000)
# Parameters that carry the request's signature or routing, not its meaning:
# left out when comparing two creates with the same ClientToken.
_NOT_FINGERPRINTED = frozenset(
    {
        "AccessKeyId",
        "Action",
        "ClientToken",
        "Format",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
        "SecurityToken",
    }
)
_MAX_FILTER_IDS = 10


class DeleteProtected(ApiError):
    """Our code for a refused delete; the cloud's own is not documented."""

    code = "OperationDenied.DeleteProtection"
    status = 400

    def __init__(self, lb_id: str) -> None:
        super().__init__(
            message=f"The load balancer {lb_id} has delete protection on; turn it "
            "off with SetLoadBalancerDeleteProtection before deleting it."
        )


def format_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@action(
    "CreateLoadBalancer",
    writes=True,
    not_emulated=("Duration", "PricingCycle"),
)
def create_load_balancer(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/CreateLoadBalancer

    Not emulated: PayType=PrePay, Duration, PricingCycle (subscriptions).
    """
    params = ctx.params
    token = params.str("ClientToken", max_length=64)
    if token:
        earlier = find_by_client_token(ctx.store, token)
        if earlier is not None:
            if earlier.client_token_fingerprint != _fingerprint(params):
                raise ApiError(
                    "IdempotentParameterMismatch",
                    "The request uses the same client token as a previous, but "
                    "non-identical request.",
                )
            return _created_body(earlier)

    record = _new_load_balancer(ctx)
    pairs = params.tags()
    tags.check_tags(pairs)
    region_count = sum(
        1 for lb in load_balancers(ctx.store).values() if lb.region_id == ctx.region_id
    )
    quota = ctx.store.load_balancer_quota
    if region_count >= quota:
        raise ApiError(
            "OverQuota",
            f"The number of load balancers in {ctx.region_id} would exceed the "
            f"quota of {quota}.",
        )

    record.load_balancer_id = ctx.store.new_id("load-balancer", "lb-")
    record.client_token = token or ""
    record.client_token_fingerprint = _fingerprint(params) if token else ""
    load_balancers(ctx.store)[record.load_balancer_id] = record
    tags.set_tags(ctx.store, "instance", record.load_balancer_id, pairs)
    return _created_body(record)


def _fingerprint(params: Params) -> str:
    items = sorted(
        (name, params.raw(name) or "")
        for name in params.names()
        if name not in _NOT_FINGERPRINTED
    )
    return hashlib.sha256(repr(items).encode()).hexdigest()


def _new_load_balancer(ctx: ActionContext) -> LoadBalancerRecord:
    """A record from the create parameters, validated; not stored yet."""
    params = ctx.params
    vswitch_id = params.str("VSwitchId")
    vpc_id = params.str("VpcId") or (f"vpc-{vswitch_id[4:]}" if vswitch_id else "")
    address_type = params.str(
        "AddressType",
        default="intranet" if vswitch_id else "internet",
        choices=("internet", "intranet"),
    )
    record = LoadBalancerRecord(
        load_balancer_id="",
        name=params.str("LoadBalancerName", pattern=NAME_PATTERN)
        or f"auto_named_slb{ctx.store.counters.get('load-balancer', 0) + 1}",
        region_id=ctx.region_id,
        address="",
        address_type=address_type or "internet",
        address_ip_version=params.str(
            "AddressIPVersion", default="ipv4", choices=("ipv4", "ipv6")
        )
        or "ipv4",
        network_type="vpc" if vswitch_id else "classic",
        vpc_id=vpc_id,
        vswitch_id=vswitch_id or "",
        resource_group_id=params.str("ResourceGroupId", pattern=r"rg-[\w-]{1,60}")
        or DEFAULT_RESOURCE_GROUP,
        create_time=ctx.now,
    )
    _set_billing(record, params)
    _set_zones(record, ctx)
    _set_protection(record, params)
    record.address = _address(ctx, record)
    return record


def _set_billing(record: LoadBalancerRecord, params: Params) -> None:
    pay_type = params.str(
        "PayType", default="PayOnDemand", choices=("PayOnDemand", "PrePay")
    )
    if pay_type == "PrePay":
        raise NotEmulated("PayType=PrePay (subscription billing)")
    params.bool("AutoPay")  # accepted: no orders exist to pay
    record.instance_charge_type = (
        params.str(
            "InstanceChargeType",
            default="PayBySpec",
            choices=("PayBySpec", "PayByCLCU"),
        )
        or "PayBySpec"
    )
    charge = _internet_charge_type(params) or "paybytraffic"
    spec = params.str("LoadBalancerSpec", choices=SPECS)
    if record.instance_charge_type == "PayByCLCU":
        if charge != "paybytraffic":
            raise ApiError(
                "InvalidParameter",
                "A PayByCLCU load balancer can only be billed paybytraffic.",
            )
        spec = CLCU_SPEC
    _check_charge_for_address(record.address_type, charge)
    record.internet_charge_type = charge
    record.spec = spec or "slb.s1.small"
    bandwidth = params.int("Bandwidth", minimum=1, maximum=5120)
    record.bandwidth = (bandwidth or 1) if charge == "paybybandwidth" else 5120


def _internet_charge_type(params: Params) -> str | None:
    value = params.str("InternetChargeType")
    if value is None:
        return None
    lowered = value.lower()
    if lowered not in ("paybytraffic", "paybybandwidth"):
        raise InvalidParameter(
            "InternetChargeType", "Valid values: paybytraffic, paybybandwidth."
        )
    return lowered


def _check_charge_for_address(address_type: str, charge: str) -> None:
    if address_type == "intranet" and charge == "paybybandwidth":
        raise ApiError(
            "ActionNotAllowed",
            "An intranet load balancer cannot be billed paybybandwidth.",
        )


def _set_zones(record: LoadBalancerRecord, ctx: ActionContext) -> None:
    zones = zones_of(ctx.region_id)
    known = [zone for zone, _ in zones]
    master = ctx.params.str("MasterZoneId")
    slave = ctx.params.str("SlaveZoneId")
    for name, zone in (("MasterZoneId", master), ("SlaveZoneId", slave)):
        if zone is not None and zone not in known:
            raise ApiError(
                "InvalidParameter",
                f"The specified {name} {zone} does not exist in {ctx.region_id}.",
            )
    if master is not None and master == slave:
        raise ApiError("InvalidParameter", "SlaveZoneId must differ from MasterZoneId.")
    record.master_zone_id = master or (known[0] if known else "")
    default_slave = next((zone for zone in known if zone != record.master_zone_id), "")
    record.slave_zone_id = slave or default_slave


def _set_protection(record: LoadBalancerRecord, params: Params) -> None:
    record.delete_protection = params.switch("DeleteProtection", default="off") or "off"
    record.modification_protection_status = (
        params.str(
            "ModificationProtectionStatus",
            default="NonProtection",
            choices=("NonProtection", "ConsoleProtection"),
        )
        or "NonProtection"
    )
    reason = params.str("ModificationProtectionReason", pattern=REASON_PATTERN)
    if record.modification_protection_status == "ConsoleProtection":
        record.modification_protection_reason = reason or ""


def _address(ctx: ActionContext, record: LoadBalancerRecord) -> str:
    requested = ctx.params.str("Address")
    if requested is None:
        return _allocate_address(ctx, record)
    if record.address_type != "intranet":
        raise ApiError(
            "InvalidParameter", "Address can only be chosen for an intranet instance."
        )
    try:
        ipaddress.ip_address(requested)
    except ValueError:
        raise InvalidParameter(
            "Address", f"{requested} is not an IP address."
        ) from None
    if address_in_use(ctx.store, requested):
        raise ApiError("InvalidParameter", "The vpc Ip is exist.")
    return requested


def _allocate_address(ctx: ActionContext, record: LoadBalancerRecord) -> str:
    number = ctx.store.next_number(f"address-{record.address_type}")
    high, low = divmod(number, 250)
    if record.address_ip_version == "ipv6":
        return f"2408:4000:{high:x}::{low + 1:x}"
    if record.address_type == "internet":
        return f"47.96.{high % 250}.{low + 1}"
    return f"172.16.{high % 250}.{low + 1}"


def _created_body(record: LoadBalancerRecord) -> Body:
    return {
        "LoadBalancerId": record.load_balancer_id,
        "Address": record.address,
        "AddressIPVersion": record.address_ip_version,
        "LoadBalancerName": record.name,
        "NetworkType": record.network_type,
        "VpcId": record.vpc_id,
        "VSwitchId": record.vswitch_id,
        "ResourceGroupId": record.resource_group_id,
    }


@action("DeleteLoadBalancer", writes=True)
def delete_load_balancer_action(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/DeleteLoadBalancer

    A delete-protected instance is refused with OperationDenied.DeleteProtection
    (our choice: the cloud's code is not documented).
    """
    record = get_load_balancer(
        ctx.store, ctx.params.str("LoadBalancerId"), for_write=True
    )
    if record.delete_protection == "on":
        raise DeleteProtected(record.load_balancer_id)
    delete_load_balancer(ctx.store, record.load_balancer_id)
    _drop_orphaned_tags(ctx, record.load_balancer_id)
    return {}


def _drop_orphaned_tags(ctx: ActionContext, lb_id: str) -> None:
    """Tags of the instance and of the children the cleanup hooks removed."""
    from slbsync.emulator.state.server_groups import (
        master_slave_groups,
        vserver_groups,
    )

    store = ctx.store
    tags.remove_all_tags(store, "instance", lb_id)
    tags.remove_tags_where(store, "listener", lambda rid: rid.startswith(f"{lb_id}_"))
    groups = vserver_groups(store)
    tags.remove_tags_where(store, "vservergroup", lambda rid: rid not in groups)
    pairs = master_slave_groups(store)
    tags.remove_tags_where(
        store, "masterslaveservergroup", lambda rid: rid not in pairs
    )


@action("DescribeLoadBalancers", not_emulated=("ServerIntranetAddress",))
def describe_load_balancers(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/DescribeLoadBalancers

    Not emulated: ServerIntranetAddress. The default PageSize is 10.
    """
    params = ctx.params
    page_number = params.int("PageNumber", default=1, minimum=1, maximum=10**6) or 1
    page_size = params.int("PageSize", default=10, minimum=1, maximum=100) or 10
    matches = _filtered(ctx)
    start = (page_number - 1) * page_size
    page = matches[start : start + page_size]
    return {
        "TotalCount": len(matches),
        "PageNumber": page_number,
        "PageSize": page_size,
        "LoadBalancers": {"LoadBalancer": [summary(ctx, record) for record in page]},
    }


def _filtered(ctx: ActionContext) -> list[LoadBalancerRecord]:
    params = ctx.params
    ids = _comma_list(params, "LoadBalancerId")
    names = _comma_list(params, "LoadBalancerName")
    wanted_tags = _tag_filters(params)
    equal = {
        "address": params.str("Address"),
        "address_type": params.str("AddressType", choices=("internet", "intranet")),
        "address_ip_version": params.str("AddressIPVersion", choices=("ipv4", "ipv6")),
        "internet_charge_type": _internet_charge_type(params),
        "status": params.str(
            "LoadBalancerStatus", choices=("active", "inactive", "locked")
        ),
        "master_zone_id": params.str("MasterZoneId"),
        "slave_zone_id": params.str("SlaveZoneId"),
        "network_type": params.str("NetworkType", choices=("vpc", "classic")),
        "pay_type": params.str("PayType", choices=("PayOnDemand", "PrePay")),
        "resource_group_id": params.str("ResourceGroupId"),
        "vpc_id": params.str("VpcId"),
        "vswitch_id": params.str("VSwitchId"),
    }
    active = [(name, value) for name, value in equal.items() if value is not None]
    server_id = params.str("ServerId")
    found = []
    for record in load_balancers(ctx.store).values():
        if record.region_id != ctx.region_id:
            continue
        if ids is not None and record.load_balancer_id not in ids:
            continue
        if names is not None and record.name not in names:
            continue
        if any(getattr(record, name) != value for name, value in active):
            continue
        if server_id and not _has_server(ctx, record, server_id):
            continue
        if wanted_tags and not tags.has_tags(
            ctx.store, "instance", record.load_balancer_id, wanted_tags
        ):
            continue
        found.append(record)
    return sorted(found, key=lambda r: (r.create_time, r.load_balancer_id))


def _has_server(ctx: ActionContext, record: LoadBalancerRecord, server_id: str) -> bool:
    """Whether the server sits in the default group or any VServer group."""
    from slbsync.emulator.state.server_groups import vserver_groups_of

    members = list(record.backend_servers)
    for group in vserver_groups_of(ctx.store, record.load_balancer_id):
        members += group.backend_servers
    return any(member["ServerId"] == server_id for member in members)


def _comma_list(params: Params, name: str) -> set[str] | None:
    value = params.str(name)
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if len(items) > _MAX_FILTER_IDS:
        raise InvalidParameter(name, f"At most {_MAX_FILTER_IDS} values are allowed.")
    return set(items)


def _tag_filters(params: Params) -> list[tuple[str, str | None]]:
    """Tag.N.Key/Value (up to 20) and the Tags JSON (up to 10), together."""
    wanted: list[tuple[str, str | None]] = []
    indexed = params.indexed_objects("Tag")
    if len(indexed) > 20:
        raise InvalidParameter("Tag", "At most 20 tags are allowed.")
    for item in indexed:
        key = item.get("Key") or item.get("key")
        if not key:
            raise InvalidParameter("Tag.N.Key", "A tag key is required.")
        wanted.append((key, item.get("Value", item.get("value"))))
    json_tags = params.json("Tags")
    if json_tags is not None:
        if isinstance(json_tags, dict):
            json_tags = [json_tags]
        if not isinstance(json_tags, list) or len(json_tags) > 10:
            raise InvalidParameter(
                "Tags", 'Use [{"TagKey":"k","TagValue":"v"}], at most 10.'
            )
        for item in json_tags:
            if not isinstance(item, dict) or not item.get("TagKey"):
                raise InvalidParameter("Tags", "Each tag needs a TagKey.")
            value = item.get("TagValue")
            wanted.append((str(item["TagKey"]), None if value is None else str(value)))
    return wanted


def summary(ctx: ActionContext, record: LoadBalancerRecord) -> Body:
    """The fields DescribeLoadBalancers and DescribeLoadBalancerAttribute share."""
    return {
        "LoadBalancerId": record.load_balancer_id,
        "LoadBalancerName": record.name,
        "LoadBalancerStatus": record.status,
        "Address": record.address,
        "AddressType": record.address_type,
        "AddressIPVersion": record.address_ip_version,
        "NetworkType": record.network_type,
        "VpcId": record.vpc_id,
        "VSwitchId": record.vswitch_id,
        "MasterZoneId": record.master_zone_id,
        "SlaveZoneId": record.slave_zone_id,
        "LoadBalancerSpec": record.spec,
        "Bandwidth": record.bandwidth,
        "InternetChargeType": record.internet_charge_type,
        "InternetChargeTypeAlias": record.internet_charge_type,
        "InstanceChargeType": record.instance_charge_type,
        "PayType": record.pay_type,
        "RegionId": record.region_id,
        "RegionIdAlias": record.region_id,
        "ResourceGroupId": record.resource_group_id,
        "CreateTime": format_time(record.create_time),
        "CreateTimeStamp": int(record.create_time * 1000),
        "DeleteProtection": record.delete_protection,
        "ModificationProtectionStatus": record.modification_protection_status,
        "ModificationProtectionReason": record.modification_protection_reason,
        "Tags": tags.tags_body(
            tags.tags_of(ctx.store, "instance", record.load_balancer_id)
        ),
    }


@action("DescribeLoadBalancerAttribute")
def describe_load_balancer_attribute(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/DescribeLoadBalancerAttribute"""
    from slbsync.emulator.state.listeners import listeners_of

    record = get_load_balancer(ctx.store, ctx.params.str("LoadBalancerId"))
    listeners = listeners_of(ctx.store, record.load_balancer_id)
    body = summary(ctx, record)
    body.pop("InternetChargeTypeAlias")
    end_time, end_stamp = PAY_ON_DEMAND_END
    body.update(
        EndTime=end_time,
        EndTimeStamp=end_stamp,
        ListenerPorts={"ListenerPort": sorted({item.port for item in listeners})},
        ListenerPortsAndProtocol={
            "ListenerPortAndProtocol": [_port_and_protocol(item) for item in listeners]
        },
        ListenerPortsAndProtocal={
            "ListenerPortAndProtocal": [
                {"ListenerPort": item.port, "ListenerProtocal": item.protocol}
                for item in listeners
            ]
        },
        BackendServers={
            "BackendServer": [
                {
                    "ServerId": server["ServerId"],
                    "Weight": int(server.get("Weight", 100)),
                    "Type": server.get("Type", "ecs"),
                    "ServerIp": server.get("ServerIp", ""),
                    "Description": server.get("Description", ""),
                }
                for server in record.backend_servers
            ]
        },
    )
    return body


def _port_and_protocol(listener: Any) -> Body:
    item: Body = {
        "ListenerPort": listener.port,
        "ListenerProtocol": listener.protocol,
        "Description": listener.description,
    }
    if listener.protocol == "http":
        item["ListenerForward"] = listener.listener_forward
        if listener.forward_port is not None:
            item["ForwardPort"] = listener.forward_port
    return item


@action("SetLoadBalancerName", writes=True)
def set_load_balancer_name(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/SetLoadBalancerName"""
    name = ctx.params.require("LoadBalancerName", pattern=NAME_PATTERN)
    record = _writable(ctx)
    record.name = name
    return {}


@action("SetLoadBalancerStatus", writes=True)
def set_load_balancer_status(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/SetLoadBalancerStatus"""
    status = ctx.params.require("LoadBalancerStatus", choices=("active", "inactive"))
    record = _writable(ctx)
    record.status = status
    return {}


@action("SetLoadBalancerDeleteProtection", writes=True)
def set_load_balancer_delete_protection(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/SetLoadBalancerDeleteProtection"""
    protection = ctx.params.switch("DeleteProtection", required=True)
    record = _writable(ctx)
    record.delete_protection = protection or "off"
    return {}


@action("SetLoadBalancerModificationProtection", writes=True)
def set_load_balancer_modification_protection(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/SetLoadBalancerModificationProtection

    ConsoleProtection blocks console edits only, so no API call is refused.
    """
    status = ctx.params.require(
        "ModificationProtectionStatus", choices=("NonProtection", "ConsoleProtection")
    )
    reason = ctx.params.str("ModificationProtectionReason", pattern=REASON_PATTERN)
    record = _writable(ctx)
    record.modification_protection_status = status
    record.modification_protection_reason = (
        (reason or "") if status == "ConsoleProtection" else ""
    )
    return {}


@action("ModifyLoadBalancerInstanceSpec", writes=True)
def modify_load_balancer_instance_spec(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/ModifyLoadBalancerInstanceSpec"""
    spec = ctx.params.require("LoadBalancerSpec", choices=SPECS)
    ctx.params.bool("AutoPay")
    record = _writable(ctx)
    if record.instance_charge_type == "PayByCLCU":
        raise ApiError(
            "Operation.NotAllowed",
            "The load balancer is billed PayByCLCU; its spec cannot be changed.",
        )
    record.spec = spec
    return {}


@action("ModifyLoadBalancerInternetSpec", writes=True)
def modify_load_balancer_internet_spec(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/ModifyLoadBalancerInternetSpec"""
    charge = _internet_charge_type(ctx.params)
    bandwidth = ctx.params.int("Bandwidth", minimum=1, maximum=5000)
    ctx.params.bool("AutoPay")
    record = _writable(ctx)
    charge = charge or record.internet_charge_type
    _check_charge_for_address(record.address_type, charge)
    if record.instance_charge_type == "PayByCLCU" and charge != "paybytraffic":
        raise ApiError(
            "InvalidParameter",
            "A PayByCLCU load balancer can only be billed paybytraffic.",
        )
    was_by_bandwidth = record.internet_charge_type == "paybybandwidth"
    record.internet_charge_type = charge
    if charge == "paybybandwidth":
        record.bandwidth = bandwidth or (record.bandwidth if was_by_bandwidth else 1)
    else:
        record.bandwidth = 5120
    return {}


@action("ModifyLoadBalancerInstanceChargeType", writes=True)
def modify_load_balancer_instance_charge_type(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/ModifyLoadBalancerInstanceChargeType"""
    params = ctx.params
    charge_type = params.require(
        "InstanceChargeType", choices=("PayBySpec", "PayByCLCU")
    )
    internet = _internet_charge_type(params)
    spec = params.str("LoadBalancerSpec", choices=SPECS)
    params.int("Bandwidth", minimum=1, maximum=5120)
    record = _writable(ctx)
    if charge_type == "PayByCLCU":
        if (internet or record.internet_charge_type) != "paybytraffic":
            raise ApiError(
                "InvalidParameter",
                "Switching to PayByCLCU needs InternetChargeType paybytraffic.",
            )
        record.internet_charge_type = "paybytraffic"
        record.bandwidth = 5120
        record.spec = CLCU_SPEC
    elif record.instance_charge_type == "PayByCLCU":
        if spec is None:
            raise ApiError(
                "MissingParameter",
                "LoadBalancerSpec is required to switch from PayByCLCU to PayBySpec.",
            )
        record.spec = spec
    record.instance_charge_type = charge_type
    return {}


@action(
    "ModifyLoadBalancerPayType",
    writes=True,
    not_emulated=("Duration", "PricingCycle"),
)
def modify_load_balancer_pay_type(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/ModifyLoadBalancerPayType

    Not emulated: the switch to PrePay (subscriptions), Duration, PricingCycle.
    """
    pay_type = ctx.params.require("PayType", choices=("PayOnDemand", "PrePay"))
    record = _writable(ctx)
    if pay_type == "PrePay":
        raise NotEmulated("PayType=PrePay (subscription billing)")
    raise ApiError(
        "Operation.NotAllowed",
        f"The load balancer {record.load_balancer_id} is already PayOnDemand.",
    )


@action("MoveResourceGroup", writes=True)
def move_resource_group(ctx: ActionContext) -> Body:
    """https://api.aliyun.com/document/Slb/2014-05-15/MoveResourceGroup"""
    params = ctx.params
    resource_type = params.require(
        "ResourceType", choices=("loadbalancer", "certificate", "acl")
    )
    resource_id = params.require("ResourceId")
    group = params.require("NewResourceGroupId", pattern=r"rg-[\w-]{1,60}")
    record = _resource_with_group(ctx, resource_type, resource_id)
    record.resource_group_id = group
    return {}


def _resource_with_group(
    ctx: ActionContext, resource_type: str, resource_id: str
) -> Any:
    if resource_type == "loadbalancer":
        return get_load_balancer(ctx.store, resource_id, for_write=True)
    if resource_type == "acl":
        from slbsync.emulator.state.acls import get_acl

        return get_acl(ctx.store, resource_id)
    from slbsync.emulator.state.certificates import get_server_certificate

    return get_server_certificate(ctx.store, resource_id)


def _writable(ctx: ActionContext) -> LoadBalancerRecord:
    return get_load_balancer(
        ctx.store, ctx.params.str("LoadBalancerId"), for_write=True
    )
