"""Property, on the emulator: from live states built behind slbsync's back,
``plan`` then ``apply --auto-approve`` converges with calls the emulator
accepts, and leaves alone what it does not own.

Each example builds load balancers by raw SDK calls, as a console or a
script does: some carry slbsync's ownership tag (so they stand for owned
load balancers hand-edited into any valid state, odd settings included),
others carry none and the spec either adopts them or leaves them alone.
Listeners of all four protocols get random knobs; https listeners use a
certificate uploaded by hand, and http ones may redirect to them. A random
spec over the same names, with https listeners whose certificate comes
from PEM files and http listeners that redirect, is then applied with the
CLI, and the emulator is asked what it refused and what it holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_slb20140515 import models as m
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slbsync.targets.base import DEFAULT_OWNER, OWNER_TAG
from tests.e2e.harness import (
    REGION,
    EmulatorProcess,
    cli_in_process,
    load_balancers_named,
    refused_writes,
    slb_client,
    write_spec,
    writes_made,
)
from tests.importer.handmade import (
    add_default_servers,
    add_servers,
    create_acl,
    create_group,
    create_lb,
    listener,
    upload_certificate,
)
from tests.importer.test_roundtrip import KNOBS, SCHEDULERS
from tests.importer.test_roundtrip import servers as live_servers
from tests.targets.alibaba_slb.certs import write_certificate

pytestmark = pytest.mark.slow

NAMES = ("alpha", "beta", "gamma")
GROUPS = ("ws", "api")
PORTS = (80, 443, 8443, 9000)
PORTABLE = ("round_robin", "weighted_round_robin", "least_connections")
on_off = st.sampled_from(["on", "off"])


# -- live state, built by hand -------------------------------------------------


@st.composite
def live_listeners(draw: Any, groups: list[str]) -> list[dict[str, Any]]:
    """One listener per port; https ones before the http ones that redirect."""
    ports = sorted(draw(st.sets(st.sampled_from(PORTS), max_size=3)))
    items = []
    for port in ports:
        protocol = draw(st.sampled_from(["tcp", "udp", "http", "https"]))
        items.append(
            {
                "protocol": protocol,
                "port": port,
                "group": draw(st.sampled_from(groups)),
                "default_servers": draw(st.integers(0, 5)) == 0,
                "scheduler": draw(st.sampled_from(SCHEDULERS[protocol])),
                "knobs": draw(KNOBS[protocol]()),
                "acl": protocol != "udp" and draw(st.booleans()),
                "stopped": draw(st.integers(0, 4)) == 0,
            }
        )
    https = [i["port"] for i in items if i["protocol"] == "https"]
    for item in items:
        if item["protocol"] == "http" and https and draw(st.booleans()):
            item["redirect_to"] = draw(st.sampled_from(https))
    return sorted(items, key=lambda i: i["protocol"] != "https")


@st.composite
def live_load_balancer(draw: Any) -> dict[str, Any]:
    groups = sorted(draw(st.sets(st.sampled_from(GROUPS), min_size=1)))
    return {
        "owned": draw(st.booleans()),
        "address_type": draw(st.sampled_from(["internet", "intranet"])),
        "charge": draw(st.sampled_from([None, "PayByCLCU"])),
        "delete_protection": draw(st.sampled_from(["off", "off", "off", "on"])),
        "tags": draw(
            st.dictionaries(
                st.sampled_from(["app", "env"]), st.sampled_from(["chat", "x"])
            )
        ),
        "groups": {name: draw(live_servers()) for name in groups},
        "listeners": draw(live_listeners(groups)),
    }


def build_live(client: Any, fleet: dict[str, Any], folder: Path) -> None:
    acl = create_acl(client, "hand-acl", [("10.0.0.0/8", "office")])
    certificate = upload_certificate(client, folder, "hand-cert")
    for name, lb in fleet.items():
        extra = {"instance_charge_type": lb["charge"]} if lb["charge"] else {}
        lb_id = create_lb(
            client,
            name,
            address_type=lb["address_type"],
            delete_protection=lb["delete_protection"],
            **extra,
        )
        tags = dict(lb["tags"])
        if lb["owned"]:
            tags[OWNER_TAG] = DEFAULT_OWNER
        if tags:
            _tag(client, lb_id, tags)
        groups = {
            group: create_group(client, lb_id, group, members)
            for group, members in lb["groups"].items()
        }
        for item in lb["listeners"]:
            _build_listener(client, lb_id, item, groups, acl, certificate)


def _tag(client: Any, lb_id: str, tags: dict[str, str]) -> None:
    client.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="instance",
            resource_id=[lb_id],
            tag=[m.TagResourcesRequestTag(key=k, value=v) for k, v in tags.items()],
        )
    )


def _build_listener(
    client: Any,
    lb_id: str,
    item: dict[str, Any],
    groups: dict[str, str],
    acl: str,
    certificate: str,
) -> None:
    extra = dict(item["knobs"])
    protocol, port = item["protocol"], item["port"]
    if protocol == "https":
        extra["server_certificate_id"] = certificate
    if item["acl"]:
        extra.update(acl_status="on", acl_id=acl, acl_type="white")
    if item.get("redirect_to"):
        extra.update(listener_forward="on", forward_port=item["redirect_to"])
    group: str | None = groups[item["group"]]
    if item["default_servers"]:
        add_default_servers(client, lb_id, [("i-bp1hand001", 100)])
        group, extra["backend_server_port"] = None, 8080
    listener(client, protocol, lb_id, port, group, scheduler=item["scheduler"], **extra)
    if item["stopped"]:
        client.stop_load_balancer_listener(
            m.StopLoadBalancerListenerRequest(
                region_id=REGION,
                load_balancer_id=lb_id,
                listener_port=port,
                listener_protocol=protocol,
            )
        )


# -- desired state, a spec over the same names ----------------------------------


@st.composite
def desired_servers(draw: Any) -> list[dict[str, Any]]:
    ids = draw(st.sets(st.integers(0, 30), max_size=6))
    port = draw(st.sampled_from([80, 8080, 9000]))
    return [
        {"id": f"i-bp1hand{n:03d}", "port": port, "weight": draw(st.integers(0, 100))}
        for n in sorted(ids)
    ]


def _layer4_knobs(draw: Any, protocol: str) -> dict[str, Any]:
    knobs: dict[str, Any] = {}
    if protocol == "udp":
        if draw(st.booleans()):
            knobs["health_check"] = {"type": "udp", "request": "ping", "expect": "pong"}
        return knobs
    if draw(st.booleans()):
        knobs["connection_drain"] = draw(st.sampled_from(["off", "10s", "300s"]))
    knobs["persistence_timeout"] = draw(st.sampled_from(["0s", "60s", "1h"]))
    if draw(st.booleans()):
        knobs["established_timeout"] = draw(st.sampled_from(["10s", "15m"]))
    knobs["proxy_protocol"] = draw(st.booleans())
    if draw(st.booleans()):
        knobs["health_check"] = {
            "type": "http",
            "path": "/healthz",
            "http_codes": draw(
                st.sampled_from([["http_2xx"], ["http_3xx", "http_2xx"]])
            ),
        }
    return knobs


def _http_knobs(draw: Any, protocol: str) -> dict[str, Any]:
    knobs: dict[str, Any] = {
        "gzip": draw(st.booleans()),
        "idle_timeout": f"{draw(st.integers(1, 60))}s",
        "x_forwarded_for": draw(
            st.sampled_from([True, {"proto": True}, {"slb_id": True, "slb_ip": True}])
        ),
        "health_check": draw(
            st.sampled_from([False, {"path": "/status", "method": "get"}])
        ),
    }
    sticky = draw(st.sampled_from([None, "insert", "server"]))
    if sticky == "insert":
        knobs["sticky_session"] = {"type": "insert", "cookie_timeout": "1h"}
    elif sticky == "server":
        knobs["sticky_session"] = {"type": "server", "cookie": "SESSIONID"}
    if protocol == "https":
        knobs["certificate"] = "chat-cert"
        knobs["http2"] = draw(st.booleans())
        knobs["tls_cipher_policy"] = draw(
            st.sampled_from(["tls_cipher_policy_1_0", "tls_cipher_policy_1_2"])
        )
    return knobs


@st.composite
def desired_listeners(draw: Any, groups: list[str]) -> list[dict[str, Any]]:
    ports = sorted(draw(st.sets(st.sampled_from(PORTS), max_size=3)))
    protocols = {
        p: draw(st.sampled_from(["tcp", "udp", "http", "https"])) for p in ports
    }
    https = [p for p, protocol in protocols.items() if protocol == "https"]
    items = []
    for port, protocol in protocols.items():
        item: dict[str, Any] = {"protocol": protocol, "port": port}
        if protocol == "http" and https and draw(st.booleans()):
            item["redirect_to_port"] = draw(st.sampled_from(https))
            items.append(item)
            continue
        item["server_group"] = draw(st.sampled_from(groups))
        item["scheduler"] = draw(st.sampled_from(PORTABLE))
        if protocol in ("tcp", "udp"):
            item.update(_layer4_knobs(draw, protocol))
        else:
            item.update(_http_knobs(draw, protocol))
        if protocol != "udp" and draw(st.booleans()):
            kind = draw(st.sampled_from(["white", "black"]))
            item["acl"] = {"name": "office", "type": kind}
        items.append(item)
    return items


@st.composite
def desired_load_balancer(draw: Any) -> dict[str, Any]:
    groups = sorted(draw(st.sets(st.sampled_from(GROUPS), min_size=1)))
    return {
        "target": "cloud",
        "adopt": draw(st.booleans()),
        "address_type": draw(st.sampled_from(["internet", "intranet"])),
        "deletion_protection": draw(st.booleans()),
        "tags": draw(
            st.dictionaries(
                st.sampled_from(["app", "env"]), st.sampled_from(["chat", "x"])
            )
        ),
        "server_groups": {
            name: {"servers": draw(desired_servers())} for name in groups
        },
        "listeners": draw(desired_listeners(groups)),
    }


@st.composite
def states(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Live and desired fleets; a desired load balancer mostly keeps the live
    one's address type, which SLB cannot change, so most plans can be applied."""
    live = draw(
        st.dictionaries(st.sampled_from(NAMES), live_load_balancer(), min_size=1)
    )
    desired = draw(st.dictionaries(st.sampled_from(NAMES), desired_load_balancer()))
    for name in live.keys() & desired.keys():
        if draw(st.integers(0, 9)) > 0:
            desired[name]["address_type"] = live[name]["address_type"]
    return live, desired


