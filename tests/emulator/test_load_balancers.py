"""Load balancer actions through the official SDK, in both signature modes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_slb20140515 import models

from tests.emulator.slb_helpers import call, refused

REGION = "cn-hangzhou"


def create(client: Any, **fields: Any) -> Any:
    return call(client, "CreateLoadBalancer", **{"region_id": REGION, **fields})


def describe(client: Any, **fields: Any) -> Any:
    return call(client, "DescribeLoadBalancers", **{"region_id": REGION, **fields})


def attribute(client: Any, lb_id: str) -> Any:
    return call(client, "DescribeLoadBalancerAttribute", load_balancer_id=lb_id)


def test_create_reports_the_cloud_defaults(client: Any) -> None:
    body = create(client, load_balancer_name="chat-gateway")

    assert body.load_balancer_id.startswith("lb-")
    assert len(body.load_balancer_id) == 25
    assert body.network_type == "classic"
    lb = attribute(client, body.load_balancer_id)
    assert lb.load_balancer_name == "chat-gateway"
    assert lb.load_balancer_status == "active"
    assert lb.address_type == "internet"
    assert lb.address == body.address
    assert lb.internet_charge_type == "paybytraffic"
    assert lb.instance_charge_type == "PayBySpec"
    assert lb.pay_type == "PayOnDemand"
    assert lb.delete_protection == "off"
    assert lb.modification_protection_status == "NonProtection"
    assert lb.master_zone_id == "cn-hangzhou-h"
    assert isinstance(lb.create_time_stamp, int)
    assert lb.listener_ports_and_protocol.listener_port_and_protocol == []
    assert lb.backend_servers.backend_server == []


def test_vswitch_makes_an_intranet_vpc_instance(client: Any) -> None:
    body = create(
        client, v_switch_id="vsw-abc", vpc_id="vpc-abc", address="192.168.0.7"
    )
    lb = attribute(client, body.load_balancer_id)
    assert (lb.address_type, lb.network_type, lb.vpc_id) == (
        "intranet",
        "vpc",
        "vpc-abc",
    )
    assert lb.address == "192.168.0.7"

    error = refused(
        client,
        "CreateLoadBalancer",
        region_id=REGION,
        v_switch_id="vsw-abc",
        address="192.168.0.7",
    )
    assert error.code == "InvalidParameter"
    assert "The vpc Ip is exist." in error.message


def test_pay_by_clcu_reports_the_elastic_spec(client: Any) -> None:
    body = create(client, instance_charge_type="PayByCLCU")
    assert attribute(client, body.load_balancer_id).load_balancer_spec == (
        "slb.lcu.elastic"
    )


def test_same_client_token_and_params_return_the_same_id(client: Any) -> None:
    first = create(client, load_balancer_name="a", client_token="token-1")
    again = create(client, load_balancer_name="a", client_token="token-1")
    assert again.load_balancer_id == first.load_balancer_id
    assert describe(client).total_count == 1


def test_same_client_token_with_other_params_is_a_mismatch(client: Any) -> None:
    create(client, load_balancer_name="a", client_token="token-1")
    error = refused(
        client,
        "CreateLoadBalancer",
        region_id=REGION,
        load_balancer_name="b",
        client_token="token-1",
    )
    assert error.code == "IdempotentParameterMismatch"
    assert error.status_code == 400
    assert "same client token" in error.message


def test_tags_given_on_create_are_reported(client: Any) -> None:
    tag = models.CreateLoadBalancerRequestTag
    body = create(
        client, tag=[tag(key="app", value="chat"), tag(key="env", value="prod")]
    )
    lb = attribute(client, body.load_balancer_id)
    assert [(t.tag_key, t.tag_value) for t in lb.tags.tag] == [
        ("app", "chat"),
        ("env", "prod"),
    ]


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        (
            {"load_balancer_name": "9starts-with-digit"},
            "InvalidParameter",
            "LoadBalancerName",
        ),
        ({"address_type": "public"}, "InvalidParameter", "AddressType"),
        ({"load_balancer_spec": "slb.s9.huge"}, "InvalidParameter", "LoadBalancerSpec"),
        (
            {"bandwidth": 6000, "internet_charge_type": "paybybandwidth"},
            "InvalidParameter",
            "Bandwidth",
        ),
        (
            {"address_type": "intranet", "internet_charge_type": "paybybandwidth"},
            "ActionNotAllowed",
            "intranet",
        ),
        (
            {
                "instance_charge_type": "PayByCLCU",
                "internet_charge_type": "paybybandwidth",
            },
            "InvalidParameter",
            "PayByCLCU",
        ),
        ({"master_zone_id": "cn-hangzhou-z"}, "InvalidParameter", "MasterZoneId"),
        ({"pay_type": "PrePay"}, "NotEmulated", "PrePay"),
    ],
)
def test_create_refuses_bad_parameters(
    client: Any, fields: dict[str, Any], code: str, text: str
) -> None:
    error = refused(client, "CreateLoadBalancer", region_id=REGION, **fields)
    assert error.code == code
    assert text in error.message
    assert describe(client).total_count == 0


def test_delete_protection_blocks_delete_until_turned_off(client: Any) -> None:
    lb_id = create(client, delete_protection="on").load_balancer_id

    error = refused(client, "DeleteLoadBalancer", load_balancer_id=lb_id)
    assert error.code == "OperationDenied.DeleteProtection"
    assert "SetLoadBalancerDeleteProtection" in error.message

    call(
        client,
        "SetLoadBalancerDeleteProtection",
        load_balancer_id=lb_id,
        delete_protection="off",
    )
    call(client, "DeleteLoadBalancer", load_balancer_id=lb_id)
    gone = refused(client, "DescribeLoadBalancerAttribute", load_balancer_id=lb_id)
    assert gone.code == "InvalidLoadBalancerId.NotFound"
    assert gone.status_code == 404
    assert "The specified LoadBalancerId does not exist." in gone.message


def test_delete_removes_listeners_and_tags(client: Any) -> None:
    lb_id = create(
        client, tag=[models.CreateLoadBalancerRequestTag(key="app", value="x")]
    ).load_balancer_id
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb_id,
        listener_port=80,
        backend_server_port=80,
        bandwidth=-1,
    )
    call(client, "DeleteLoadBalancer", load_balancer_id=lb_id)
    listed = call(
        client,
        "ListTagResources",
        resource_type="instance",
        resource_id=[lb_id],
        region_id=REGION,
    )
    assert listed.tag_resources.tag_resource == []


def test_missing_load_balancer_id_is_reported(client: Any) -> None:
    error = refused(client, "DeleteLoadBalancer")
    assert error.code == "MissingParameter"
    assert "LoadBalancerId" in error.message


def test_describe_pages_through_every_instance(client: Any) -> None:
    ids = [
        create(client, load_balancer_name=f"lb{i}").load_balancer_id for i in range(23)
    ]
    seen = []
    for page in (1, 2, 3):
        body = describe(client, page_number=page, page_size=10)
        assert (body.total_count, body.page_number, body.page_size) == (23, page, 10)
        seen += [lb.load_balancer_id for lb in body.load_balancers.load_balancer]
    assert seen == ids
    assert len(describe(client).load_balancers.load_balancer) == 10

    error = refused(client, "DescribeLoadBalancers", region_id=REGION, page_size=101)
    assert error.code == "InvalidParameter"
    assert "PageSize" in error.message


def test_describe_filters(client: Any) -> None:
    tag = models.CreateLoadBalancerRequestTag
    web = create(
        client, load_balancer_name="web", tag=[tag(key="app", value="web")]
    ).load_balancer_id
    api = create(
        client,
        load_balancer_name="api",
        v_switch_id="vsw-1",
        vpc_id="vpc-1",
        tag=[tag(key="app", value="api")],
    ).load_balancer_id
    call(
        client,
        "SetLoadBalancerStatus",
        load_balancer_id=web,
        load_balancer_status="inactive",
    )

    def ids(**filters: Any) -> list[str]:
        body = describe(client, **filters)
        return [lb.load_balancer_id for lb in body.load_balancers.load_balancer]

    assert ids(load_balancer_id=f"{web},{api}") == [web, api]
    assert ids(load_balancer_name="api") == [api]
    assert ids(address_type="intranet") == [api]
    assert ids(load_balancer_status="inactive") == [web]
    assert ids(vpc_id="vpc-1") == [api]
    assert ids(network_type="classic") == [web]
    tag_filter = models.DescribeLoadBalancersRequestTag
    assert ids(tag=[tag_filter(key="app", value="web")]) == [web]
    assert ids(tag=[tag_filter(key="app")]) == [web, api]
    assert ids(tags=json.dumps([{"TagKey": "app", "TagValue": "api"}])) == [api]
    assert ids(region_id="cn-shanghai") == []

    error = refused(
        client,
        "DescribeLoadBalancers",
        region_id=REGION,
        load_balancer_id=",".join(f"lb-{i}" for i in range(11)),
    )
    assert error.code == "InvalidParameter"
    assert "At most 10" in error.message


def test_attribute_lists_listeners_and_default_servers(client: Any) -> None:
    lb_id = create(client).load_balancer_id
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb_id,
        listener_port=443,
        backend_server_port=8443,
        bandwidth=-1,
    )
    call(
        client,
        "CreateLoadBalancerHTTPListener",
        load_balancer_id=lb_id,
        listener_port=80,
        backend_server_port=8080,
        health_check="off",
        bandwidth=-1,
    )
    call(
        client,
        "AddBackendServers",
        load_balancer_id=lb_id,
        backend_servers=json.dumps([{"ServerId": "i-node1", "Weight": "50"}]),
    )

    lb = attribute(client, lb_id)
    assert lb.listener_ports.listener_port == [80, 443]
    pairs = [
        (p.listener_port, p.listener_protocol)
        for p in lb.listener_ports_and_protocol.listener_port_and_protocol
    ]
    assert sorted(pairs) == [(80, "http"), (443, "tcp")]
    typo = lb.listener_ports_and_protocal.listener_port_and_protocal
    assert sorted((p.listener_port, p.listener_protocal) for p in typo) == sorted(pairs)
    [server] = lb.backend_servers.backend_server
    assert (server.server_id, server.weight, server.type) == ("i-node1", 50, "ecs")


def test_settings_change_what_describe_reports(client: Any) -> None:
    lb_id = create(client).load_balancer_id
    call(
        client,
        "SetLoadBalancerName",
        load_balancer_id=lb_id,
        load_balancer_name="renamed",
    )
    call(
        client,
        "SetLoadBalancerModificationProtection",
        load_balancer_id=lb_id,
        modification_protection_status="ConsoleProtection",
        modification_protection_reason="managed by slbsync",
    )
    call(
        client,
        "ModifyLoadBalancerInstanceSpec",
        load_balancer_id=lb_id,
        load_balancer_spec="slb.s3.small",
    )
    call(
        client,
        "ModifyLoadBalancerInternetSpec",
        load_balancer_id=lb_id,
        internet_charge_type="paybybandwidth",
        bandwidth=20,
    )
    call(
        client,
        "MoveResourceGroup",
        resource_id=lb_id,
        resource_type="loadbalancer",
        new_resource_group_id="rg-team2",
        region_id=REGION,
    )

    lb = attribute(client, lb_id)
    assert lb.load_balancer_name == "renamed"
    assert lb.modification_protection_status == "ConsoleProtection"
    assert lb.modification_protection_reason == "managed by slbsync"
    assert lb.load_balancer_spec == "slb.s3.small"
    assert (lb.internet_charge_type, lb.bandwidth) == ("paybybandwidth", 20)
    assert lb.resource_group_id == "rg-team2"

    call(
        client,
        "SetLoadBalancerModificationProtection",
        load_balancer_id=lb_id,
        modification_protection_status="NonProtection",
    )
    assert attribute(client, lb_id).modification_protection_reason == ""


def test_charge_type_switch_to_clcu_and_back(client: Any) -> None:
    lb_id = create(client, load_balancer_spec="slb.s2.small").load_balancer_id
    call(
        client,
        "ModifyLoadBalancerInstanceChargeType",
        load_balancer_id=lb_id,
        instance_charge_type="PayByCLCU",
    )
    lb = attribute(client, lb_id)
    assert (lb.instance_charge_type, lb.load_balancer_spec) == (
        "PayByCLCU",
        "slb.lcu.elastic",
    )

    spec_change = refused(
        client,
        "ModifyLoadBalancerInstanceSpec",
        load_balancer_id=lb_id,
        load_balancer_spec="slb.s2.medium",
    )
    assert spec_change.code == "Operation.NotAllowed"

    missing = refused(
        client,
        "ModifyLoadBalancerInstanceChargeType",
        load_balancer_id=lb_id,
        instance_charge_type="PayBySpec",
    )
    assert missing.code == "MissingParameter"
    call(
        client,
        "ModifyLoadBalancerInstanceChargeType",
        load_balancer_id=lb_id,
        instance_charge_type="PayBySpec",
        load_balancer_spec="slb.s2.medium",
    )
    assert attribute(client, lb_id).load_balancer_spec == "slb.s2.medium"


def test_pay_type_change_is_refused_as_not_emulated(client: Any) -> None:
    lb_id = create(client).load_balancer_id
    error = refused(
        client,
        "ModifyLoadBalancerPayType",
        load_balancer_id=lb_id,
        pay_type="PrePay",
    )
    assert error.code == "NotEmulated"
    assert error.status_code == 501
    assert "docs/emulator.md" in error.message


def test_set_status_refuses_values_other_than_active_inactive(client: Any) -> None:
    lb_id = create(client).load_balancer_id
    error = refused(
        client,
        "SetLoadBalancerStatus",
        load_balancer_id=lb_id,
        load_balancer_status="locked",
    )
    assert error.code == "InvalidParameter"
    assert "active, inactive" in error.message


def test_locked_instance_refuses_writes(client: Any, emulator: Any) -> None:
    lb_id = create(client).load_balancer_id
    with emulator.server.store.lock:
        emulator.server.store.table("load_balancers", object)[lb_id].status = "locked"

    error = refused(
        client,
        "SetLoadBalancerName",
        load_balancer_id=lb_id,
        load_balancer_name="x",
    )
    assert error.code == "ActionNotAllowed"
    assert "Locked for any Business Reason." in error.message
    assert attribute(client, lb_id).load_balancer_status == "locked"


def test_regions_and_zones(client: Any) -> None:
    regions = call(client, "DescribeRegions", accept_language="en-US")
    by_id = {r.region_id: r.local_name for r in regions.regions.region}
    assert by_id["cn-hangzhou"] == "China (Hangzhou)"

    zones = call(client, "DescribeZones", region_id="cn-hangzhou")
    zone_ids = [zone.zone_id for zone in zones.zones.zone]
    assert "cn-hangzhou-h" in zone_ids
    first = zones.zones.zone[0]
    assert first.zone_id not in [z.zone_id for z in first.slave_zones.slave_zone]


def test_quota_of_load_balancers_per_region(emulator: Any, client: Any) -> None:
    emulator.control("PUT", "quotas", {"load_balancers": 2})
    create(client)
    create(client)
    error = refused(client, "CreateLoadBalancer", region_id=REGION)
    assert error.code == "OverQuota"
    assert "quota of 2" in error.message
    create(client, region_id="cn-shanghai")  # the quota is per region


def test_describe_finds_load_balancers_by_backend_server(client: Any) -> None:
    default = create(client, load_balancer_name="default").load_balancer_id
    grouped = create(client, load_balancer_name="grouped").load_balancer_id
    create(client, load_balancer_name="empty")
    call(
        client,
        "AddBackendServers",
        load_balancer_id=default,
        backend_servers=json.dumps([{"ServerId": "i-shared"}]),
    )
    call(
        client,
        "CreateVServerGroup",
        load_balancer_id=grouped,
        vserver_group_name="g",
        backend_servers=json.dumps([{"ServerId": "i-shared", "Port": 80}]),
    )
    body = describe(client, server_id="i-shared")
    names = sorted(lb.load_balancer_name for lb in body.load_balancers.load_balancer)
    assert names == ["default", "grouped"]
