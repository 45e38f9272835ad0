"""``drift --remediate``: the drift's plan applied within the safety limits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_slb20140515 import models as slb_models

from tests.conftest import REGION, EmulatorHandle
from tests.drift.conftest import group_id, invoke, lb_id, write_spec
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
    for number in (0, 1):
        credentials.control(
            "PATCH", f"ecs/instances/i-chat{number:03d}", {"status": "Stopped"}
        )

    refused = invoke("drift", str(discovered), "--remediate")

    assert refused.exit_code == 0, refused.output  # nothing drifted
    assert "remediation refused: the plan needs --force" in refused.output
    assert "removes 2 of 4 servers (50%) from server group chat/ws" in refused.output
    assert _members(slb_client) == [f"i-chat{n:03d}" for n in range(4)]

    forced = invoke("drift", str(discovered), "--remediate", "--force")
    assert forced.exit_code == 0, forced.output
    assert _members(slb_client) == ["i-chat002", "i-chat003"]
