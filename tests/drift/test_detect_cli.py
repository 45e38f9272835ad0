"""``slbsync drift`` against the emulator, with drift made through the SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alibabacloud_slb20140515 import models as slb_models

from tests.conftest import REGION, EmulatorHandle
from tests.drift.conftest import group_id, invoke, lb_id, servers_json, write_spec
from tests.importer.handmade import add_servers, delete_listener, set_tcp_listener


def _report(path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = invoke("drift", str(path), "--format", "json", *extra)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.output)


def _items(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (item["status"], item["kind"], item["name"])
        for part in document["targets"]
        for item in part["drift"]
    ]


def test_no_drift_right_after_apply(chat: Path) -> None:
    result = invoke("drift", str(chat))

    assert result.exit_code == 0, result.output
    assert "no drift: the live state matches the spec" in result.output
    assert "0 modified, 0 missing, 0 unexpected" in result.output


def test_hand_edits_show_as_modified_missing_and_unexpected(
    chat: Path, slb_client: Any
) -> None:
    lb = lb_id(slb_client, "chat")
    ws = group_id(slb_client, lb, "ws")
    # A weight changed in the console, a server added by hand.
    slb_client.modify_vserver_group_backend_servers(
        slb_models.ModifyVServerGroupBackendServersRequest(
            region_id=REGION,
            vserver_group_id=ws,
            old_backend_servers=servers_json([("i-node001", 8080, 100)]),
            new_backend_servers=servers_json([("i-node001", 8080, 10)]),
        )
    )
    add_servers(slb_client, ws, [("i-handmade", 8080, 100)])
    # A listener deleted, a scheduler changed.
    delete_listener(slb_client, lb, 80, "tcp")
    set_tcp_listener(slb_client, lb, 443, scheduler="wlc")

    code, document = _report(chat)

    assert code == 2
    assert document["status"] == "drift"
    assert sorted(_items(document)) == [
        ("missing", "listener", "tcp/80"),
        ("modified", "listener", "tcp/443"),
        ("modified", "servers", "ws/i-node001:8080"),
        ("unexpected", "servers", "ws/i-handmade:8080"),
    ]
    assert document["summary"]["modified"] == 2
    fields = {
        item["name"]: item["fields"]
        for item in document["targets"][0]["drift"]
        if item["status"] == "modified"
    }
    assert fields["ws/i-node001:8080"] == [{"field": "weight", "spec": 100, "live": 10}]
    assert fields["tcp/443"] == [
        {
            "field": "scheduler",
            "spec": "weighted_round_robin",
            "live": "least_connections",
        }
    ]


def test_external_membership_churn_is_not_drift(chat: Path, slb_client: Any) -> None:
    lb = lb_id(slb_client, "chat")
    ext = group_id(slb_client, lb, "ext")
    add_servers(slb_client, ext, [("i-autoscaled", 9000, 100)])

    result = invoke("drift", str(chat))

    assert result.exit_code == 0, result.output


def test_unexpected_listener_on_owned_lb_is_drift_without_prune(
    chat: Path, slb_client: Any
) -> None:
    lb = lb_id(slb_client, "chat")
    slb_client.create_load_balancer_tcplistener(
        slb_models.CreateLoadBalancerTCPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=2222,
            backend_server_port=22,
            bandwidth=-1,
        )
    )

    code, document = _report(chat)

    assert code == 2
    assert _items(document) == [("unexpected", "listener", "tcp/2222")]


def test_deleted_load_balancer_is_one_missing_item(chat: Path, slb_client: Any) -> None:
    slb_client.delete_load_balancer(
        slb_models.DeleteLoadBalancerRequest(
            region_id=REGION, load_balancer_id=lb_id(slb_client, "chat")
        )
    )

    result = invoke("drift", str(chat), "--format", "markdown")

    assert result.exit_code == 2
    assert "| missing | cloud: chat load balancer chat | - |" in result.output
    assert "0 modified, 1 missing, 0 unexpected" in result.output


def test_report_file_and_text_format(
    chat: Path, slb_client: Any, tmp_path: Path
) -> None:
    lb = lb_id(slb_client, "chat")
    set_tcp_listener(slb_client, lb, 443, scheduler="rr")
    out = tmp_path / "reports" / "drift.txt"

    result = invoke("drift", str(chat), "--report", str(out))

    assert result.exit_code == 2
    assert result.output == ""
    text = out.read_text()
    assert "chat listener tcp/443: modified" in text
    assert "scheduler: spec weighted_round_robin, live round_robin" in text


def test_unreadable_cloud_exits_one(chat: Path, emulator: EmulatorHandle) -> None:
    emulator.set_faults(error_rate=1.0)

    result = invoke("drift", str(chat), "--read-deadline", "0")

    assert result.exit_code == 1
    assert "the run failed for cloud" in result.output
    assert "ServiceUnavailable" in result.output or "InternalError" in result.output


def test_bad_interval_is_a_clear_error(chat: Path) -> None:
    result = invoke("drift", str(chat), "--every", "soon")

    assert result.exit_code == 1
    assert "interval; write it like 5m, 1h, 90s or 500ms" in str(result.exception)


def test_a_throttling_cloud_is_read_again_and_counted(
    chat: Path, emulator: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    set_tcp_listener(slb_client, lb_id(slb_client, "chat"), 443, scheduler="wlc")
    # A third of the reads throttled: with a dozen reads some certainly are
    # (the emulator's outcomes below say so), and each is read again.
    emulator.set_faults(throttle_rate=0.3, seed=7)
    emulator.clear_calls()
    textfile = tmp_path / "metrics" / "slbsync.prom"

    result = invoke("drift", str(chat), "--metrics-textfile", str(textfile))

    throttled = emulator.control("GET", "calls/outcomes")["by_outcome"]
    emulator.set_faults(throttle_rate=0.0)
    assert throttled.get("Throttling.User", 0) >= 1, throttled
    assert result.exit_code == 2, result.output
    assert "chat listener tcp/443: modified" in result.output
    metrics = textfile.read_text()
    assert 'result="Throttling.User"' in metrics
    assert 'slbsync_drift_runs_total{result="drift"} 1.0' in metrics
    assert emulator.access_key_secret not in result.output


def test_discovered_membership_churn_is_not_drift(
    credentials: EmulatorHandle, slb_client: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    credentials.seed_instances(
        *(
            {"id": f"i-chat{n}", "vpc_id": "vpc-chat", "tags": {"role": "chat"}}
            for n in (1, 2)
        )
    )
    lb = {
        "target": "cloud",
        "server_groups": {
            "ws": {
                "membership": "discovered",
                "discover": {"instance_tags": {"role": "chat"}, "port": 8080},
            }
        },
        "listeners": [{"protocol": "tcp", "port": 443, "server_group": "ws"}],
    }
    path = write_spec(tmp_path, credentials, {"chat": lb})
    assert invoke("apply", str(path), "--auto-approve").exit_code == 0

    # A node joins by hand (or by register), another leaves: not drift.
    lb_live = lb_id(slb_client, "chat")
    ws = group_id(slb_client, lb_live, "ws")
    add_servers(slb_client, ws, [("i-joined", 8080, 100)])
    slb_client.remove_vserver_group_backend_servers(
        slb_models.RemoveVServerGroupBackendServersRequest(
            region_id=REGION,
            vserver_group_id=ws,
            backend_servers=servers_json([("i-chat1", 8080, 100)]),
        )
    )

    result = invoke("drift", str(path))

    assert result.exit_code == 0, result.output
