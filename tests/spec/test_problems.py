"""Each class of spec problem, with its exact location and message."""

from __future__ import annotations

import pytest

from slbsync.spec.load import load_spec
from slbsync.spec.problems import SpecValidationError
from slbsync.targets.registry import known_target_types
from tests.spec.helpers import fixture, problems_of


def test_unknown_field_suggests_the_closest_name():
    problems = problems_of("unknown_field.yaml")

    assert problems[0] == (
        "unknown_field.yaml:12:9 load_balancers.chat.listeners[0].sheduler: "
        'unknown field "sheduler"; did you mean "scheduler"?'
    )
    assert problems[1].startswith(
        "unknown_field.yaml:13:9 load_balancers.chat.listeners[0].colour: "
        'unknown field "colour"; a listener takes protocol, port, server_group, '
    )


def test_unknown_scheduler_lists_the_allowed_values():
    assert problems_of("bad_scheduler.yaml") == [
        "bad_scheduler.yaml:10:64 load_balancers.chat.listeners[0].scheduler: "
        '"fastest" is not a scheduler; use round_robin, weighted_round_robin, '
        "least_connections or source_hash (on alibaba-slb targets also rr, wrr, "
        "wlc, sch, tch or qch)",
        "bad_scheduler.yaml:11:65 load_balancers.chat.listeners[1].scheduler: "
        "sch works on tcp and udp listeners only; this listener is http",
        "bad_scheduler.yaml:17:64 load_balancers.chat-edge.listeners[0].scheduler: "
        '"wlc" is native to another target; on haproxy use round_robin, '
        "weighted_round_robin, least_connections or source_hash",
    ]


def test_out_of_range_values_name_the_range():
    assert problems_of("out_of_range.yaml") == [
        "out_of_range.yaml:9:29 load_balancers.chat.server_groups.ws.servers[0].port: "
        "70000 is out of range; use 1 to 65535",
        "out_of_range.yaml:9:44 load_balancers.chat.server_groups.ws.servers[0]."
        "weight: 101 is out of range; use 0 to 100",
        "out_of_range.yaml:12:15 load_balancers.chat.listeners[0].port: "
        "0 is out of range; use 1 to 65535",
        "out_of_range.yaml:14:27 load_balancers.chat.listeners[0].connection_drain: "
        "5s is out of range; use 10s to 15m, or off",
        "out_of_range.yaml:15:34 load_balancers.chat.listeners[0].health_check."
        "interval: 51s is out of range; use 1s to 50s",
        "out_of_range.yaml:15:47 load_balancers.chat.listeners[0].health_check."
        "healthy: 1 is out of range; use 2 to 10",
        "out_of_range.yaml:15:59 load_balancers.chat.listeners[0].health_check."
        "timeout: 600s is out of range; use 1s to 5m",
    ]


def test_knob_on_wrong_protocol_names_the_protocol():
    assert problems_of("protocol_knobs.yaml") == [
        "protocol_knobs.yaml:12:9 load_balancers.chat.listeners[0].sticky_session: "
        "http and https listeners take sticky_session; this listener is tcp",
        "protocol_knobs.yaml:16:9 load_balancers.chat.listeners[1].connection_drain: "
        "tcp and tls listeners take connection_drain; this listener is http",
        "protocol_knobs.yaml:17:9 load_balancers.chat.listeners[1].http2: "
        "https listeners take http2; this listener is http",
    ]


def test_references_to_undefined_names_suggest_a_fix():
    assert problems_of("bad_references.yaml") == [
        "bad_references.yaml:5:13 load_balancers.chat.target: "
        'there is no target "clod"; did you mean "cloud"?',
        "bad_references.yaml:11:23 load_balancers.chat.listeners[0].server_group: "
        'there is no server group "ws-node"; did you mean "ws-nodes"?',
        "bad_references.yaml:12:14 load_balancers.chat.listeners[0].acl: "
        'there is no acl "offices"; did you mean "office"?',
        "bad_references.yaml:14:50 load_balancers.chat.listeners[0].rules[0]."
        'server_group: there is no server group "api"; this load balancer has '
        "ws-nodes",
    ]


def test_duplicate_listeners_and_servers_point_at_the_first():
    assert problems_of("duplicates.yaml") == [
        "duplicates.yaml:10:13 load_balancers.chat.server_groups.ws.servers[1]: "
        "server i-1:80 is listed twice; the first is at "
        "duplicates.yaml:9:13",
        "duplicates.yaml:13:9 load_balancers.chat.listeners[1]: listener tcp/80 is "
        "given twice; the first is at duplicates.yaml:12:9",
        "duplicates.yaml:15:9 load_balancers.chat.listeners[3]: port 80 is already "
        "taken by listener tcp/80 at duplicates.yaml:12:9; tcp, http and https "
        "listeners cannot share a port (a udp listener can)",
    ]