# -- what the emulator says -------------------------------------------------------


def state_of(emulator: EmulatorProcess, lb_ids: set[str]) -> dict[str, Any]:
    """Every stored record of the load balancers ``lb_ids``, table by table."""
    tables = emulator.control("GET", "state")["tables"]
    found = {
        table: {
            key: record
            for key, record in rows.items()
            if lb_ids & set(json.dumps([key, record]).split('"'))
        }
        for table, rows in tables.items()
    }
    return {table: records for table, records in found.items() if records}


def live_ids(emulator: EmulatorProcess) -> dict[str, str]:
    client = slb_client(emulator)
    body = client.describe_load_balancers(
        m.DescribeLoadBalancersRequest(region_id=REGION, page_size=100)
    ).body.to_map()
    return {
        lb["LoadBalancerName"]: lb["LoadBalancerId"]
        for lb in body.get("LoadBalancers", {}).get("LoadBalancer", [])
    }


def left_alone(live: dict[str, Any], desired: dict[str, Any]) -> set[str]:
    """Names of the unowned load balancers the spec does not adopt."""
    return {
        name
        for name, lb in live.items()
        if not lb["owned"] and not (name in desired and desired[name]["adopt"])
    }


def refusals_expected(
    live: dict[str, Any], desired: dict[str, Any], prune: bool
) -> list[str]:
    """What the plan must refuse: changes SLB has no call for."""
    refusals = []
    for name, lb in sorted(live.items()):
        managed = lb["owned"] or (name in desired and desired[name]["adopt"])
        if not managed:
            continue
        if name not in desired:
            if prune and lb["delete_protection"] == "on":
                refusals.append(f"load balancer {name}: delete protection")
        elif desired[name]["address_type"] != lb["address_type"]:
            refusals.append(f"load balancer {name}: address_type")
    return refusals


