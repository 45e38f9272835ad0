"""Property: for any state the emulator can hold, built by hand through the
official SDK, the imported spec plans clean, or import refuses it by name.

Each example builds load balancers, VServer groups, listeners (tcp, udp,
http and https, with random knobs), ACLs, rules, servers attached to the
load balancer itself and master-slave groups straight through the SDK,
imports them with --adopt, and plans the written file with a fresh target.
A spec sends a listener's traffic to a VServer group only, so an example
with a listener on the default servers or on a master-slave group must be
refused with a message naming each such listener.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alibabacloud_slb20140515 import models as m
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slbsync.errors import TargetError
from slbsync.importer.run import ImportFilters, import_spec
from slbsync.plan.make import make_plan
from slbsync.spec.load import load_spec
from slbsync.spec.model import TargetSpec
from slbsync.targets.registry import make_target
from tests.conftest import REGION, EmulatorHandle, make_slb_client
from tests.importer.handmade import (
    add_default_servers,
    create_acl,
    create_group,
    create_lb,
    create_master_slave_group,
    listener,
    rule,
    upload_certificate,
)

SCHEDULERS = {
    "tcp": ["wrr", "rr", "wlc", "sch", "tch"],
    "udp": ["wrr", "rr", "wlc", "sch", "tch", "qch"],
    "http": ["wrr", "rr", "wlc"],
    "https": ["wrr", "rr", "wlc"],
}
on_off = st.sampled_from(["on", "off"])


@st.composite
def servers(draw: Any) -> list[tuple[str, int, int]]:
    ids = draw(st.sets(st.integers(0, 30), max_size=6))
    port = draw(st.sampled_from([80, 8080, 9000]))
    return [(f"i-bp1hand{n:03d}", port, draw(st.integers(0, 100))) for n in sorted(ids)]


def _health(draw: Any, layer4: bool) -> dict[str, Any]:
    knobs: dict[str, Any] = {
        "health_check_interval": draw(st.integers(1, 50)),
        "healthy_threshold": draw(st.integers(2, 10)),
        "unhealthy_threshold": draw(st.integers(2, 10)),
    }
    timeout = draw(st.integers(1, 300))
    if layer4:
        knobs["health_check_connect_timeout"] = timeout
    else:
        knobs["health_check_timeout"] = timeout
    if draw(st.booleans()):
        knobs["health_check_connect_port"] = draw(st.integers(1, 65535))
    return knobs


@st.composite
def tcp_knobs(draw: Any) -> dict[str, Any]:
    knobs = _health(draw, layer4=True)
    knobs["persistence_timeout"] = draw(st.sampled_from([0, 0, 60, 3600]))
    knobs["established_timeout"] = draw(st.integers(10, 900))
    if draw(st.booleans()):
        knobs["connection_drain"] = "on"
        knobs["connection_drain_timeout"] = draw(st.integers(10, 900))
    if draw(st.booleans()):
        knobs["health_check_type"] = "http"
        knobs["health_check_uri"] = draw(st.sampled_from(["/healthz", "/ping"]))
        knobs["health_check_http_code"] = draw(
            st.sampled_from(["http_2xx", "http_2xx,http_3xx"])
        )
    knobs["proxy_protocol_v2enabled"] = draw(st.booleans())
    return knobs


@st.composite
def udp_knobs(draw: Any) -> dict[str, Any]:
    knobs = _health(draw, layer4=True)
    if draw(st.booleans()):
        knobs["health_check_req"] = "ping"
        knobs["health_check_exp"] = "pong"
    return knobs


@st.composite
def http_knobs(draw: Any) -> dict[str, Any]:
    knobs = _health(draw, layer4=False)
    knobs["health_check"] = draw(on_off)
    knobs["health_check_uri"] = draw(st.sampled_from(["/healthz", "/status"]))
    knobs["gzip"] = draw(on_off)
    knobs["idle_timeout"] = draw(st.integers(1, 60))
    knobs["request_timeout"] = draw(st.integers(1, 180))
    knobs["xforwarded_for_proto"] = draw(on_off)
    sticky = draw(st.sampled_from(["off", "insert", "server"]))
    knobs["sticky_session"] = "off" if sticky == "off" else "on"
    if sticky == "insert":
        knobs["sticky_session_type"] = "insert"
        knobs["cookie_timeout"] = draw(st.integers(1, 86400))
    elif sticky == "server":
        knobs["sticky_session_type"] = "server"
        knobs["cookie"] = "SESSIONID"
    return knobs


@st.composite
def https_knobs(draw: Any) -> dict[str, Any]:
    knobs = draw(http_knobs())
    knobs["enable_http_2"] = draw(on_off)
    knobs["tlscipher_policy"] = draw(
        st.sampled_from(["tls_cipher_policy_1_0", "tls_cipher_policy_1_2"])
    )
    return knobs


KNOBS = {
    "tcp": tcp_knobs,
    "udp": udp_knobs,
    "http": http_knobs,
    "https": https_knobs,
}


@st.composite
def load_balancer(draw: Any) -> dict[str, Any]:
    groups = sorted(draw(st.sets(st.sampled_from(["ws", "api", "admin"]), min_size=1)))
    ports = sorted(draw(st.sets(st.sampled_from([80, 443, 8080, 9000]), max_size=3)))
    listeners = []
    for port in ports:
        protocol = draw(st.sampled_from(["tcp", "udp", "http", "https"]))
        listeners.append(
            {
                "protocol": protocol,
                "port": port,
                "sends_to": draw(st.sampled_from(SENDS_TO[protocol])),
                "group": draw(st.sampled_from(groups)),
                "scheduler": draw(st.sampled_from(SCHEDULERS[protocol])),
                "knobs": draw(KNOBS[protocol]()),
                "acl": protocol != "udp" and draw(st.booleans()),
                "acl_type": draw(st.sampled_from(["white", "black"])),
                "rule": protocol in ("http", "https") and draw(st.booleans()),
                "description": draw(st.sampled_from([None, "chat-traffic", "ops"])),
            }
        )
    return {
        "groups": {name: draw(servers()) for name in groups},
        "listeners": listeners,
        "default_servers": [
            (f"i-bp1hand{n:03d}", draw(st.integers(0, 100)))
            for n in sorted(draw(st.sets(st.integers(0, 30), max_size=3)))
        ],
        "spare_master_slave_group": draw(st.booleans()),
        "address_type": draw(st.sampled_from(["internet", "intranet"])),
        "deletion_protection": draw(on_off),
        "tags": draw(
            st.dictionaries(
                st.sampled_from(["app", "team", "env"]),
                st.sampled_from(["chat", "im", "prod"]),
                max_size=2,
            )
        ),
    }


# Where a listener sends its traffic: mostly a VServer group, the one thing a
# spec can say; master-slave groups exist for layer-4 listeners only.
SENDS_TO = {
    "tcp": ["vserver_group"] * 4 + ["default_servers", "master_slave_group"],
    "udp": ["vserver_group"] * 4 + ["default_servers", "master_slave_group"],
    "http": ["vserver_group"] * 5 + ["default_servers"],
    "https": ["vserver_group"] * 5 + ["default_servers"],
}
fleets = st.dictionaries(
    st.sampled_from(["chat-edge", "im-gateway"]), load_balancer(), min_size=1
)
acl_entries = st.lists(
    st.sampled_from(
        [("10.0.0.0/8", "office"), ("192.168.0.0/16", ""), ("172.16.0.0/12", "vpn")]
    ),
    unique=True,
)


def _build(
    client: Any, fleet: dict[str, Any], entries: list[tuple[str, str]], folder: Path
) -> None:
    acl = create_acl(client, "office", entries)
    certificate = upload_certificate(client, folder, "chat-cert")
    for name, lb in fleet.items():
        lb_id = create_lb(
            client,
            name,
            address_type=lb["address_type"],
            delete_protection=lb["deletion_protection"],
        )
        if lb["tags"]:
            client.tag_resources(
                m.TagResourcesRequest(
                    region_id=REGION,
                    resource_type="instance",
                    resource_id=[lb_id],
                    tag=[
                        m.TagResourcesRequestTag(key=k, value=v)
                        for k, v in sorted(lb["tags"].items())
                    ],
                )
            )
        groups = {
            group: create_group(client, lb_id, group, members)
            for group, members in lb["groups"].items()
        }
        _build_servers_outside_groups(client, lb_id, lb)
        for item in lb["listeners"]:
            _build_listener(client, lb_id, item, groups, acl, certificate)


def _build_servers_outside_groups(client: Any, lb_id: str, lb: dict[str, Any]) -> None:
    """Servers on the load balancer itself, and a master-slave group no
    listener uses: neither is in a spec, and neither may stop an import."""
    if lb["default_servers"]:
        add_default_servers(client, lb_id, lb["default_servers"])
    if lb["spare_master_slave_group"]:
        create_master_slave_group(
            client, lb_id, "spare", ("i-bp1hand001", 80), ("i-bp1hand002", 80)
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
    if item["protocol"] == "https":
        extra["server_certificate_id"] = certificate
    if item["description"]:
        extra["description"] = item["description"]
    if item["acl"]:
        extra.update(acl_status="on", acl_id=acl, acl_type=item["acl_type"])
    group: str | None = groups[item["group"]]
    if item["sends_to"] == "default_servers":
        group, extra["backend_server_port"] = None, 8080
    elif item["sends_to"] == "master_slave_group":
        group, extra["master_slave_server_group_id"] = (
            None,
            create_master_slave_group(
                client,
                lb_id,
                f"ms-{item['port']}",
                ("i-bp1hand010", 8080),
                ("i-bp1hand011", 8080),
            ),
        )
    listener(
        client, item["protocol"], lb_id, item["port"], group,
        scheduler=item["scheduler"], **extra,
    )  # fmt: skip
    if item["rule"]:
        rule(
            client,
            lb_id,
            item["port"],
            "api",
            groups[item["group"]],
            item["protocol"],
            url="/api",
        )


def _refused_listeners(fleet: dict[str, Any]) -> list[str]:
    """What import must name: each listener not on a VServer group."""
    uses = {
        "default_servers": "uses the load balancer's default servers",
        "master_slave_group": "uses master-slave group",
    }
    return [
        f"{name} {item['protocol']}/{item['port']} {uses[item['sends_to']]}"
        for name, lb in sorted(fleet.items())
        for item in lb["listeners"]
        if item["sends_to"] != "vserver_group"
    ]


@pytest.fixture
def cloud(emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> EmulatorHandle:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    return emulator


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fleet=fleets, entries=acl_entries)
def test_imported_spec_plans_clean_for_any_handmade_state(
    cloud: EmulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
    fleet: dict[str, Any],
    entries: list[tuple[str, str]],
) -> None:
    cloud.reset()
    folder = tmp_path_factory.mktemp("import")
    _build(make_slb_client(cloud), fleet, entries, folder)
    target = TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region=cloud.region,
        endpoint=f"http://{cloud.endpoint}",
        options=(("burst", 100), ("rate", 1000)),
    )

    refused = _refused_listeners(fleet)
    event("refused" if refused else "imported")
    if refused:
        with pytest.raises(TargetError) as error:
            import_spec(target, ImportFilters(), adopt=True, lock_dir=folder / "locks")
        message = str(error.value)
        assert message.startswith("cannot import listeners without a VServer group")
        for listener_text in refused:
            assert listener_text in message
        assert "point the listener at it" in message
        return

    result = import_spec(target, ImportFilters(), adopt=True, lock_dir=folder / "locks")

    path = folder / "imported.yaml"
    path.write_text(result.text)
    spec = load_spec([path])
    assert sorted(lb.name for lb in spec.load_balancers) == sorted(fleet)
    plan = make_plan(spec, [make_target(spec.targets[0])])
    assert plan.is_empty, [c.summary for c in plan.changes]
    assert sorted(result.adopted) == sorted(fleet)
