"""Access control lists through the official SDK, in both signature modes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client

from tests.emulator.slb_helpers import expect_refused

REGION = "cn-hangzhou"


def create(client: Client, name: str = "office", **fields: Any) -> str:
    request = models.CreateAccessControlListRequest(
        region_id=REGION, acl_name=name, **fields
    )
    return client.create_access_control_list(request).body.acl_id


def add(client: Client, acl_id: str, entries: list[dict[str, str]]) -> None:
    client.add_access_control_list_entry(
        models.AddAccessControlListEntryRequest(
            region_id=REGION, acl_id=acl_id, acl_entrys=json.dumps(entries)
        )
    )


def attribute(
    client: Client, acl_id: str, **fields: Any
) -> models.DescribeAccessControlListAttributeResponseBody:
    request = models.DescribeAccessControlListAttributeRequest(
        region_id=REGION, acl_id=acl_id, **fields
    )
    return client.describe_access_control_list_attribute(request).body


def entry_ips(client: Client, acl_id: str) -> list[str]:
    body = attribute(client, acl_id, page_size=50)
    return [entry.acl_entry_ip for entry in body.acl_entrys.acl_entry]


def test_create_then_describe_attribute_shows_the_acl(client: Client) -> None:
    acl_id = create(client, "office-v4/main", address_ipversion="ipv4")

    body = attribute(client, acl_id)

    assert re.fullmatch(r"acl-[0-9a-z]{22}", acl_id)
    assert body.acl_id == acl_id
    assert body.acl_name == "office-v4/main"
    assert body.address_ipversion == "ipv4"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body.create_time)
    assert body.total_acl_entry == 0
    assert body.acl_entrys.acl_entry == []
    assert body.related_listeners.related_listener == []


def test_ip_version_defaults_to_ipv4(client: Client) -> None:
    acl_id = create(client)

    assert attribute(client, acl_id).address_ipversion == "ipv4"


@pytest.mark.parametrize("name", ["", "has space", "x" * 81, "star*"])
def test_bad_acl_name_is_refused(client: Client, name: str) -> None:
    code = "MissingParameter" if name == "" else "InvalidParameter"

    error = expect_refused(lambda: create(client, name), code)

    assert "AclName" in error.message


def test_acl_name_is_unique_per_region(client: Client) -> None:
    create(client, "office")

    error = expect_refused(lambda: create(client, "office"), "AclNameExist")

    assert '"office" already exists' in error.message
    other = models.CreateAccessControlListRequest(
        region_id="cn-beijing", acl_name="office"
    )
    assert client.create_access_control_list(other).body.acl_id


def test_region_holds_at_most_fifty_acls(client: Client) -> None:
    for number in range(50):
        create(client, f"acl-{number}")

    error = expect_refused(lambda: create(client, "one-too-many"), "AclNumberOverLimit")

    assert "50" in error.message


def test_add_entries_keeps_order_and_comments(client: Client) -> None:
    acl_id = create(client)

    add(
        client,
        acl_id,
        [
            {"entry": "10.0.0.0/24", "comment": "office"},
            {"entry": "192.168.1.7/32", "comment": "vpn"},
        ],
    )

    body = attribute(client, acl_id)
    assert [
        (e.acl_entry_ip, e.acl_entry_comment) for e in body.acl_entrys.acl_entry
    ] == [
        ("10.0.0.0/24", "office"),
        ("192.168.1.7/32", "vpn"),
    ]
    assert body.total_acl_entry == 2


def test_entries_already_present_are_skipped(client: Client) -> None:
    acl_id = create(client)
    add(client, acl_id, [{"entry": "10.0.0.0/24", "comment": "first"}])

    add(
        client,
        acl_id,
        [
            {"entry": "10.0.0.0/24", "comment": "again"},
            {"entry": "10.1.0.0/16"},
            {"entry": "10.1.0.0/16"},
        ],
    )

    body = attribute(client, acl_id)
    assert [
        (e.acl_entry_ip, e.acl_entry_comment) for e in body.acl_entrys.acl_entry
    ] == [
        ("10.0.0.0/24", "first"),
        ("10.1.0.0/16", ""),
    ]


def test_single_quoted_entries_are_accepted(client: Client) -> None:
    acl_id = create(client)

    client.add_access_control_list_entry(
        models.AddAccessControlListEntryRequest(
            region_id=REGION, acl_id=acl_id, acl_entrys="[{'entry': '10.2.0.0/16'}]"
        )
    )

    assert entry_ips(client, acl_id) == ["10.2.0.0/16"]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("10.0.0.300/24", "not a valid CIDR block"),
        ("10.0.0.1", "not a CIDR block"),
        ("10.0.0.1/24", "has host bits set"),
        ("office", "not a CIDR block"),
    ],
)
def test_entry_that_is_not_a_cidr_block_is_refused(
    client: Client, entry: str, words: str
) -> None:
    acl_id = create(client)

    error = expect_refused(
        lambda: add(client, acl_id, [{"entry": "10.9.0.0/16"}, {"entry": entry}]),
        "AclEntryIllegal",
    )

    assert entry in error.message and words in error.message
    assert entry_ips(client, acl_id) == []


def test_entry_of_the_other_ip_version_is_refused(client: Client) -> None:
    v6 = create(client, "v6", address_ipversion="ipv6")
    v4 = create(client, "v4")

    expect_refused(lambda: add(client, v6, [{"entry": "10.0.0.0/8"}]), "IllegalEntry")
    error = expect_refused(
        lambda: add(client, v4, [{"entry": "2001:db8::/32"}]), "IllegalEntry"
    )

    assert "not an ipv4 CIDR block" in error.message
    add(client, v6, [{"entry": "2001:db8::/32"}])
    assert entry_ips(client, v6) == ["2001:db8::/32"]


def test_ipv6_entries_are_kept_in_canonical_form(client: Client) -> None:
    acl_id = create(client, "v6", address_ipversion="ipv6")

    add(client, acl_id, [{"entry": "2001:DB8:0:0::/64"}, {"entry": "2001:db8::/64"}])
    assert entry_ips(client, acl_id) == ["2001:db8::/64"]
    client.remove_access_control_list_entry(
        models.RemoveAccessControlListEntryRequest(
            region_id=REGION, acl_id=acl_id, acl_entrys='[{"entry": "2001:0DB8::/64"}]'
        )
    )

    assert entry_ips(client, acl_id) == []


def test_more_than_fifty_entries_in_one_call_is_refused(client: Client) -> None:
    acl_id = create(client)
    entries = [{"entry": f"10.0.{n}.0/24"} for n in range(51)]

    error = expect_refused(lambda: add(client, acl_id, entries), "InvalidParameter")

    assert "At most 50 entries" in error.message
    assert entry_ips(client, acl_id) == []


def test_acl_holds_at_most_three_hundred_entries(client: Client) -> None:
    acl_id = create(client)
    for batch in range(6):
        add(client, acl_id, [{"entry": f"10.{batch}.{n}.0/24"} for n in range(50)])

    error = expect_refused(
        lambda: add(client, acl_id, [{"entry": "172.16.0.0/12"}]),
        "AclEntryExceedLimit",
    )

    assert "300" in error.message
    assert attribute(client, acl_id).total_acl_entry == 300


def test_malformed_entry_json_is_refused(client: Client) -> None:
    acl_id = create(client)

    for text in ("[{entry: 10.0.0.0/8", '{"entry": "10.0.0.0/8"}', "[]"):
        request = models.AddAccessControlListEntryRequest(
            region_id=REGION, acl_id=acl_id, acl_entrys=text
        )
        error = expect_refused(
            lambda r=request: client.add_access_control_list_entry(r),
            "InvalidParameter",
        )
        assert "AclEntrys" in error.message


def test_remove_entries_skips_absent_ones(client: Client) -> None:
    acl_id = create(client)
    add(client, acl_id, [{"entry": "10.0.0.0/24"}, {"entry": "10.1.0.0/24"}])

    client.remove_access_control_list_entry(
        models.RemoveAccessControlListEntryRequest(
            region_id=REGION,
            acl_id=acl_id,
            acl_entrys=json.dumps([{"entry": "10.0.0.0/24"}, {"entry": "10.7.0.0/24"}]),
        )
    )

    assert entry_ips(client, acl_id) == ["10.1.0.0/24"]


def test_removing_only_absent_entries_is_acl_entry_empty(client: Client) -> None:
    acl_id = create(client)
    add(client, acl_id, [{"entry": "10.0.0.0/24"}])
    request = models.RemoveAccessControlListEntryRequest(
        region_id=REGION, acl_id=acl_id, acl_entrys='[{"entry": "10.9.0.0/24"}]'
    )

    expect_refused(
        lambda: client.remove_access_control_list_entry(request), "AclEntryEmpty"
    )

    assert entry_ips(client, acl_id) == ["10.0.0.0/24"]


def test_attribute_pages_entries_and_filters_by_comment(client: Client) -> None:
    acl_id = create(client)
    add(
        client,
        acl_id,
        [
            {"entry": f"10.0.{n}.0/24", "comment": "even" if n % 2 == 0 else "odd"}
            for n in range(25)
        ],
    )

    first = attribute(client, acl_id)
    third = attribute(client, acl_id, page=3)
    odd = attribute(client, acl_id, acl_entry_comment="odd", page_size=50)

    assert len(first.acl_entrys.acl_entry) == 10
    assert first.total_acl_entry == 25
    assert [e.acl_entry_ip for e in third.acl_entrys.acl_entry] == [
        f"10.0.{n}.0/24" for n in range(20, 25)
    ]
    assert len(odd.acl_entrys.acl_entry) == 12 and odd.total_acl_entry == 12


def test_attribute_page_size_over_fifty_is_refused(client: Client) -> None:
    acl_id = create(client)

    error = expect_refused(
        lambda: attribute(client, acl_id, page_size=51), "InvalidParameter"
    )

    assert "PageSize" in error.message


def describe(
    client: Client, **fields: Any
) -> models.DescribeAccessControlListsResponseBody:
    request = models.DescribeAccessControlListsRequest(region_id=REGION, **fields)
    return client.describe_access_control_lists(request).body


def test_describe_lists_pages_of_ten_by_default(client: Client) -> None:
    ids = [create(client, f"acl-{n:02d}") for n in range(12)]

    first = describe(client)
    second = describe(client, page_number=2)

    assert (first.total_count, first.count, first.page_number, first.page_size) == (
        12,
        10,
        1,
        10,
    )
    assert [acl.acl_id for acl in first.acls.acl] == ids[:10]
    assert [acl.acl_id for acl in second.acls.acl] == ids[10:]
    assert second.count == 2


def test_describe_filters_by_name_part_version_and_group(client: Client) -> None:
    create(client, "office-hz")
    create(client, "office-bj", address_ipversion="ipv6")
    create(client, "partners", resource_group_id="rg-partners")

    by_name = describe(client, acl_name="office")
    by_version = describe(client, address_ipversion="ipv6")
    by_group = describe(client, resource_group_id="rg-partners")

    assert sorted(acl.acl_name for acl in by_name.acls.acl) == [
        "office-bj",
        "office-hz",
    ]
    assert [acl.acl_name for acl in by_version.acls.acl] == ["office-bj"]
    assert [acl.acl_name for acl in by_group.acls.acl] == ["partners"]


def test_describe_filters_by_tags_and_shows_them(client: Client) -> None:
    tagged = create(
        client,
        "tagged",
        tag=[models.CreateAccessControlListRequestTag(key="app", value="chat")],
    )
    create(client, "plain")

    found = describe(
        client,
        tag=[models.DescribeAccessControlListsRequestTag(key="app", value="chat")],
    )

    assert [acl.acl_id for acl in found.acls.acl] == [tagged]
    tags = found.acls.acl[0].tags.tag
    assert [(tag.tag_key, tag.tag_value) for tag in tags] == [("app", "chat")]
    assert found.acls.acl[0].resource_group_id


def test_describe_lists_only_the_requested_region(client: Client) -> None:
    create(client, "here")
    other = models.CreateAccessControlListRequest(
        region_id="cn-beijing", acl_name="there"
    )
    client.create_access_control_list(other)

    assert [acl.acl_name for acl in describe(client).acls.acl] == ["here"]


def test_rename_checks_the_name_and_its_uniqueness(client: Client) -> None:
    acl_id = create(client, "old")
    create(client, "taken")

    def rename(name: str) -> None:
        client.set_access_control_list_attribute(
            models.SetAccessControlListAttributeRequest(
                region_id=REGION, acl_id=acl_id, acl_name=name
            )
        )

    expect_refused(lambda: rename("taken"), "AclNameExist")
    expect_refused(lambda: rename("bad name"), "InvalidParameter")
    rename("old")
    rename("new")

    assert attribute(client, acl_id).acl_name == "new"


def test_unknown_acl_is_acl_not_exist(client: Client) -> None:
    error = expect_refused(
        lambda: attribute(client, "acl-doesnotexist0000000000"), "AclNotExist", 404
    )

    assert "does not exist" in error.message


def test_delete_removes_the_acl_and_its_tags(client: Client, emulator: Any) -> None:
    acl_id = create(
        client, tag=[models.CreateAccessControlListRequestTag(key="k", value="v")]
    )

    client.delete_access_control_list(
        models.DeleteAccessControlListRequest(region_id=REGION, acl_id=acl_id)
    )

    expect_refused(lambda: attribute(client, acl_id), "AclNotExist", 404)
    assert acl_id not in json.dumps(emulator.server.store.dump()["tables"].get("tags"))


def _http_listener_with_acl(client: Client, acl_id: str) -> str:
    lb_id = client.create_load_balancer(
        models.CreateLoadBalancerRequest(region_id=REGION, load_balancer_name="web")
    ).body.load_balancer_id
    client.create_load_balancer_httplistener(
        models.CreateLoadBalancerHTTPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=80,
            backend_server_port=8080,
            bandwidth=-1,
            health_check="off",
            acl_status="on",
            acl_type="white",
            acl_id=acl_id,
        )
    )
    return lb_id


def test_acl_used_by_a_listener_cannot_be_deleted(client: Client) -> None:
    acl_id = create(client)
    lb_id = _http_listener_with_acl(client, acl_id)
    request = models.DeleteAccessControlListRequest(region_id=REGION, acl_id=acl_id)

    error = expect_refused(
        lambda: client.delete_access_control_list(request),
        "OperationFailed.AclBindedWithVip",
    )

    assert "binded" in error.message
    related = attribute(client, acl_id).related_listeners.related_listener
    assert [
        (r.load_balancer_id, r.listener_port, r.protocol, r.acl_type) for r in related
    ] == [(lb_id, 80, "http", "white")]


def test_acl_of_another_region_is_not_found(client: Client) -> None:
    acl_id = create(client)
    request = models.DescribeAccessControlListAttributeRequest(
        region_id="cn-beijing", acl_id=acl_id
    )

    expect_refused(
        lambda: client.describe_access_control_list_attribute(request),
        "AclNotExist",
        404,
    )


def test_tag_resources_tags_an_acl(client: Client) -> None:
    acl_id = create(client)

    client.tag_resources(
        models.TagResourcesRequest(
            region_id=REGION,
            resource_type="acl",
            resource_id=[acl_id],
            tag=[models.TagResourcesRequestTag(key="team", value="im")],
        )
    )

    tags = attribute(client, acl_id).tags.tag
    assert [(tag.tag_key, tag.tag_value) for tag in tags] == [("team", "im")]