def expected_counts(
    live: dict[str, Any], desired: dict[str, Any], prune: bool
) -> dict[str, int]:
    pruned = {n for n, lb in live.items() if lb["owned"] and n not in desired}
    kept = set(live) | set(desired)
    return dict.fromkeys(sorted(kept - (pruned if prune else set())), 1)


# -- the property -----------------------------------------------------------------


def write_desired(folder: Path, url: str, desired: dict[str, Any]) -> Path:
    certs = folder / "certs"
    certs.mkdir(parents=True)
    write_certificate(certs, "chat-cert", "chat.example.com")
    return write_spec(
        folder,
        url,
        desired,
        acls={
            "office": {"target": "cloud", "entries": ["10.0.0.0/8", "192.168.0.0/16"]}
        },
        certificates={
            "chat-cert": {
                "target": "cloud",
                "certificate": "certs/chat.example.com.crt",
                "private_key": "certs/chat.example.com.key",
            }
        },
    )


def apply_and_check(
    emulator: EmulatorProcess,
    spec: Path,
    live: dict[str, Any],
    desired: dict[str, Any],
    prune: bool,
) -> None:
    """Apply ``spec`` over ``live``: the plan is refused by design, before any
    write, or it converges with calls the emulator accepts and leaves the
    unowned load balancers it does not adopt as they were."""
    untouched = {live_ids(emulator)[name] for name in left_alone(live, desired)}
    before = state_of(emulator, untouched)
    emulator.control("DELETE", "calls")

    flags = ["--auto-approve", "--force", "--rate-limit", "1000"]
    applied = cli_in_process(["apply", str(spec), *flags, *(["--prune"] * prune)])

    refusals = refusals_expected(live, desired, prune)
    event(f"refused by design: {bool(refusals)}")
    if refusals:
        message = str(applied.exception)
        assert applied.exit_code == 1
        assert "the plan asks for what SLB cannot do" in message
        for refusal in refusals:
            assert refusal in message
        assert writes_made(emulator) == []
        return
    assert applied.exit_code == 0, applied.output
    event(f"writes: {'some' if writes_made(emulator) else 'none'}")
    assert refused_writes(emulator) == {}
    again = cli_in_process(
        ["plan", str(spec), "--detailed-exitcode", *(["--prune"] * prune)]
    )
    assert again.exit_code == 0, again.output
    assert state_of(emulator, untouched) == before
    assert load_balancers_named(emulator) == expected_counts(live, desired, prune)


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(fleets=states(), prune=st.booleans())
def test_handmade_state_converges_and_unowned_is_left_alone(
    emulator_process: EmulatorProcess,
    tmp_path_factory: pytest.TempPathFactory,
    fleets: tuple[dict[str, Any], dict[str, Any]],
    prune: bool,
) -> None:
    live, desired = fleets
    emulator_process.reset()
    folder = tmp_path_factory.mktemp("handmade")
    build_live(slb_client(emulator_process), live, folder)
    event(f"left alone: {len(left_alone(live, desired))} of {len(live)}")
    spec = write_desired(folder / "desired", emulator_process.url, desired)

    apply_and_check(emulator_process, spec, live, desired, prune)


