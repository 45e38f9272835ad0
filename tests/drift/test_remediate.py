"""``drift --remediate``: the drift's plan applied within the safety limits."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_slb20140515 import models as slb_models

from slbsync.drift.remediate import _max_removal_passing
from slbsync.errors import SafetyError
from slbsync.plan.model import Plan, SafetyFacts, ServerRemoval, TargetPlan
from slbsync.plan.safety import check_safety
from tests.conftest import REGION, EmulatorHandle
from tests.drift.conftest import group_id, invoke, lb_id, write_spec
from tests.drift.test_alerts import Receiver
from tests.importer.handmade import add_servers, delete_listener, set_tcp_listener


def _drifted(path: Path) -> list[tuple[str, str]]:
    result = invoke("drift", str(path), "--format", "json")
    document = json.loads(result.output)
    return [
        (item["status"], item["name"])
        for part in document["targets"]
        for item in part["drift"]
    ]


def _add_servers(client: Any, *ids: str) -> None:
    lb = lb_id(client, "chat")
    add_servers(client, group_id(client, lb, "ws"), [(i, 8080, 100) for i in ids])


def test_remediate_puts_hand_edits_back(
    chat: Path, slb_client: Any, tmp_path: Path
) -> None:
    lb = lb_id(slb_client, "chat")
    set_tcp_listener(slb_client, lb, 443, scheduler="wlc")
    delete_listener(slb_client, lb, 80, "tcp")
    _add_servers(slb_client, "i-handmade")

    result = invoke("drift", str(chat), "--remediate")

    assert result.exit_code == 2, result.output  # drift was found (and undone)
    assert _drifted(chat) == []
    # The runner held the load balancer's lock while it wrote, where every
    # command looks for it (not under --state-dir or the working directory).
    assert (Path(os.environ["SLBSYNC_LOCK_DIR"]) / "cloud--chat.lock").exists()
    assert not (tmp_path / ".slbsync" / "locks").exists()


def test_remediate_never_prunes_unless_told(chat: Path, slb_client: Any) -> None:
    slb_client.create_load_balancer_tcplistener(
        slb_models.CreateLoadBalancerTCPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id(slb_client, "chat"),
            listener_port=2222,
            backend_server_port=22,
            bandwidth=-1,
        )
    )

    kept = invoke("drift", str(chat), "--remediate")
    assert kept.exit_code == 2
    assert _drifted(chat) == [("unexpected", "tcp/2222")]

    # Deleting a listener is past the safety limits: --prune needs --force.
    refused = invoke("drift", str(chat), "--remediate", "--prune")
    assert refused.exit_code == 2
    assert _drifted(chat) == [("unexpected", "tcp/2222")]

    pruned = invoke("drift", str(chat), "--remediate", "--prune", "--force")
    assert pruned.exit_code == 2
    assert _drifted(chat) == []


def test_remediate_respects_max_removal(chat: Path, slb_client: Any) -> None:
    # Three strangers in a group of three: removing them is 50% of six.
    _add_servers(slb_client, "i-x1", "i-x2", "i-x3")

    refused = invoke("-v", "drift", str(chat), "--remediate")
    assert refused.exit_code == 2
    assert "remediation refused: the plan needs --force" in refused.output
    assert "removes 3 of 6 servers (50%) from server group chat/ws" in refused.output
    assert len(_drifted(chat)) == 3

    allowed = invoke("drift", str(chat), "--remediate", "--max-removal", "0.5")
    assert allowed.exit_code == 2
    assert _drifted(chat) == []


@pytest.mark.parametrize(
    ("removed", "total"), [(1, 3), (2, 4), (7, 100), (57, 100), (4, 4)]
)
def test_suggested_max_removal_passes_and_a_hundredth_less_does_not(
    removed: int, total: int
) -> None:
    removal = ServerRemoval("chat/ws", removed, total)
    part = TargetPlan("cloud", (), (), (), "", safety=SafetyFacts((removal,)))
    plan = Plan((part,), "2026-12-04T00:00:00+00:00", "test")

    suggested = _max_removal_passing(plan)

    assert suggested is not None
    check_safety(plan, max_removal=suggested)  # raises if it would not pass
    with pytest.raises(SafetyError, match="the plan needs --force"):
        check_safety(plan, max_removal=round(suggested - 0.01, 2))


def test_prune_without_remediate_is_refused(chat: Path) -> None:
    result = invoke("drift", str(chat), "--prune")

    assert result.exit_code == 1
    assert "--prune and --force change what --remediate does" in str(result.exception)


# -- discovered groups: churn is not drift, yet remediation follows it --------

DISCOVERED_LB: dict[str, Any] = {
    "target": "cloud",
    "vpc_id": "vpc-chat",
    "server_groups": {
        "ws": {
            "membership": "discovered",
            "discover": {"instance_tags": {"role": "chat"}, "port": 8080},
        }
    },
    "listeners": [{"protocol": "tcp", "port": 443, "server_group": "ws"}],
}


def _seed_chat_nodes(emulator: EmulatorHandle, numbers: range) -> None:
    emulator.seed_instances(
        *(
            {"id": f"i-chat{n:03d}", "vpc_id": "vpc-chat", "tags": {"role": "chat"}}
            for n in numbers
        )
    )


def _members(client: Any) -> list[str]:
    lb = lb_id(client, "chat")
    body = client.describe_vserver_group_attribute(
        slb_models.DescribeVServerGroupAttributeRequest(
            region_id=REGION, vserver_group_id=group_id(client, lb, "ws")
        )
    ).body
    return sorted(s.server_id for s in body.backend_servers.backend_server)


@pytest.fixture
def discovered(
    credentials: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """chat with a discovered group, applied with four tagged nodes running."""
    monkeypatch.chdir(tmp_path)
    _seed_chat_nodes(credentials, range(4))
    path = write_spec(tmp_path, credentials, {"chat": DISCOVERED_LB})
    applied = invoke("apply", str(path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return path


def test_remediate_follows_discovered_instances_without_drift(
    discovered: Path, credentials: EmulatorHandle, slb_client: Any
) -> None:
    assert _members(slb_client) == [f"i-chat{n:03d}" for n in range(4)]
    _seed_chat_nodes(credentials, range(4, 6))  # two nodes boot
    credentials.control("PATCH", "ecs/instances/i-chat001", {"status": "Stopped"})

    # Not drift: a drift run reports nothing and changes nothing.
    watched = invoke("drift", str(discovered))
    assert watched.exit_code == 0, watched.output
    assert _drifted(discovered) == []
    assert "i-chat004" not in _members(slb_client)

    remediated = invoke("drift", str(discovered), "--remediate")

    assert remediated.exit_code == 0, remediated.output  # still no drift
    expected = ["i-chat000", "i-chat002", "i-chat003", "i-chat004", "i-chat005"]
    assert _members(slb_client) == expected
    credentials.clear_calls()
    again = invoke("drift", str(discovered), "--remediate")
    assert again.exit_code == 0, again.output
    writes = [a for a in credentials.calls()["by_action"] if "Describe" not in a]
    assert writes == []  # reconciled: a second run has nothing to do


def test_remediate_of_discovered_churn_keeps_safety_limits(
    discovered: Path, credentials: EmulatorHandle, slb_client: Any
) -> None:
    # Half the fleet "stops" at once (a tag removed by mistake, say).
    _stop_half_the_fleet(credentials)

    refused = invoke("-v", "drift", str(discovered), "--remediate")

    # Nothing drifted, yet a person must hear of it: exit 2, and the report
    # says what was refused and what would let it run.
    assert refused.exit_code == 2, refused.output
    assert "status=refused modified=0 missing=0 unexpected=0" in refused.output
    assert 'remediation=refused needs="--max-removal 0.5 or --force"' in (
        refused.output
    )
    assert "slbsync drift   (0 modified, 0 missing, 0 unexpected; remediation" in (
        refused.output
    )
    assert (
        "remediation refused: reconciling discovered groups with ECS was stopped "
        "by the safety limits" in refused.output
    )
    assert "removes 2 of 4 servers (50%) from server group chat/ws" in refused.output
    assert "--max-removal 0.5 or --force would let it run" in refused.output
    assert "no drift, but reconciling discovered groups was refused" in refused.output
    assert _members(slb_client) == [f"i-chat{n:03d}" for n in range(4)]

    forced = invoke("drift", str(discovered), "--remediate", "--force")
    assert forced.exit_code == 0, forced.output
    assert _members(slb_client) == ["i-chat002", "i-chat003"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def _stop_half_the_fleet(emulator: EmulatorHandle) -> None:
    for number in (0, 1):
        emulator.control(
            "PATCH", f"ecs/instances/i-chat{number:03d}", {"status": "Stopped"}
        )


def test_refused_discovered_reconciliation_is_reported_and_alerted_once(
    discovered: Path, credentials: EmulatorHandle, receiver: Receiver
) -> None:
    _stop_half_the_fleet(credentials)
    alert = f"--alert=webhook={receiver.url}/hook"
    run = ("drift", str(discovered), "--remediate", "--format", "json", alert)
    metrics = discovered.parent / "drift.prom"

    first = invoke(*run, "--metrics-textfile", str(metrics))
    second = invoke(*run)

    assert (first.exit_code, second.exit_code) == (2, 2), first.output
    assert 'slbsync_drift_runs_total{result="refused"} 1.0' in metrics.read_text()
    document = json.loads(first.output[first.output.index("{") :])
    assert document["status"] == "clean"  # drift's own verdict stays as it was
    refusal = document["remediation_refused"]
    assert refusal["reconciliation_only"] is True
    assert refusal["max_removal"] == 0.5
    assert refusal["way_out"] == "--max-removal 0.5 or --force"
    assert (
        "removes 2 of 4 servers (50%) from server group chat/ws" in (refusal["reason"])
    )
    (sent,) = [json.loads(body) for _, _, body in receiver.requests]
    assert sent["status"] == "refused"
    assert sent["title"] == (
        "slbsync: reconciling discovered groups with ECS was refused by the "
        "safety limits"
    )
    assert "--max-removal 0.5 or --force would let it run" in sent["lines"]

    # The operator allows it: reconciled, and the alert is resolved, once.
    allowed = invoke(*run, "--max-removal", "0.5")
    again = invoke(*run)

    assert (allowed.exit_code, again.exit_code) == (0, 0), allowed.output
    assert json.loads(again.output)["remediation_refused"] is None
    statuses = [json.loads(body)["status"] for _, _, body in receiver.requests]
    assert statuses == ["refused", "resolved"]
