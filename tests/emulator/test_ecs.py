"""ECS DescribeInstances (2014-05-26) over instances seeded by the control API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from tests.conftest import make_ecs_client

REGION = "cn-hangzhou"


@pytest.fixture(params=["v3", "v2"])
def ecs_client(request: pytest.FixtureRequest, emulator: Any) -> Any:
    """The official ECS SDK client, in each signature mode (ACS3 and RPC v2)."""
    return make_ecs_client(emulator, request.param)


@pytest.fixture
def seeded(emulator: Any) -> Any:
    emulator.seed_instances(
        {
            "id": "i-chat1",
            "tags": {"role": "chat"},
            "vpc_id": "vpc-1",
            "vswitch_id": "vsw-1",
            "private_ip": "10.0.0.11",
        },
        {
            "id": "i-chat2",
            "tags": {"role": "chat"},
            "vpc_id": "vpc-1",
            "vswitch_id": "vsw-2",
            "private_ip": "10.0.0.12",
            "status": "Stopped",
        },
        {"id": "i-admin", "tags": {"role": "admin"}, "vpc_id": "vpc-2"},
    )
    return emulator


def ids(body: Any) -> list[str]:
    return [instance.instance_id for instance in body.instances.instance]


def describe(client: Any, **fields: Any) -> Any:
    response = client.describe_instances(
        models.DescribeInstancesRequest(region_id=REGION, **fields)
    )
    assert response.body is not None
    return response.body


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_instances_carry_what_discovery_reads(seeded: Any, signature: str) -> None:
    client = make_ecs_client(seeded, signature)
    body = describe(client, instance_ids=json.dumps(["i-chat1"]))
    [instance] = body.instances.instance
    assert instance.status == "Running"
    assert instance.vpc_attributes.vpc_id == "vpc-1"
    assert instance.vpc_attributes.v_switch_id == "vsw-1"
    assert instance.vpc_attributes.private_ip_address.ip_address == ["10.0.0.11"]
    assert [(t.tag_key, t.tag_value) for t in instance.tags.tag] == [("role", "chat")]


def test_filters_by_tag_status_vpc_and_vswitch(seeded: Any, ecs_client: Any) -> None:
    tag = models.DescribeInstancesRequestTag
    assert ids(describe(ecs_client, tag=[tag(key="role", value="chat")])) == [
        "i-chat1",
        "i-chat2",
    ]
    assert ids(
        describe(ecs_client, tag=[tag(key="role", value="chat")], status="Running")
    ) == ["i-chat1"]
    assert ids(describe(ecs_client, vpc_id="vpc-2")) == ["i-admin"]
    assert ids(describe(ecs_client, v_switch_id="vsw-2")) == ["i-chat2"]
    assert ids(describe(ecs_client, instance_ids="['i-admin', 'i-none']")) == [
        "i-admin"
    ]


def test_pages_by_number_and_by_token(emulator: Any, ecs_client: Any) -> None:
    emulator.seed_instances(*({"id": f"i-node{n:02}"} for n in range(25)))
    by_number = describe(ecs_client, page_number=3, page_size=10)
    assert by_number.total_count == 25
    assert ids(by_number) == [f"i-node{n:02}" for n in range(20, 25)]

    seen: list[str] = []
    token = None
    while True:
        body = describe(ecs_client, max_results=10, next_token=token)
        seen += ids(body)
        token = body.next_token
        if not token:
            break
    assert seen == [f"i-node{n:02}" for n in range(25)]


def test_a_filter_not_emulated_is_refused(seeded: Any, ecs_client: Any) -> None:
    with pytest.raises(AlibabaCloudException) as info:
        describe(ecs_client, image_id="ubuntu_22_04")
    assert info.value.code == "NotEmulated"
    assert "ImageId" in info.value.message


def test_stopped_instance_cannot_become_a_backend(seeded: Any, client: Any) -> None:
    from tests.emulator.slb_helpers import call, refused

    lb = call(client, "CreateLoadBalancer", region_id=REGION)
    error = refused(
        client,
        "AddBackendServers",
        load_balancer_id=lb.load_balancer_id,
        backend_servers=json.dumps([{"ServerId": "i-chat2"}]),
    )
    assert (error.code, error.status_code) == ("ObtainIpFail", 400)
    assert "i-chat2 is not running" in error.message


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_strict_backends_refuse_instances_never_seeded(signature: str) -> None:
    from slbsync.emulator.server import EmulatorServer
    from tests.conftest import EmulatorHandle, make_slb_client
    from tests.emulator.slb_helpers import call, refused

    server = EmulatorServer(strict_backends=True).start()
    try:
        handle = EmulatorHandle(server)
        handle.seed_instances({"id": "i-known"})
        client = make_slb_client(handle, signature)
        lb = call(client, "CreateLoadBalancer", region_id=REGION).load_balancer_id
        error = refused(
            client,
            "AddBackendServers",
            load_balancer_id=lb,
            backend_servers=json.dumps([{"ServerId": "i-typo"}]),
        )
        assert error.code == "InvalidServerId.NotFound"
        assert "i-typo" in error.message
        call(
            client,
            "AddBackendServers",
            load_balancer_id=lb,
            backend_servers=json.dumps([{"ServerId": "i-known"}]),
        )
    finally:
        server.stop()