# -- owned load balancers slbsync applied, then edited by hand ----------------------


def edit_by_hand(client: Any, data: st.DataObject) -> None:
    """Random console edits to every listener and group the emulator holds."""
    # In a stable order, so that hypothesis draws the same way each time.
    for _, lb_id in sorted(live_ids_of(client).items()):
        listeners = _listeners_of(client, lb_id)
        listeners.sort(key=lambda i: (i["ListenerPort"], i["ListenerProtocol"]))
        for item in listeners:
            protocol, port = item["ListenerProtocol"], item["ListenerPort"]
            edit = data.draw(st.sampled_from(["none", "knobs", "stop"]))
            if edit == "knobs":
                _set_listener(
                    client, lb_id, protocol, port, data.draw(KNOBS[protocol]())
                )
            elif edit == "stop" and item["Status"] == "running":
                client.stop_load_balancer_listener(
                    m.StopLoadBalancerListenerRequest(
                        region_id=REGION,
                        load_balancer_id=lb_id,
                        listener_port=port,
                        listener_protocol=protocol,
                    )
                )
        for group in _groups_of(client, lb_id):
            _edit_members(client, group, data)


def live_ids_of(client: Any) -> dict[str, str]:
    body = client.describe_load_balancers(
        m.DescribeLoadBalancersRequest(region_id=REGION, page_size=100)
    ).body.to_map()
    return {
        lb["LoadBalancerName"]: lb["LoadBalancerId"]
        for lb in body.get("LoadBalancers", {}).get("LoadBalancer", [])
    }


