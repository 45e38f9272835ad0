"""Forwarding rules through the official SDK, in both signature modes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client

from tests.emulator.slb_helpers import expect_refused

REGION = "cn-hangzhou"


@dataclass
class Site:
    """A load balancer with an HTTP listener on 80, a TCP one on 443, two groups."""

    lb_id: str
    web: str
    api: str


def create_load_balancer(client: Client, name: str = "web") -> str:
    request = models.CreateLoadBalancerRequest(
        region_id=REGION, load_balancer_name=name
    )
    return client.create_load_balancer(request).body.load_balancer_id


def create_group(client: Client, lb_id: str, name: str) -> str:
    request = models.CreateVServerGroupRequest(
        region_id=REGION, load_balancer_id=lb_id, vserver_group_name=name
    )
    return client.create_vserver_group(request).body.vserver_group_id


def make_site(client: Client) -> Site:
    lb_id = create_load_balancer(client)
    client.create_load_balancer_httplistener(
        models.CreateLoadBalancerHTTPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=80,
            backend_server_port=8080,
            bandwidth=-1,
            health_check="on",
            health_check_uri="/healthz",
            scheduler="wrr",
        )
    )
    client.create_load_balancer_tcplistener(
        models.CreateLoadBalancerTCPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=443,
            backend_server_port=8443,
            bandwidth=-1,
        )
    )
    return Site(
        lb_id, create_group(client, lb_id, "web"), create_group(client, lb_id, "api")
    )


@pytest.fixture
def site(client: Client) -> Site:
    return make_site(client)


def create_rules(
    client: Client,
    site: Site,
    rules: list[dict[str, Any]] | str,
    port: int = 80,
    **fields: Any,
) -> list[models.CreateRulesResponseBodyRulesRule]:
    request = models.CreateRulesRequest(
        region_id=REGION,
        load_balancer_id=site.lb_id,
        listener_port=port,
        rule_list=rules if isinstance(rules, str) else json.dumps(rules),
        **fields,
    )
    return client.create_rules(request).body.rules.rule


def describe_rules(client: Client, site: Site, port: int = 80) -> list[Any]:
    request = models.DescribeRulesRequest(
        region_id=REGION, load_balancer_id=site.lb_id, listener_port=port
    )
    return client.describe_rules(request).body.rules.rule


def rule_attribute(
    client: Client, rule_id: str
) -> models.DescribeRuleAttributeResponseBody:
    request = models.DescribeRuleAttributeRequest(region_id=REGION, rule_id=rule_id)
    return client.describe_rule_attribute(request).body


def test_create_rules_then_describe_them(client: Client, site: Site) -> None:
    created = create_rules(
        client,
        site,
        [
            {
                "RuleName": "api",
                "Domain": "chat.example.com",
                "Url": "/api",
                "VServerGroupId": site.api,
            },
            {"RuleName": "wild", "Domain": "*.example.com", "VServerGroupId": site.web},
            {
                "RuleName": "static",
                "Url": "/static/v1.2?x&y%20#top",
                "VServerGroupId": site.web,
            },
        ],
    )

    assert [rule.rule_name for rule in created] == ["api", "wild", "static"]
    assert all(re.fullmatch(r"rule-[0-9a-z]{20}", rule.rule_id) for rule in created)
    listed = describe_rules(client, site)
    assert [
        (r.rule_id, r.rule_name, r.domain, r.url, r.vserver_group_id) for r in listed
    ] == [
        (created[0].rule_id, "api", "chat.example.com", "/api", site.api),
        (created[1].rule_id, "wild", "*.example.com", "", site.web),
        (created[2].rule_id, "static", "", "/static/v1.2?x&y%20#top", site.web),
    ]
    assert listed[0].listener_sync == "on"
    assert listed[0].scheduler == "wrr"
    assert listed[0].health_check_uri == "/healthz"


def test_rule_attribute_has_its_listener_port_as_a_string(
    client: Client, site: Site
) -> None:
    rule_id = create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}]
    )[0].rule_id

    body = rule_attribute(client, rule_id)

    assert body.rule_id == rule_id
    assert body.load_balancer_id == site.lb_id
    assert body.listener_port == "80"
    assert (body.rule_name, body.url, body.vserver_group_id) == (
        "api",
        "/api",
        site.api,
    )


def test_http_listener_attribute_lists_the_rules(client: Client) -> None:
    site = make_site(client)
    rule_id = create_rules(
        client,
        site,
        [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}],
    )[0].rule_id

    body = client.describe_load_balancer_httplistener_attribute(
        models.DescribeLoadBalancerHTTPListenerAttributeRequest(
            region_id=REGION, load_balancer_id=site.lb_id, listener_port=80
        )
    ).body

    assert [(r.rule_id, r.url) for r in body.rules.rule] == [(rule_id, "/api")]


def test_rules_on_a_tcp_listener_are_refused(client: Client, site: Site) -> None:
    error = expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "x", "Url": "/x", "VServerGroupId": site.api}],
            443,
        ),
        "RuleNotSupport",
    )

    assert "tcp" in error.message


def test_listener_protocol_is_read_in_any_case(client: Client) -> None:
    site = make_site(client)
    rule = {"RuleName": "x", "Url": "/x", "VServerGroupId": site.web}

    create_rules(client, site, [rule], listener_protocol="HTTP")

    expect_refused(
        lambda: create_rules(
            client,
            site,
            [{**rule, "RuleName": "y", "Url": "/y"}],
            443,
            listener_protocol="tcp",
        ),
        "RuleNotSupport",
    )


def test_unknown_listener_is_refused(client: Client) -> None:
    site = make_site(client)

    expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "x", "Url": "/x", "VServerGroupId": site.api}],
            8080,
        ),
        "InvalidParameter",
    )


@pytest.mark.parametrize(
    ("rule", "code", "words"),
    [
        ({"RuleName": "bad name", "Url": "/x"}, "InvalidParameter", "RuleName"),
        ({"RuleName": "x" * 41, "Url": "/x"}, "InvalidParameter", "RuleName"),
        ({"Url": "/x"}, "InvalidParameter", "RuleName"),
        ({"RuleName": "neither"}, "RuleListMalformed", "a Domain, a Url or both"),
        ({"RuleName": "slash", "Url": "/"}, "URLNotSupport", '"/" alone'),
        ({"RuleName": "space", "Url": "/a b"}, "UrlMalformed", "must start with"),
        ({"RuleName": "rel", "Url": "api"}, "UrlMalformed", "must start with"),
        (
            {"RuleName": "dom", "Domain": "bad_domain!"},
            "DomainMalformed",
            "bad_domain!",
        ),
    ],
)
def test_malformed_rule_is_refused(
    client: Client, rule: dict[str, Any], code: str, words: str
) -> None:
    site = make_site(client)
    rule = {**rule, "VServerGroupId": site.web}

    error = expect_refused(lambda: create_rules(client, site, [rule]), code)

    assert words in error.message
    assert describe_rules(client, site) == []


def test_malformed_rule_list_is_refused(client: Client) -> None:
    site = make_site(client)

    for text in ("[{", "{}", "[]", '["x"]'):
        expect_refused(
            lambda t=text: create_rules(client, site, t), "RuleListMalformed"
        )


def test_more_than_ten_rules_in_one_call_is_refused(client: Client, site: Site) -> None:
    rules = [
        {"RuleName": f"r{n}", "Url": f"/r{n}", "VServerGroupId": site.web}
        for n in range(11)
    ]

    error = expect_refused(
        lambda: create_rules(client, site, rules), "RuleListMalformed"
    )

    assert "At most 10 rules" in error.message


def test_listener_holds_at_most_forty_rules(client: Client) -> None:
    site = make_site(client)
    for batch in range(4):
        create_rules(
            client,
            site,
            [
                {
                    "RuleName": f"r{batch}-{n}",
                    "Url": f"/r{batch}/{n}",
                    "VServerGroupId": site.web,
                }
                for n in range(10)
            ],
        )

    error = expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "one-more", "Url": "/more", "VServerGroupId": site.web}],
        ),
        "TooManyRules",
    )

    assert "40" in error.message
    assert len(describe_rules(client, site)) == 40


def test_rule_name_is_unique_per_listener(client: Client, site: Site) -> None:
    create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}]
    )

    error = expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "api", "Url": "/v2", "VServerGroupId": site.api}],
        ),
        "InvalidParameter",
    )

    assert '"api" already exists' in error.message


def test_domain_and_url_pair_is_unique_per_listener(client: Client, site: Site) -> None:
    create_rules(
        client,
        site,
        [
            {
                "RuleName": "a",
                "Domain": "x.example.com",
                "Url": "/a",
                "VServerGroupId": site.api,
            }
        ],
    )

    expect_refused(
        lambda: create_rules(
            client,
            site,
            [
                {
                    "RuleName": "b",
                    "Domain": "x.example.com",
                    "Url": "/a",
                    "VServerGroupId": site.web,
                }
            ],
        ),
        "DomainExist",
    )
    twice = [
        {"RuleName": "c", "Url": "/c", "VServerGroupId": site.web},
        {"RuleName": "d", "Url": "/c", "VServerGroupId": site.web},
    ]
    expect_refused(lambda: create_rules(client, site, twice), "DomainExist")
    assert [r.rule_name for r in describe_rules(client, site)] == ["a"]


def test_group_must_exist_and_belong_to_the_load_balancer(client: Client) -> None:
    site = make_site(client)
    other_lb = create_load_balancer(client, "other")
    foreign = create_group(client, other_lb, "foreign")

    expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "x", "Url": "/x", "VServerGroupId": foreign}],
        ),
        "VipNotMatchRspool",
    )
    error = expect_refused(
        lambda: create_rules(
            client,
            site,
            [{"RuleName": "x", "Url": "/x", "VServerGroupId": "rsp-nope"}],
        ),
        "InvalidParameter",
        404,
    )
    assert "VServerGroupId does not exist" in error.message


def test_rule_overrides_inside_rule_list_are_not_emulated(client: Client) -> None:
    site = make_site(client)
    rule = {
        "RuleName": "x",
        "Url": "/x",
        "VServerGroupId": site.web,
        "ListenerSync": "off",
    }

    error = expect_refused(
        lambda: create_rules(client, site, [rule]), "NotEmulated", 501
    )

    assert "ListenerSync" in error.message


def test_dry_run_checks_and_creates_nothing(client: Client, site: Site) -> None:
    rule = {"RuleName": "x", "Url": "/x", "VServerGroupId": site.web}

    expect_refused(
        lambda: create_rules(client, site, [rule], dry_run=True), "DryRunOperation"
    )

    assert describe_rules(client, site) == []
    bad = {**rule, "Url": "x"}
    expect_refused(
        lambda: create_rules(client, site, [bad], dry_run=True), "UrlMalformed"
    )


def delete(client: Client, rule_ids: list[str] | str) -> None:
    text = rule_ids if isinstance(rule_ids, str) else json.dumps(rule_ids)
    client.delete_rules(models.DeleteRulesRequest(region_id=REGION, rule_ids=text))


def test_delete_rules_removes_only_the_named_ones(client: Client, site: Site) -> None:
    created = create_rules(
        client,
        site,
        [
            {"RuleName": f"r{n}", "Url": f"/r{n}", "VServerGroupId": site.web}
            for n in range(3)
        ],
    )

    delete(client, [created[0].rule_id, created[2].rule_id])

    assert [r.rule_name for r in describe_rules(client, site)] == ["r1"]
    error = expect_refused(
        lambda: rule_attribute(client, created[0].rule_id),
        "InvalidRuleId.NotFound",
        404,
    )
    assert "Rule does not exist" in error.message


def test_delete_with_an_unknown_id_deletes_nothing(client: Client) -> None:
    site = make_site(client)
    rule_id = create_rules(
        client, site, [{"RuleName": "r", "Url": "/r", "VServerGroupId": site.web}]
    )[0].rule_id

    expect_refused(
        lambda: delete(client, [rule_id, "rule-missing"]),
        "InvalidRuleId.NotFound",
        404,
    )

    assert [r.rule_id for r in describe_rules(client, site)] == [rule_id]


def test_delete_rules_checks_the_id_list(client: Client) -> None:
    for text, code in (("[]", "InvalidParameter"), ("rule-x", "InvalidParameter")):
        expect_refused(lambda t=text: delete(client, t), code)
    error = expect_refused(
        lambda: delete(client, [f"rule-{n}" for n in range(11)]), "InvalidParameter"
    )
    assert "At most 10 ids" in error.message


def set_rule(client: Client, rule_id: str, **fields: Any) -> None:
    client.set_rule(models.SetRuleRequest(region_id=REGION, rule_id=rule_id, **fields))


def test_set_rule_changes_name_and_group(client: Client, site: Site) -> None:
    rule_id = create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.web}]
    )[0].rule_id

    set_rule(client, rule_id, rule_name="api-v2", vserver_group_id=site.api)

    body = rule_attribute(client, rule_id)
    assert (body.rule_name, body.vserver_group_id) == ("api-v2", site.api)


def test_set_rule_with_listener_sync_off_keeps_its_own_settings(
    client: Client, site: Site
) -> None:
    rule_id = create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.web}]
    )[0].rule_id

    set_rule(
        client,
        rule_id,
        listener_sync="off",
        scheduler="rr",
        sticky_session="on",
        sticky_session_type="insert",
        cookie_timeout=600,
        health_check="on",
        health_check_uri="/api/health",
        health_check_interval=5,
        healthy_threshold=4,
    )

    body = rule_attribute(client, rule_id)
    assert body.listener_sync == "off"
    assert (body.scheduler, body.sticky_session, body.sticky_session_type) == (
        "rr",
        "on",
        "insert",
    )
    assert (body.cookie_timeout, body.health_check_uri, body.health_check_interval) == (
        600,
        "/api/health",
        5,
    )
    assert body.healthy_threshold == 4
    # Settings not given come from the listener the rule stopped following.
    assert body.unhealthy_threshold == 3

    set_rule(client, rule_id, listener_sync="on")
    again = rule_attribute(client, rule_id)
    assert (again.listener_sync, again.scheduler, again.health_check_uri) == (
        "on",
        "wrr",
        "/healthz",
    )


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"scheduler": "wlc"}, "InvalidParameter", "Scheduler"),
        ({"health_check_interval": 51}, "InvalidParameter", "HealthCheckInterval"),
        ({"healthy_threshold": 1}, "InvalidParameter", "HealthyThreshold"),
        ({"cookie": "a;b"}, "InvalidParameter", "Cookie"),
        ({"health_check_uri": "/"}, "InvalidParameter", "HealthCheckURI"),
        (
            {"health_check_http_code": "http_2xx,http_6xx"},
            "InvalidParameter",
            "HealthCheckHttpCode",
        ),
        ({"rule_name": "has space"}, "InvalidParameter", "RuleName"),
        ({"vserver_group_id": "rsp-nope"}, "InvalidParameter", "does not exist"),
        ({"sticky_session": "on"}, "MissingParameter", "StickySessionType"),
        (
            {"sticky_session": "on", "sticky_session_type": "server"},
            "MissingParameter",
            "Cookie is required",
        ),
    ],
)
def test_set_rule_refuses_bad_settings(
    client: Client, fields: dict[str, Any], code: str, words: str
) -> None:
    site = make_site(client)
    rule_id = create_rules(
        client,
        site,
        [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.web}],
    )[0].rule_id

    status = 404 if "does not exist" in words else 400
    error = expect_refused(
        lambda: set_rule(client, rule_id, listener_sync="off", **fields),
        code,
        status,
    )

    assert words in error.message
    assert rule_attribute(client, rule_id).listener_sync == "on"


def test_set_rule_name_clash_and_unknown_rule(client: Client, site: Site) -> None:
    first, _ = create_rules(
        client,
        site,
        [
            {"RuleName": "a", "Url": "/a", "VServerGroupId": site.web},
            {"RuleName": "b", "Url": "/b", "VServerGroupId": site.web},
        ],
    )

    expect_refused(
        lambda: set_rule(client, first.rule_id, rule_name="b"), "InvalidParameter"
    )
    expect_refused(
        lambda: set_rule(client, "rule-missing", rule_name="c"),
        "InvalidRuleId.NotFound",
        404,
    )


def test_group_used_by_a_rule_cannot_be_deleted(client: Client, site: Site) -> None:
    rule_id = create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}]
    )[0].rule_id
    request = models.DeleteVServerGroupRequest(
        region_id=REGION, vserver_group_id=site.api
    )

    expect_refused(lambda: client.delete_vserver_group(request), "RspoolRuleExist")

    delete(client, [rule_id])
    client.delete_vserver_group(request)


def test_deleting_the_listener_deletes_its_rules(client: Client, site: Site) -> None:
    rule_id = create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}]
    )[0].rule_id

    client.delete_load_balancer_listener(
        models.DeleteLoadBalancerListenerRequest(
            region_id=REGION, load_balancer_id=site.lb_id, listener_port=80
        )
    )

    expect_refused(
        lambda: rule_attribute(client, rule_id), "InvalidRuleId.NotFound", 404
    )


def test_deleting_the_load_balancer_deletes_its_rules(
    client: Client, site: Site, emulator: Any
) -> None:
    create_rules(
        client, site, [{"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}]
    )

    client.delete_load_balancer(
        models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=site.lb_id)
    )

    assert emulator.control("GET", "state")["tables"]["rules"] == {}


def test_rule_writes_respect_the_configuring_window(
    client: Client, emulator: Any
) -> None:
    site = make_site(client)
    emulator.set_faults(configuring_ms=60_000)
    rule = {"RuleName": "api", "Url": "/api", "VServerGroupId": site.api}
    created = create_rules(client, site, [rule])

    error = expect_refused(
        lambda: create_rules(client, site, [{**rule, "RuleName": "b", "Url": "/b"}]),
        "OperationFailed.ListenerStatusNotSupport",
    )
    expect_refused(
        lambda: set_rule(client, created[0].rule_id, rule_name="c"),
        "OperationFailed.ListenerStatusNotSupport",
    )

    assert "try again later" in error.message
    emulator.set_faults()
    set_rule(client, created[0].rule_id, rule_name="c")
