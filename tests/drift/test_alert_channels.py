"""Alerts from real drift runs, to every channel kind, received by a real
HTTP server: signed where the service signs, sent once per drift."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.drift.conftest import invoke, lb_id
from tests.drift.test_alerts import Receiver
from tests.importer.handmade import set_tcp_listener

SECRETS = {
    "SLBSYNC_DINGTALK_SECRET": "SECding-cli-4242",
    "SLBSYNC_FEISHU_SECRET": "feishu-cli-4242",
    "SLBSYNC_WEBHOOK_SECRET": "webhook-cli-4242",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def _alerts(receiver: Receiver) -> list[str]:
    return [f"--alert={kind}={receiver.url}/{kind}?access_token=tok-9" for kind in
            ("webhook", "dingtalk", "feishu", "slack")]  # fmt: skip


def _by_path(receiver: Receiver) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path, _, body in receiver.requests:
        kind = urllib.parse.urlsplit(path).path.strip("/")
        found.setdefault(kind, []).append(json.loads(body))
    return found


def test_each_channel_hears_of_drift_once_and_of_its_end(
    chat: Path,
    slb_client: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    lb = lb_id(slb_client, "chat")
    set_tcp_listener(slb_client, lb, 443, scheduler="wlc")

    assert invoke("drift", str(chat), *_alerts(receiver)).exit_code == 2
    assert invoke("drift", str(chat), *_alerts(receiver)).exit_code == 2
    set_tcp_listener(slb_client, lb, 443, scheduler="wrr")
    assert invoke("drift", str(chat), *_alerts(receiver)).exit_code == 0

    sent = _by_path(receiver)
    webhook = sent["webhook"]
    assert [m["status"] for m in webhook] == ["drift", "resolved"]
    assert webhook[0]["details"]["counts"] == {
        "modified": 1,
        "missing": 0,
        "unexpected": 0,
    }
    assert (
        "modified: cloud chat listener tcp/443 (scheduler: spec "
        in (webhook[0]["lines"][0])
    )
    assert len(sent["dingtalk"]) == 2
    assert "tcp/443" in sent["dingtalk"][0]["markdown"]["text"]
    assert sent["feishu"][0]["sign"] and sent["feishu"][0]["timestamp"]
    assert sent["slack"][0]["text"].startswith("*slbsync: drift on 1 load balancer")
    assert sent["slack"][1]["text"].startswith("*slbsync: drift resolved")
    dingtalk_query = next(
        urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)
        for p, _, _ in receiver.requests
        if p.startswith("/dingtalk")
    )
    assert set(dingtalk_query) == {"access_token", "timestamp", "sign"}


def test_a_failing_webhook_never_stops_detection(
    chat: Path, slb_client: Any, receiver: Receiver
) -> None:
    set_tcp_listener(slb_client, lb_id(slb_client, "chat"), 443, scheduler="wlc")
    receiver.fail_next = 100

    result = invoke("drift", str(chat), f"--alert=webhook={receiver.url}/hook")

    assert result.exit_code == 2
    assert "chat listener tcp/443: modified" in result.output
    assert len(receiver.requests) == 3  # tried three times


def test_signature_refused_with_200_is_sent_again_next_run(
    chat: Path,
    slb_client: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    set_tcp_listener(slb_client, lb_id(slb_client, "chat"), 443, scheduler="wlc")
    alerts = [f"--alert={kind}={receiver.url}/{kind}?access_token=tok-9"
              for kind in ("dingtalk", "feishu")]  # fmt: skip
    receiver.refuse_sign_next = 6  # three tries for each of the two

    first = invoke("drift", str(chat), *alerts)
    assert first.exit_code == 2
    assert len(receiver.requests) == 6
    failed = [line for line in first.output.splitlines() if "status=failed" in line]
    assert len(failed) == 2, first.output
    assert "channel=dingtalk" in failed[0] and "errcode=310000" in failed[0]
    assert "channel=feishu" in failed[1] and "code=19021" in failed[1]
    assert "tok-9" not in first.output

    assert invoke("drift", str(chat), *alerts).exit_code == 2
    assert sorted(_by_path(receiver)) == ["dingtalk", "feishu"]
    assert len(receiver.requests) == 8  # each channel announced once more
    assert invoke("drift", str(chat), *alerts).exit_code == 2
    assert len(receiver.requests) == 8  # and not again for the same drift