def test_membership_rules():
    assert problems_of("membership.yaml") == [
        "membership.yaml:8:9 load_balancers.chat.server_groups.found: a discovered "
        "group needs discover: {instance_tags: ..., port: ...}",
        "membership.yaml:9:9 load_balancers.chat.server_groups.found.servers: a "
        "discovered group finds its servers itself; remove servers or use "
        "membership: static",
        "membership.yaml:12:9 load_balancers.chat.server_groups.others.servers: an "
        "external group's servers are registered by others; remove servers or use "
        "membership: static",
        "membership.yaml:14:9 load_balancers.chat.server_groups.listed.discover: "
        "discover is for membership: discovered; this group is static",
    ]


def test_secrets_in_spec_point_to_the_credentials_chain():
    problems = problems_of("secret_in_spec.yaml")

    assert [p.split(": ")[0] for p in problems] == [
        "secret_in_spec.yaml:5:5 targets.cloud.access_key_id",
        "secret_in_spec.yaml:6:5 targets.cloud.AccessKeySecret",
    ]
    assert "credentials chain" in problems[1]
    assert all("do-not-print-this-secret" not in p for p in problems)


def test_secret_nested_in_a_target_option_is_found(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text(
        "targets:\n  t:\n    type: nginx\n    extra:\n      password: hunter2\n"
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    text = str(caught.value)
    assert "targets.t.extra.password: credentials never go in a spec" in text
    assert "hunter2" not in text


def test_unknown_target_type_lists_known_types():
    known = known_target_types()
    listing = ", ".join(known[:-1]) + " or " + known[-1]

    assert problems_of("unknown_target_type.yaml") == [
        'unknown_target_type.yaml:3:11 targets.lb.type: "traefik" is not a type; '
        f"use {listing}"
    ]
    assert {"alibaba-slb", "haproxy", "nginx"} <= set(known)


def test_many_problems_are_reported_in_one_run():
    assert problems_of("many_problems.yaml") == [
        "many_problems.yaml:6:19 load_balancers.chat.address_type: "
        '"public" is not an address type; use internet or intranet',
        "many_problems.yaml:7:11 load_balancers.chat.tags: the tag "
        '"slbsync-owner" is slbsync\'s own ownership mark; choose another',
        "many_problems.yaml:9:50 load_balancers.chat.server_groups.ws.servers[0]."
        'weight: must be a whole number, not "high"',
        "many_problems.yaml:11:20 load_balancers.chat.listeners[0].protocol: "
        '"smtp" is not a protocol; use tcp, udp, http, https or tls',
        "many_problems.yaml:12:9 load_balancers.chat.listeners[1]: an https "
        "listener needs a certificate",
        "many_problems.yaml:13:49 load_balancers.chat.listeners[2].server_group: "
        'there is no server group "nowhere"; this load balancer has ws',
        "many_problems.yaml:13:73 load_balancers.chat.listeners[2].gzip: "
        "http and https listeners take gzip; this listener is tcp",
        'many_problems.yaml:14:1 stray: unknown field "stray"; a spec has '
        "targets, load_balancers, acls, certificates (and x-... for anchors)",
    ]


def test_error_message_lists_every_problem():
    with pytest.raises(SpecValidationError) as caught:
        load_spec([fixture("membership.yaml")], environ={})

    message = str(caught.value)
    assert message.startswith("the spec has 4 problems:\n  ")
    assert message.count("\n") == 4


@pytest.mark.parametrize(
    ("listener", "message"),
    [
        (
            "{protocol: http, port: 80, server_group: ws, "
            "sticky_session: {type: server}}",
            "sticky_session: type server needs cookie: the server's cookie name",
        ),
        (
            "{protocol: http, port: 80, server_group: ws, "
            "sticky_session: {type: insert}}",
            "sticky_session: type insert needs cookie_timeout, e.g. 1h",
        ),
        (
            "{protocol: udp, port: 80, server_group: ws, health_check: {type: tcp}}",
            "health_check.type: udp listeners check with udp, not tcp",
        ),
        (
            "{protocol: tcp, port: 80, server_group: ws, health_check: {request: x}}",
            "health_check.request: request is for udp checks; this check is tcp",
        ),
        (
            "{protocol: http, port: 80, server_group: ws, "
            "rules: [{name: r, server_group: ws}]}",
            "rules[0]: a rule needs a domain, a url or both",
        ),
        (
            "{protocol: tcp, port: 80}",
            "listeners[0]: a listener needs a server_group (or, on http, "
            "redirect_to_port)",
        ),
        (
            "{protocol: tcp, port: 80, server_group: ws, bandwidth: 0}",
            "bandwidth: 0 is out of range; use -1 (no limit) or 1 to 5120",
        ),
        (
            "{protocol: tcp, port: 80, server_group: ws, connection_drain: 1x}",
            'connection_drain: "1x" is not a duration; write 300s, 5m, 1h or a '
            "number of seconds",
        ),
        (
            "{protocol: tcp, port: 80, server_group: ws, proxy_protocol: maybe}",
            'proxy_protocol: must be true or false, not "maybe"',
        ),
        (
            "{protocol: tcp, port: '80', server_group: ws}",
            "port: must be a whole number; write 80 without quotes",
        ),
        (
            "{protocol: TCP, port: 80, server_group: ws}",
            'protocol: "TCP" is not a protocol; did you mean "tcp"?',
        ),
    ],
)
def test_listener_problem(tmp_path, listener, message):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets: {cloud: {type: alibaba-slb, region: cn-hangzhou}}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: cloud\n"
        "    server_groups: {ws: {servers: [{id: i-1, port: 80}]}}\n"
        f"    listeners:\n      - {listener}\n"
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    texts = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert f"load_balancers.chat.listeners[0].{message}" in texts or any(
        text.endswith(message) for text in texts
    ), texts


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            "instance_charge_type: PayByCLCU, internet_charge_type: paybybandwidth",
            "internet_charge_type: a PayByCLCU load balancer pays for traffic",
        ),
        ("bandwidth: 10", "bandwidth: bandwidth applies to internet_charge_type"),
        (
            "modification_protection_reason: because",
            "modification_protection_reason: a reason is kept only while",
        ),
        ("tags: {aliyun-x: y}", 'tags: tag "aliyun-x" may not start with aliyun'),
        ("tags: [a, b]", "tags: tags are a map of key: value, not a list"),
        ("spec: slb.s9.huge", 'spec: "slb.s9.huge" is not a spec; use slb.s1.small'),
    ],
)
def test_load_balancer_problem(tmp_path, fields, message):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets: {cloud: {type: alibaba-slb, region: cn-hangzhou}}\n"
        f"load_balancers:\n  chat: {{target: cloud, {fields}}}\n"
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    texts = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert any(text.startswith(f"load_balancers.chat.{message}") for text in texts)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ("endpoint: local", None),
        ("endpoint: slb.cn-hangzhou.aliyuncs.com", None),
        ("endpoint: http://127.0.0.1:18080", None),
        ("lock: redis://127.0.0.1:6379/0", None),
        ("lock: file", None),
        (
            "endpoint: ftp://example.com",
            'endpoint: "ftp://example.com" is not valid here; use local, a host name '
            "such as slb.cn-hangzhou.aliyuncs.com, or an http(s):// URL",
        ),
        (
            "lock: zookeeper",
            'lock: "zookeeper" is not valid here; use file, '
            "file:///an/absolute/directory, or a redis://, rediss:// or unix:// URL",
        ),
        ("lock: file:///var/lib/slbsync/locks", None),
        (
            "lock: file://locks",
            'lock: "file://locks" is not valid here; use file, '
            "file:///an/absolute/directory, or a redis://, rediss:// or unix:// URL",
        ),
        (
            "regoin: cn-beijing",
            'regoin: unknown field "regoin"; did you mean "region"?',
        ),
    ],
)
def test_target_fields(tmp_path, fields, problem):
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"targets:\n  cloud: {{type: alibaba-slb, region: cn-hangzhou, {fields}}}\n"
    )

    if problem is None:
        assert load_spec([path], environ={}).targets[0].name == "cloud"
        return
    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})
    assert [f"{p.path}: {p.message}" for p in caught.value.problems] == [
        f"targets.cloud.{problem}"
    ]


def test_empty_free_text_list_says_leave_it_out(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n  aws: {type: aws-elbv2}\n"
        "load_balancers:\n  chat: {target: aws, subnets: []}\n"
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    assert [p.message for p in caught.value.problems] == [
        "must list at least one item; leave subnets out for none"
    ]
