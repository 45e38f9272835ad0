"""Reading live state into the spec model, and how many calls it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alibabacloud_slb20140515.client import Client

from slbsync.diff.compare import compare
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.targets.alibaba_slb.conftest import spec_of
from tests.targets.alibaba_slb.fleet import build_fleet

# 10 load balancers x 4 listeners x 4 groups of 10 servers.
TERRAFORM_REFRESH_CALLS = 2 * 10 + 2 * 40 + 2 * 40 + 400
LOWER_BOUND_CALLS = 1 + 1 + 1 + 10 + 40


def test_hand_built_load_balancer_reads_into_the_model_and_plans_clean(
    target: AlibabaSlbTarget, slb_client: Client
) -> None:
    desired = build_fleet(slb_client, 1, listeners=2, groups=3, servers=4)
    spec = spec_of(*desired)

    live = target.read_live_state(spec)

    live_lb = live.load_balancer("chat-000")
    assert live_lb is not None and live_lb.owned
    assert live_lb.spec.tags == (("app", "chat"),)  # the ownership tag is not a tag
    listener = live_lb.spec.listeners[0]
    assert listener.scheduler == "least_connections"  # wlc in SLB's words
    assert listener.connection_drain == 300
    assert [g.name for g in live_lb.spec.server_groups] == ["g0", "g1", "g2"]
    assert len(live_lb.spec.server_groups[2].servers) == 4
    assert set(live_lb.running) == {("tcp", 9000), ("tcp", 9001)}
    assert compare(spec, live, target).differences == []


def test_fleet_of_ten_reads_within_the_budget(
    target: AlibabaSlbTarget, slb_client: Client, emulator: EmulatorHandle
) -> None:
    spec = spec_of(*build_fleet(slb_client, 10))
    emulator.clear_calls()  # building the fleet is not reading it

    live = target.read_live_state(spec)

    assert compare(spec, live, target).differences == []
    reads = dict(live.reads)
    assert reads == {
        "DescribeLoadBalancers": 2,  # by name, by ownership tag
        "DescribeLoadBalancerListeners": 1,  # 10 load balancers per call
        "DescribeVServerGroups": 10,
        "DescribeVServerGroupAttribute": 40,
    }
    assert live.read_calls == LOWER_BOUND_CALLS == 53
    assert live.read_calls <= 62 < TERRAFORM_REFRESH_CALLS == 580
    # The emulator counts the calls it answered: our own count is not the
    # only witness of the figure.
    assert emulator.calls() == {"total": 53, "by_action": reads}


def test_unowned_load_balancer_is_read_without_its_children(
    target: AlibabaSlbTarget, slb_client: Client
) -> None:
    from alibabacloud_slb20140515 import models

    slb_client.create_load_balancer(
        models.CreateLoadBalancerRequest(
            region_id="cn-hangzhou",
            load_balancer_name="someone-elses",
            instance_charge_type="PayByCLCU",
        )
    )
    from slbsync.spec.model import LoadBalancer

    spec = spec_of(LoadBalancer(name="someone-elses", target="cloud"))

    live = target.read_live_state(spec)

    live_lb = live.load_balancer("someone-elses")
    assert live_lb is not None and not live_lb.owned
    assert "DescribeVServerGroups" not in dict(live.reads)
    comparison = compare(spec, live, target)
    assert comparison.differences == []
    assert "is not owned" in comparison.skipped[0]


def test_duplicate_group_is_read_apart_and_pruned(
    target: AlibabaSlbTarget, slb_client: Client
) -> None:
    from alibabacloud_slb20140515 import models

    from tests.targets.alibaba_slb.conftest import converge, plan

    (desired,) = build_fleet(slb_client, 1, listeners=1, groups=1, servers=2)
    lb_id = target.read_live_state(spec_of(desired)).load_balancers[0].id
    extra = slb_client.create_vserver_group(
        models.CreateVServerGroupRequest(
            region_id="cn-hangzhou", load_balancer_id=lb_id, vserver_group_name="g0"
        )
    ).body.vserver_group_id
    spec = spec_of(desired)

    live, changes = plan(target, spec, prune=True)

    names = [g.name for g in live.load_balancers[0].spec.server_groups]
    assert names == ["g0", f"g0 ({extra})"]
    assert [(c.action, c.live_id) for c in changes] == [("DeleteVServerGroup", extra)]
    converge(target, spec, prune=True)


def test_local_endpoint_runs_the_embedded_emulator_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slbsync.spec.model import LoadBalancer, TargetSpec
    from tests.targets.alibaba_slb.conftest import converge

    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", raising=False)
    spec = TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region="cn-hangzhou",
        endpoint="local",
        options=(("state_dir", str(tmp_path)),),
    )
    target = AlibabaSlbTarget(spec)

    converge(target, spec_of(LoadBalancer(name="offline", target="cloud")))

    assert (tmp_path / "emulator.lock").exists()  # the state lives under state_dir
    assert target.describe()["endpoint"] == "local"


def test_reads_retry_through_heavy_throttling_and_plan_clean(
    cloud_credentials: EmulatorHandle, slb_client: Client
) -> None:
    from tests.targets.alibaba_slb.conftest import target_spec

    emulator = cloud_credentials
    spec = spec_of(*build_fleet(slb_client, 3))
    target = AlibabaSlbTarget(target_spec(emulator, read_retry_seconds=30))
    emulator.set_faults(seed=7, throttle_rate=0.3, error_rate=0.05)

    live = target.read_live_state(spec)

    emulator.set_faults()
    assert compare(spec, live, target).differences == []
    calls = emulator.calls()
    # Some reads were refused and tried again, yet the plan saw everything.
    assert calls["total"] > live.read_calls
