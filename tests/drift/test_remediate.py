"""``drift --remediate``: the drift's plan applied within the safety limits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from alibabacloud_slb20140515 import models as slb_models

from tests.conftest import REGION
from tests.drift.conftest import group_id, invoke, lb_id
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
