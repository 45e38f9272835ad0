"""Property, on the emulator: from any live state to any desired state, the
plan's calls are all accepted and applying it leaves nothing to do.

The live state here is one slbsync applied itself; live states built by hand
are the subject of ``test_properties_handmade.py``.
"""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    apply_in_process,
    load_balancers_named,
    plan_in_process,
    refused_writes,
    write_spec,
)
from tests.targets.alibaba_slb.certs import write_certificate

pytestmark = pytest.mark.slow

SCHEDULERS = ["round_robin", "weighted_round_robin", "least_connections"]


@st.composite
def servers(draw):
    ids = draw(st.sets(st.integers(0, 25), max_size=24))
    return [
        {"id": f"i-bp1prop{n:03d}", "port": 8080, "weight": draw(st.integers(0, 100))}
        for n in sorted(ids)
    ]


@st.composite
def listener(draw, port, groups):
    protocol = draw(st.sampled_from(["tcp", "udp", "http", "https"]))
    item = {
        "protocol": protocol,
        "port": port,
        "server_group": draw(st.sampled_from(groups)),
        "scheduler": draw(st.sampled_from(SCHEDULERS)),
        "health_check": {"interval": f"{draw(st.integers(1, 5))}s"},
    }
    if protocol == "tcp" and draw(st.booleans()):
        item["connection_drain"] = f"{draw(st.integers(10, 300))}s"
    if protocol == "https":
        item["certificate"] = "chat-cert"
        item["http2"] = draw(st.booleans())
    if protocol in ("http", "https"):
        item["health_check"]["path"] = "/healthz"
        if draw(st.booleans()):
            item["rules"] = [
                {
                    "name": "api",
                    "url": "/api",
                    "server_group": draw(st.sampled_from(groups)),
                }
            ]
    if protocol != "udp" and draw(st.booleans()):
        item["acl"] = "office"
    return item


@st.composite
def load_balancer(draw):
    groups = sorted(draw(st.sets(st.sampled_from(["ws", "api"]), min_size=1)))
    ports = sorted(draw(st.sets(st.sampled_from([80, 443, 8443]), max_size=3)))
    listeners = [draw(listener(port, groups)) for port in ports]
    https = [li["port"] for li in listeners if li["protocol"] == "https"]
    for i, li in enumerate(listeners):
        if li["protocol"] == "http" and https and draw(st.booleans()):
            redirect = draw(st.sampled_from(https))
            listeners[i] = {
                "protocol": "http",
                "port": li["port"],
                "redirect_to_port": redirect,
            }
    return {
        "target": "cloud",
        "tags": {"app": draw(st.sampled_from(["chat", "im"]))},
        "server_groups": {name: {"servers": draw(servers())} for name in groups},
        "listeners": listeners,
    }


@st.composite
def fleets(draw):
    names = sorted(draw(st.sets(st.sampled_from(["alpha", "beta"]), max_size=2)))
    return {name: draw(load_balancer()) for name in names}


ACLS = {
    "office": {
        "target": "cloud",
        "entries": [{"cidr": "10.0.0.0/8", "comment": "office"}],
    }
}


def certificates(folder: Path, common_name: str) -> dict[str, Any]:
    """The spec's certificates section, from PEM files written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    cert = write_certificate(folder, "chat-cert", common_name)
    return {
        "chat-cert": {
            "target": "cloud",
            "certificate": cert.certificate_file,
            "private_key": cert.private_key_file,
        }
    }


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(live=fleets(), desired=fleets(), prune=st.booleans(), rotate=st.booleans())
def test_any_state_converges_with_accepted_calls(
    emulator_process, tmp_path_factory, credentials, live, desired, prune, rotate
):
    emulator_process.reset()
    folder = tmp_path_factory.mktemp("prop")
    first = certificates(folder / "certs", "chat.example.com")
    start = write_spec(
        folder / "live", emulator_process.url, live, acls=ACLS, certificates=first
    )
    report = apply_in_process(start)
    assert report.failures == [], [r.message for r in report.failures]

    # The desired spec may bring another certificate under the same name.
    second = (
        certificates(folder / "new-certs", "chat2.example.com") if rotate else first
    )
    spec = write_spec(
        folder / "desired",
        emulator_process.url,
        desired,
        acls=ACLS,
        certificates=second,
    )
    emulator_process.control("DELETE", "calls")
    report = apply_in_process(spec, prune=prune)

    assert report.failures == [], [r.message for r in report.failures]
    assert refused_writes(emulator_process) == {}
    plan, _ = plan_in_process(spec, prune=prune)
    assert plan.is_empty, [c.summary for c in plan.changes]
    expected = set(desired) | (set() if prune else set(live))
    assert load_balancers_named(emulator_process) == dict.fromkeys(expected, 1)
