from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from slbsync.drift.alerts import (
    AlertChannel,
    Alerter,
    AlertMessage,
    AlertStatus,
    ChannelKind,
    parse_channel,
)
from slbsync.errors import SlbsyncError

SECRETS = {
    "SLBSYNC_WEBHOOK_SECRET": "whsec-test-1234",
    "SLBSYNC_DINGTALK_SECRET": "SECdingtalk-test-5678",
    "SLBSYNC_FEISHU_SECRET": "feishu-test-9012",
}
NOW = 1_764_700_000.0


class Receiver:
    """A real HTTP server on loopback that records every webhook call."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers), body))
                status = 500 if receiver.fail_next > 0 else 200
                receiver.fail_next = max(0, receiver.fail_next - 1)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def _drift(fingerprint: str = "fp1") -> AlertMessage:
    return AlertMessage(
        AlertStatus.DRIFT,
        "slbsync: drift on 1 load balancer",
        ("~ chat-gateway listener tcp/443 scheduler: wlc -> wrr",),
        fingerprint,
    )


def _alerter(channels: list[AlertChannel], tmp_path: Path) -> Alerter:
    return Alerter(
        channels,
        tmp_path / "alerts.json",
        environ=SECRETS,
        clock=lambda: NOW,
        wait_seconds=0.01,
    )


def test_dingtalk_alert_is_signed_as_dingtalk_checks(
    receiver: Receiver, tmp_path: Path
) -> None:
    channel = AlertChannel(
        ChannelKind.DINGTALK, f"{receiver.url}/robot/send?access_token=t"
    )
    _alerter([channel], tmp_path).notify(_drift())

    path, _, body = receiver.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    stamp = query["timestamp"][0]
    secret = SECRETS["SLBSYNC_DINGTALK_SECRET"]
    expected = base64.b64encode(
        hmac.new(
            secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert stamp == str(int(NOW * 1000))
    assert query["sign"][0] == expected
    assert query["access_token"] == ["t"]
    message = json.loads(body)
    assert message["msgtype"] == "markdown"
    assert "tcp/443" in message["markdown"]["text"]


def test_feishu_alert_carries_timestamp_and_sign(
    receiver: Receiver, tmp_path: Path
) -> None:
    channel = AlertChannel(
        ChannelKind.FEISHU, f"{receiver.url}/open-apis/bot/v2/hook/x"
    )
    _alerter([channel], tmp_path).notify(_drift())

    message = json.loads(receiver.requests[0][2])
    key = f"{message['timestamp']}\n{SECRETS['SLBSYNC_FEISHU_SECRET']}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert message["timestamp"] == str(int(NOW))
    assert message["sign"] == expected
    assert message["msg_type"] == "text"
    assert "drift on 1 load balancer" in message["content"]["text"]


def test_generic_webhook_has_hmac_header_and_report(
    receiver: Receiver, tmp_path: Path
) -> None:
    channel = AlertChannel(ChannelKind.WEBHOOK, f"{receiver.url}/hook")
    _alerter([channel], tmp_path).notify(_drift())

    _, headers, body = receiver.requests[0]
    digest = hmac.new(
        SECRETS["SLBSYNC_WEBHOOK_SECRET"].encode(), body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Slbsync-Signature"] == f"sha256={digest}"
    report = json.loads(body)
    assert report["status"] == "drift"
    assert report["fingerprint"] == "fp1"


def test_slack_alert_is_plain_text(receiver: Receiver, tmp_path: Path) -> None:
    channel = AlertChannel(ChannelKind.SLACK, f"{receiver.url}/services/x")
    _alerter([channel], tmp_path).notify(_drift())
    assert json.loads(receiver.requests[0][2])["text"].startswith("*slbsync: drift")


def test_same_drift_alerts_once_and_resolution_once(
    receiver: Receiver, tmp_path: Path
) -> None:
    alerter = _alerter([AlertChannel(ChannelKind.WEBHOOK, receiver.url)], tmp_path)
    alerter.notify(_drift("fp1"))
    alerter.notify(_drift("fp1"))
    alerter.notify(_drift("fp2"))
    alerter.notify(None)
    alerter.notify(None)

    statuses = [json.loads(body)["status"] for _, _, body in receiver.requests]
    assert statuses == ["drift", "drift", "resolved"]


def test_failed_webhook_is_retried_logged_and_sent_next_run(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alerter = _alerter([AlertChannel(ChannelKind.WEBHOOK, receiver.url)], tmp_path)
    receiver.fail_next = 3

    with caplog.at_level(logging.DEBUG, logger="slbsync"):
        assert alerter.notify(_drift()) == []
    assert len(receiver.requests) == 3
    assert "status=failed attempts=3" in caplog.text

    assert len(alerter.notify(_drift())) == 1
    assert len(receiver.requests) == 4


def test_no_secret_or_token_in_logs(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token_url = f"{receiver.url}/robot/send?access_token=tok-secret-777"
    channels = [
        AlertChannel(ChannelKind.DINGTALK, token_url),
        AlertChannel(ChannelKind.FEISHU, token_url),
        AlertChannel(ChannelKind.WEBHOOK, token_url),
    ]
    with caplog.at_level(logging.DEBUG):
        _alerter(channels, tmp_path).notify(_drift())
    for secret in (*SECRETS.values(), "tok-secret-777"):
        assert secret not in caplog.text
    assert "tok-secret-777" not in (tmp_path / "alerts.json").read_text()


def test_parse_channel_accepts_kinds_and_rejects_unknown() -> None:
    assert parse_channel("dingtalk=https://x/y").kind is ChannelKind.DINGTALK
    assert parse_channel("https://x/hook").kind is ChannelKind.WEBHOOK
    with pytest.raises(SlbsyncError, match='"teams" is not an alert channel'):
        parse_channel("teams=https://x")
    with pytest.raises(SlbsyncError, match="must start with http"):
        parse_channel("slack=ftp://x")
