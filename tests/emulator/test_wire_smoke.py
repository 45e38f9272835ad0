"""The emulator answers the official SDK in both signature modes."""

from __future__ import annotations

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client


def test_create_then_describe_in_both_signature_modes(slb_clients: Client) -> None:
    created = slb_clients.create_load_balancer(
        models.CreateLoadBalancerRequest(
            region_id="cn-hangzhou", load_balancer_name="web"
        )
    )
    assert created.body is not None
    assert created.body.load_balancer_id.startswith("lb-")

    listed = slb_clients.describe_load_balancers(
        models.DescribeLoadBalancersRequest(region_id="cn-hangzhou")
    )
    assert listed.body is not None
    assert listed.body.total_count == 1
    only = listed.body.load_balancers.load_balancer[0]
    assert only.load_balancer_name == "web"
    assert only.load_balancer_status == "active"
