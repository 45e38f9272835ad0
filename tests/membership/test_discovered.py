"""Discovered groups follow the running ECS instances with their tags;
external groups are left to others by plan, apply and drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.cli.common import build_targets, read_spec
from slbsync.drift.detect import detect_drift
from slbsync.membership.group import GroupHandle
from slbsync.plan.make import make_plan
from slbsync.spec.model import Server
from tests.conftest import EmulatorHandle
from tests.membership.conftest import apply_spec, write_cloud_spec

DISCOVERED = {
    "ws-nodes": {
        "membership": "discovered",
        "discover": {"instance_tags": {"role": "chat"}, "port": 8080, "weight": 50},
    }
}


def _seed(emulator: EmulatorHandle, numbers: range, **extra: object) -> None:
    emulator.seed_instances(
        *(
            {"id": f"i-chat{n:03d}", "vpc_id": "vpc-chat", "tags": {"role": "chat"}}
            | extra
            for n in numbers
        )
    )


def _members(path: Path) -> dict[str, int]:
    spec = read_spec([path])
    view = GroupHandle(spec, build_targets(spec)[0], "chat-gateway", "ws-nodes").read()
    return {server.key[0]: server.weight for server in view.members}


def _plan_summaries(path: Path) -> list[str]:
    spec = read_spec([path])
    plan = make_plan(spec, build_targets(spec))
    return [change.summary for part in plan.targets for change in part.changes]


@pytest.fixture
def discovered_spec(cloud_env: EmulatorHandle, tmp_path: Path) -> Path:
    return write_cloud_spec(tmp_path / "specs", cloud_env.url, DISCOVERED)


def test_apply_adds_tagged_running_instances_in_batches_of_20(
    discovered_spec: Path, cloud_env: EmulatorHandle
) -> None:
    _seed(cloud_env, range(45))
    # Not members: another VPC, not running, other tags.
    cloud_env.seed_instances(
        {"id": "i-elsewhere", "vpc_id": "vpc-other", "tags": {"role": "chat"}},
        {"id": "i-stopped", "vpc_id": "vpc-chat", "tags": {"role": "chat"},
         "status": "Stopped"},
        {"id": "i-admin", "vpc_id": "vpc-chat", "tags": {"role": "admin"}},
    )  # fmt: skip
    cloud_env.clear_calls()
    apply_spec(discovered_spec)

    calls = cloud_env.calls()["by_action"]
    members = _members(discovered_spec)
    assert sorted(members) == [f"i-chat{n:03d}" for n in range(45)]
    assert set(members.values()) == {50}
    # 45 servers: 20 with the group's create, then 20 + 5 (the emulator
    # refuses more than 20 in one call).
    assert calls["CreateVServerGroup"] == 1
    assert calls["AddVServerGroupBackendServers"] == 2
    assert calls["DescribeInstances"] == 1  # one page of up to 100
    assert _plan_summaries(discovered_spec) == []


def test_plan_follows_instances_appearing_and_disappearing(
    discovered_spec: Path, cloud_env: EmulatorHandle
) -> None:
    _seed(cloud_env, range(10))
    apply_spec(discovered_spec)

    _seed(cloud_env, range(10, 35))  # 25 new ones
    cloud_env.control("PATCH", "ecs/instances/i-chat001", {"status": "Stopped"})
    cloud_env.control("DELETE", "ecs/instances/i-chat002")
    cloud_env.control("PATCH", "ecs/instances/i-chat003", {"tags": {"role": "old"}})
    cloud_env.clear_calls()
    apply_spec(discovered_spec)

    calls = cloud_env.calls()["by_action"]
    gone = {"i-chat001", "i-chat002", "i-chat003"}
    expected = sorted({f"i-chat{n:03d}" for n in range(35)} - gone)
    assert sorted(_members(discovered_spec)) == expected
    assert calls["AddVServerGroupBackendServers"] == 2  # 25 = 20 + 5
    assert calls["RemoveVServerGroupBackendServers"] == 1


def test_discovery_pages_through_many_instances(
    discovered_spec: Path, cloud_env: EmulatorHandle
) -> None:
    _seed(cloud_env, range(230))
    spec = read_spec([discovered_spec])
    target = build_targets(spec)[0]
    hook = target.discovery()
    assert hook is not None
    lb = spec.load_balancers[0]
    found = hook(lb, lb.server_groups[0])
    assert len(found) == 230
    assert found[0] == Server(port=8080, id="i-chat000", weight=50)
    assert target.calls_made()["DescribeInstances"] == 3  # 100 + 100 + 30


def test_drift_ignores_discovered_and_external_membership(
    cloud_env: EmulatorHandle, tmp_path: Path
) -> None:
    groups = {
        **DISCOVERED,
        "admin": {"membership": "external"},
    }
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, groups)
    _seed(cloud_env, range(3))
    apply_spec(path)
    # Others change both groups' members behind slbsync's back.
    spec = read_spec([path])
    target = build_targets(spec)[0]
    for name in ("ws-nodes", "admin"):
        group = GroupHandle(spec, target, "chat-gateway", name)
        group.put(group.read(), Server(port=9000, id="i-chat000", weight=7))
    _seed(cloud_env, range(3, 6))

    drift = detect_drift(spec, build_targets(spec))
    assert [part.items for part in drift.targets] == [()]
    # A plan still reconciles the discovered group, never the external one.
    summaries = _plan_summaries(path)
    assert all("ws-nodes" in line for line in summaries), summaries
    assert any("AddVServerGroupBackendServers" in line for line in summaries)
    assert any("RemoveVServerGroupBackendServers" in line for line in summaries)


def test_throttled_discovery_page_is_read_again(
    discovered_spec: Path, cloud_env: EmulatorHandle
) -> None:
    _seed(cloud_env, range(230))  # three pages
    # 230 servers in one group is past the cloud's 200 per load balancer;
    # this test is about paging, so the quota is raised as one would ask the
    # cloud to raise it.
    cloud_env.control("PUT", "quotas", {"backend_servers_per_load_balancer": 230})
    # One DescribeInstances a second: pages two and three are refused at first.
    cloud_env.set_faults(rate_limits={"DescribeInstances": 1})
    spec = read_spec([discovered_spec])
    targets = build_targets(spec)

    plan = make_plan(spec, targets)

    results = targets[0].call_results()
    assert results[("DescribeInstances", "ok")] == 3
    assert results[("DescribeInstances", "Throttling.User")] >= 2
    report = PlanRunner({t.name: t for t in targets}).run(plan)
    assert not report.failures
    assert len(_members(discovered_spec)) == 230
