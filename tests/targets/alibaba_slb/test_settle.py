"""Unknown outcomes: every kind of change is settled by reading, both ways."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client

from slbsync.diff.changes import Change
from slbsync.spec.model import AclEntry, ForwardingRule, LoadBalancer, Spec
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import REGION, EmulatorHandle
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import converge, plan, spec_of, target_spec
from tests.targets.alibaba_slb.test_apply import OFFICE, chat_gateway, members


def apply_with_lost_answers(
    target: AlibabaSlbTarget, emulator: EmulatorHandle, changes: list[Change]
) -> None:
    """Each call is carried out and its answer dropped; reading must tell."""
    for change in changes:
        emulator.set_faults(lost_response_rate=1.0)
        with pytest.raises(SlbApiError) as caught:
            target.apply_change(change)
        emulator.set_faults()
        assert target.is_outcome_unknown(caught.value), change.summary
        assert target.has_taken_effect(change), change.summary


def changed_spec(tmp_path: Path) -> Spec:
    lb = chat_gateway()
    ws = (*members(40, start=5), *members(3, start=200))
    http = replace(
        lb.listeners[1],
        scheduler="round_robin",
        rules=(
            ForwardingRule(name="img", server_group="admin", domain="img.example.com"),
        ),
    )
    return spec_of(
        replace(
            lb,
            tags=(("team", "im"),),
            deletion_protection=True,
            server_groups=(replace(lb.server_groups[0], servers=ws),),
            listeners=(
                replace(lb.listeners[0], scheduler="round_robin"),
                replace(http, server_group="ws-nodes", rules=()),
            ),
        ),
        acls=(
            replace(
                OFFICE,
                entries=(AclEntry("10.0.0.0/8", "lan"), AclEntry("172.16.0.0/12")),
            ),
        ),
        certificates=(write_certificate(tmp_path, "spare", "spare.example.com"),),
    )


def test_every_change_settles_as_taken_after_a_lost_answer(
    target: AlibabaSlbTarget, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    first = spec_of(chat_gateway(), acls=(OFFICE,))
    _, creates = plan(target, first)
    apply_with_lost_answers(target, emulator, creates)
    assert plan(target, first)[1] == []

    second = changed_spec(tmp_path)
    _, updates = plan(target, second, prune=True)
    expected = {
        "RemoveVServerGroupBackendServers",
        "AddVServerGroupBackendServers",
        "DeleteVServerGroup",
        "DeleteRules",
        "TagResources",
        "UntagResources",
        "UploadServerCertificate",
        "SetLoadBalancerDeleteProtection",
        "SetLoadBalancerHTTPListenerAttribute",
        "SetLoadBalancerTCPListenerAttribute",
        "AddAccessControlListEntry",
        "RemoveAccessControlListEntry",
    }
    assert expected <= {c.action for c in updates}
    apply_with_lost_answers(target, emulator, updates)
    assert plan(target, second, prune=True)[1] == []


def test_calls_dropped_before_taking_effect_settle_as_not_taken(
    target: AlibabaSlbTarget, cloud_credentials: EmulatorHandle
) -> None:
    # Only the faulted call runs with a short read timeout, so a slow machine
    # cannot time out the calls that must go through.
    hasty = AlibabaSlbTarget(target_spec(cloud_credentials, read_timeout_ms=250))
    hasty.applier.ids = target.applier.ids  # the same run: the same ids
    spec = spec_of(chat_gateway(), acls=(OFFICE,))
    _, changes = plan(target, spec)
    for change in changes[:4]:  # load balancer, ACL, entries, group
        cloud_credentials.set_faults(timeout_rate=1.0, timeout_ms=1000)
        with pytest.raises(SlbApiError) as caught:
            hasty.apply_change(change)
        cloud_credentials.set_faults()
        assert hasty.is_outcome_unknown(caught.value)
        assert not target.has_taken_effect(change), change.summary
        target.apply_change(change)  # now sent for real
        assert target.has_taken_effect(change)


def test_adopted_load_balancer_is_tagged_and_then_managed(
    target: AlibabaSlbTarget, slb_client: Client
) -> None:
    slb_client.create_load_balancer(
        models.CreateLoadBalancerRequest(
            region_id=REGION,
            load_balancer_name="legacy",
            instance_charge_type="PayByCLCU",
        )
    )
    spec = spec_of(
        LoadBalancer(name="legacy", target="cloud", adopt=True, tags=(("app", "old"),))
    )

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == ["TagResources"]  # owner and app at once
    assert len(changes[0].get("params")["Tag"]) == 2
    converge(target, spec)
    live = target.read_live_state(spec)
    assert live.load_balancers[0].owned
    assert live.load_balancers[0].spec.tags == (("app", "old"),)
