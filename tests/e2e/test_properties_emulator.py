"""Property, on the emulator: from any live state to any desired state, the
plan's calls are all accepted and applying it leaves nothing to do."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    apply_in_process,
    load_balancers_named,
    plan_in_process,
    write_spec,
)

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
    protocol = draw(st.sampled_from(["tcp", "udp", "http"]))
    item = {
        "protocol": protocol,
        "port": port,
        "server_group": draw(st.sampled_from(groups)),
        "scheduler": draw(st.sampled_from(SCHEDULERS)),
        "health_check": {"interval": f"{draw(st.integers(1, 5))}s"},
    }
    if protocol == "tcp" and draw(st.booleans()):
        item["connection_drain"] = f"{draw(st.integers(10, 300))}s"
    if protocol == "http":
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
    ports = sorted(draw(st.sets(st.sampled_from([80, 443]), max_size=2)))
    return {
        "target": "cloud",
        "tags": {"app": draw(st.sampled_from(["chat", "im"]))},
        "server_groups": {name: {"servers": draw(servers())} for name in groups},
        "listeners": [draw(listener(port, groups)) for port in ports],
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


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(live=fleets(), desired=fleets(), prune=st.booleans())
def test_any_state_converges_with_accepted_calls(
    emulator_process, tmp_path_factory, credentials, live, desired, prune
):
    emulator_process.reset()
    folder = tmp_path_factory.mktemp("prop")
    start = write_spec(folder / "live", emulator_process.url, live, acls=ACLS)
    report = apply_in_process(start)
    assert report.failures == [], [r.message for r in report.failures]

    spec = write_spec(folder / "desired", emulator_process.url, desired, acls=ACLS)
    report = apply_in_process(spec, prune=prune)

    assert report.failures == [], [r.message for r in report.failures]
    plan, _ = plan_in_process(spec, prune=prune)
    assert plan.is_empty, [c.summary for c in plan.changes]
    expected = set(desired) | (set() if prune else set(live))
    assert load_balancers_named(emulator_process) == dict.fromkeys(expected, 1)
