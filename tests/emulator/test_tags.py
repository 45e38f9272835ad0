"""Tags through the official SDK: TagResources, UntagResources, ListTagResources
and the legacy AddTags, RemoveTags and DescribeTags."""

from __future__ import annotations

import json
from typing import Any

from alibabacloud_slb20140515 import models

from tests.emulator.slb_helpers import call, refused

REGION = "cn-hangzhou"
Tag = models.TagResourcesRequestTag


def new_lb(client: Any, name: str = "web") -> str:
    body = call(client, "CreateLoadBalancer", region_id=REGION, load_balancer_name=name)
    return str(body.load_balancer_id)


def tag(client: Any, resource_type: str, ids: list[str], **pairs: str) -> None:
    call(
        client,
        "TagResources",
        region_id=REGION,
        resource_type=resource_type,
        resource_id=ids,
        tag=[Tag(key=k, value=v) for k, v in pairs.items()],
    )


def listed(client: Any, resource_type: str = "instance", **fields: Any) -> list[tuple]:
    body = call(
        client,
        "ListTagResources",
        region_id=REGION,
        resource_type=resource_type,
        **fields,
    )
    return [
        (r.resource_id, r.tag_key, r.tag_value) for r in body.tag_resources.tag_resource
    ]


def test_tag_list_and_untag_a_load_balancer(client: Any) -> None:
    lb_id = new_lb(client)
    tag(client, "instance", [lb_id], app="chat", env="prod")
    tag(client, "instance", [lb_id], env="staging")
    assert listed(client, resource_id=[lb_id]) == [
        (lb_id, "app", "chat"),
        (lb_id, "env", "staging"),
    ]

    call(
        client,
        "UntagResources",
        region_id=REGION,
        resource_type="instance",
        resource_id=[lb_id],
        tag_key=["env"],
    )
    assert listed(client, resource_id=[lb_id]) == [(lb_id, "app", "chat")]

    call(
        client,
        "UntagResources",
        region_id=REGION,
        resource_type="instance",
        resource_id=[lb_id],
        all=True,
    )
    assert listed(client, resource_id=[lb_id]) == []


def test_list_by_tag_finds_resources(client: Any) -> None:
    a, b = new_lb(client, "a"), new_lb(client, "b")
    tag(client, "instance", [a], app="chat")
    tag(client, "instance", [b], app="mail")
    found = listed(
        client, tag=[models.ListTagResourcesRequestTag(key="app", value="mail")]
    )
    assert found == [(b, "app", "mail")]


def test_list_pages_with_next_token(client: Any) -> None:
    ids = [new_lb(client, f"lb{i}") for i in range(3)]
    for lb_id in ids:
        tag(client, "instance", [lb_id], **{f"k{n:02}": "v" for n in range(20)})
    rows: list[tuple] = []
    token = None
    pages = 0
    while True:
        body = call(
            client,
            "ListTagResources",
            region_id=REGION,
            resource_type="instance",
            resource_id=ids,
            next_token=token,
        )
        rows += [(r.resource_id, r.tag_key) for r in body.tag_resources.tag_resource]
        pages += 1
        token = body.next_token
        if not token:
            break
    assert pages == 2
    assert len(rows) == 60 == len(set(rows))


def test_more_than_twenty_tags_is_refused(client: Any) -> None:
    lb_id = new_lb(client)
    tag(client, "instance", [lb_id], **{f"k{n}": "v" for n in range(15)})
    error = refused(
        client,
        "TagResources",
        region_id=REGION,
        resource_type="instance",
        resource_id=[lb_id],
        tag=[Tag(key=f"x{n}", value="v") for n in range(6)],
    )
    assert error.code == "TagCountLimit"
    assert "20" in error.message
    assert len(listed(client, resource_id=[lb_id])) == 15


def test_reserved_tag_keys_are_refused(client: Any) -> None:
    lb_id = new_lb(client)
    error = refused(
        client,
        "TagResources",
        region_id=REGION,
        resource_type="instance",
        resource_id=[lb_id],
        tag=[Tag(key="aliyun-owner", value="me")],
    )
    assert error.code == "InvalidTagKey.Malformed"
    assert "aliyun" in error.message


def test_tagging_an_unknown_resource_is_not_found(client: Any) -> None:
    error = refused(
        client,
        "TagResources",
        region_id=REGION,
        resource_type="instance",
        resource_id=["lb-missing"],
        tag=[Tag(key="a", value="b")],
    )
    assert error.code == "InvalidLoadBalancerId.NotFound"


def test_unknown_resource_type_is_refused(client: Any) -> None:
    error = refused(
        client,
        "ListTagResources",
        region_id=REGION,
        resource_type="loadbalancer",
        resource_id=["lb-x"],
    )
    assert error.code == "InvalidParameter"
    assert "instance, certificate" in error.message


def test_listener_is_tagged_by_its_composite_id(client: Any) -> None:
    lb_id = new_lb(client)
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb_id,
        listener_port=80,
        backend_server_port=80,
        bandwidth=-1,
    )
    listener = f"{lb_id}_tcp_80"
    tag(client, "listener", [listener], role="edge")
    assert listed(client, "listener", resource_id=[listener]) == [
        (listener, "role", "edge")
    ]
    missing = refused(
        client,
        "TagResources",
        region_id=REGION,
        resource_type="listener",
        resource_id=[f"{lb_id}_tcp_81"],
        tag=[Tag(key="a", value="b")],
    )
    assert missing.code == "InvalidParameter"


def test_legacy_tag_actions(client: Any) -> None:
    a, b = new_lb(client, "a"), new_lb(client, "b")
    for lb_id in (a, b):
        call(
            client,
            "AddTags",
            region_id=REGION,
            load_balancer_id=lb_id,
            tags=json.dumps([{"TagKey": "app", "TagValue": "chat"}]),
        )
    call(
        client,
        "AddTags",
        region_id=REGION,
        load_balancer_id=a,
        tags="[{'TagKey': 'tier', 'TagValue': 'edge'}]",
    )

    body = call(client, "DescribeTags", region_id=REGION)
    sets = {(s.tag_key, s.tag_value): s.instance_count for s in body.tag_sets.tag_set}
    assert sets == {("app", "chat"): 2, ("tier", "edge"): 1}
    assert body.total_count == 2

    call(
        client,
        "RemoveTags",
        region_id=REGION,
        load_balancer_id=a,
        tags=json.dumps([{"TagKey": "tier", "TagValue": "edge"}]),
    )
    assert listed(client, resource_id=[a]) == [(a, "app", "chat")]


def test_deleting_a_load_balancer_drops_its_childrens_tags(client: Any) -> None:
    lb_id = new_lb(client)
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb_id,
        listener_port=80,
        backend_server_port=80,
        bandwidth=-1,
    )
    group = call(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb_id,
        vserver_group_name="g",
    ).vserver_group_id
    tag(client, "listener", [f"{lb_id}_tcp_80"], role="edge")
    tag(client, "vservergroup", [group], role="pool")

    call(client, "DeleteLoadBalancer", load_balancer_id=lb_id)
    assert (
        listed(client, "listener", tag=[models.ListTagResourcesRequestTag(key="role")])
        == []
    )
    assert (
        listed(
            client,
            "vservergroup",
            tag=[models.ListTagResourcesRequestTag(key="role")],
        )
        == []
    )