def _listeners_of(client: Any, lb_id: str) -> list[dict[str, Any]]:
    body = client.describe_load_balancer_listeners(
        m.DescribeLoadBalancerListenersRequest(
            region_id=REGION, load_balancer_id=[lb_id]
        )
    ).body.to_map()
    return list(body.get("Listeners", []))


def _set_listener(
    client: Any, lb_id: str, protocol: str, port: int, knobs: dict[str, Any]
) -> None:
    name = protocol.upper()
    request = getattr(m, f"SetLoadBalancer{name}ListenerAttributeRequest")
    call = getattr(client, f"set_load_balancer_{protocol}listener_attribute")
    call(request(region_id=REGION, load_balancer_id=lb_id, listener_port=port, **knobs))


def _groups_of(client: Any, lb_id: str) -> list[str]:
    body = client.describe_vserver_groups(
        m.DescribeVServerGroupsRequest(region_id=REGION, load_balancer_id=lb_id)
    ).body.to_map()
    groups = body.get("VServerGroups", {}).get("VServerGroup", [])
    by_name = sorted(groups, key=lambda g: g["VServerGroupName"])
    return [g["VServerGroupId"] for g in by_name]


def _edit_members(client: Any, group: str, data: st.DataObject) -> None:
    """Add a few servers (some already members, at another weight)."""
    members = data.draw(live_servers())
    if members:
        add_servers(client, group, members)


@PROPERTY
@given(data=st.data(), prune=st.booleans())
def test_hand_edited_owned_state_converges(
    emulator_process: EmulatorProcess,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    prune: bool,
) -> None:
    emulator_process.reset()
    folder = tmp_path_factory.mktemp("edited")
    first = data.draw(st.dictionaries(st.sampled_from(NAMES), desired_load_balancer()))
    spec = write_desired(folder / "first", emulator_process.url, first)
    applied = cli_in_process(
        ["apply", str(spec), "--auto-approve", "--rate-limit", "1000"]
    )
    assert applied.exit_code == 0, applied.output
    edit_by_hand(slb_client(emulator_process), data)

    desired = data.draw(
        st.dictionaries(st.sampled_from(NAMES), desired_load_balancer())
    )
    for name in first.keys() & desired.keys():
        desired[name]["address_type"] = first[name]["address_type"]
    live = {name: _as_live(lb) for name, lb in first.items()}
    spec = write_desired(folder / "desired", emulator_process.url, desired)

    apply_and_check(emulator_process, spec, live, desired, prune)


def _as_live(lb: dict[str, Any]) -> dict[str, Any]:
    """What ``apply_and_check`` needs of an owned load balancer slbsync made."""
    return {
        "owned": True,
        "address_type": lb["address_type"],
        "delete_protection": "on" if lb["deletion_protection"] else "off",
    }
