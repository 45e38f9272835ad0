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
    WebhookFailed,
    WebhookReply,
    check_reply,
    parse_channel,
)
from slbsync.errors import SlbsyncError

SECRETS = {
    "SLBSYNC_WEBHOOK_SECRET": "whsec-test-1234",
    "SLBSYNC_DINGTALK_SECRET": "SECdingtalk-test-5678",
    "SLBSYNC_FEISHU_SECRET": "feishu-test-9012",
}
NOW = 1_764_700_000.0


# What each service answers when it takes a message, keyed by the first
# segment of the path a test posts to; any other path is a generic webhook.
ACCEPTED = {
    "dingtalk": b'{"errcode":0,"errmsg":"ok"}',
    "feishu": b'{"StatusCode":0,"StatusMessage":"success","code":0,"msg":"success"}',
    "slack": b"ok",
}
# What DingTalk and Feishu answer, still with HTTP 200, to a bad signature.
SIGN_REFUSED = {
    "dingtalk": b'{"errcode":310000,"errmsg":"sign not match"}',
    "feishu": b'{"code":19021,"msg":"sign match fail"}',
}


class Receiver:
    """A real HTTP server on loopback that records every webhook call.

    It answers as the service named by the path's first segment would:
    ``fail_next`` calls get HTTP 500, then ``refuse_sign_next`` calls get
    HTTP 200 with the service's signature refusal in the body.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_next = 0
        self.refuse_sign_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers), body))
                status, reply = receiver.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, bytes]:
        service = urllib.parse.urlsplit(path).path.strip("/").split("/")[0]
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500, b"{}"
        if self.refuse_sign_next > 0 and service in SIGN_REFUSED:
            self.refuse_sign_next -= 1
            return 200, SIGN_REFUSED[service]
        return 200, ACCEPTED.get(service, b"{}")


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
        ChannelKind.DINGTALK, f"{receiver.url}/dingtalk/robot/send?access_token=t"
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
        ChannelKind.FEISHU, f"{receiver.url}/feishu/open-apis/bot/v2/hook/x"
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
    channel = AlertChannel(ChannelKind.SLACK, f"{receiver.url}/slack/services/x")
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


def test_refusal_alerts_once_and_its_end_once(
    receiver: Receiver, tmp_path: Path
) -> None:
    alerter = _alerter([AlertChannel(ChannelKind.WEBHOOK, receiver.url)], tmp_path)
    refused = AlertMessage(AlertStatus.REFUSED, "slbsync: refused", (), "refused-1")
    alerter.notify(refused)
    alerter.notify(refused)
    alerter.notify(None)
    alerter.notify(None)

    statuses = [json.loads(body)["status"] for _, _, body in receiver.requests]
    assert statuses == ["refused", "resolved"]


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


@pytest.mark.parametrize(
    ("kind", "path", "cause"),
    [
        (
            ChannelKind.DINGTALK,
            "/dingtalk/robot/send?access_token=tok-ding-4711",
            "cause=errcode=310000 message='sign not match'",
        ),
        (
            ChannelKind.FEISHU,
            "/feishu/open-apis/bot/v2/hook/tok-feishu-4711",
            "cause=code=19021 message='sign match fail'",
        ),
    ],
)
def test_sign_refused_with_200_is_retried_logged_and_sent_next_run(
    receiver: Receiver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    kind: ChannelKind,
    path: str,
    cause: str,
) -> None:
    alerter = _alerter([AlertChannel(kind, f"{receiver.url}{path}")], tmp_path)
    receiver.refuse_sign_next = 3

    with caplog.at_level(logging.DEBUG, logger="slbsync"):
        assert alerter.notify(_drift()) == []
    assert len(receiver.requests) == 3
    assert f"channel={kind} url={receiver.url} status=failed attempts=3" in caplog.text
    assert cause in caplog.text
    assert "4711" not in caplog.text

    assert len(alerter.notify(_drift())) == 1
    assert len(receiver.requests) == 4
    assert alerter.notify(_drift()) == []  # announced now, so not again
    assert len(receiver.requests) == 4


@pytest.mark.parametrize(
    ("kind", "body", "cause"),
    [
        (
            ChannelKind.DINGTALK,
            b'{"errcode":130101,"errmsg":"send too fast"}',
            "errcode=130101 message='send too fast'",
        ),
        (
            ChannelKind.DINGTALK,
            b"<html>gateway</html>",
            "reply='<html>gateway</html>' is not a JSON object",
        ),
        (ChannelKind.DINGTALK, b"{}", "errcode=None message=''"),
        (ChannelKind.DINGTALK, b'{"errcode":false}', "errcode=False message=''"),
        (
            ChannelKind.FEISHU,
            b'{"StatusCode":9499,"StatusMessage":"Bad Request"}',
            "code=9499 message='Bad Request'",
        ),
        (
            ChannelKind.SLACK,
            b"invalid_payload",
            "reply='invalid_payload' (expected ok)",
        ),
    ],
)
def test_service_error_in_a_200_reply_fails_the_send(
    kind: ChannelKind, body: bytes, cause: str
) -> None:
    with pytest.raises(WebhookFailed) as failed:
        check_reply(kind, WebhookReply(200, body))
    assert str(failed.value) == cause


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (ChannelKind.DINGTALK, ACCEPTED["dingtalk"]),
        (ChannelKind.FEISHU, b'{"code":0,"data":{},"msg":"success"}'),
        (ChannelKind.FEISHU, b'{"StatusCode":0,"StatusMessage":"success"}'),
        (ChannelKind.SLACK, b"ok\n"),
        (ChannelKind.WEBHOOK, b"anything at all"),
    ],
)
def test_service_success_reply_passes(kind: ChannelKind, body: bytes) -> None:
    check_reply(kind, WebhookReply(200, body))


def test_no_secret_or_token_in_logs(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "?access_token=tok-secret-777"
    channels = [
        AlertChannel(ChannelKind.DINGTALK, f"{receiver.url}/dingtalk/send{token}"),
        AlertChannel(ChannelKind.FEISHU, f"{receiver.url}/feishu/hook{token}"),
        AlertChannel(ChannelKind.WEBHOOK, f"{receiver.url}/hook{token}"),
    ]
    alerter = _alerter(channels, tmp_path)
    with caplog.at_level(logging.DEBUG):
        alerter.notify(_drift())
        receiver.refuse_sign_next = 100  # the failure path logs a cause too
        alerter.notify(_drift("fp2"))
    assert "status=failed" in caplog.text
    for secret in (*SECRETS.values(), "tok-secret-777"):
        assert secret not in caplog.text
    assert "tok-secret-777" not in (tmp_path / "alerts.json").read_text()


def test_service_message_echoing_a_credential_is_masked_in_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "short-4711"  # a secret is masked however short
    hook = "0d8a6f4e-hook-token-4711"
    echo = json.dumps({"code": 19021, "msg": f"bad sign {secret} for {hook}"})
    channel = AlertChannel(
        ChannelKind.FEISHU, f"http://127.0.0.1:9/open-apis/bot/v2/hook/{hook}"
    )
    alerter = Alerter(
        [channel],
        tmp_path / "alerts.json",
        environ={"SLBSYNC_FEISHU_SECRET": secret},
        sender=lambda url, body, headers: WebhookReply(200, echo.encode()),
        attempts=1,
    )
    with caplog.at_level(logging.DEBUG, logger="slbsync"):
        assert alerter.notify(_drift()) == []
    assert "code=19021 message='bad sign *** for ***'" in caplog.text
    assert secret not in caplog.text
    assert "4711" not in caplog.text


def test_parse_channel_accepts_kinds_and_rejects_unknown() -> None:
    assert parse_channel("dingtalk=https://x/y").kind is ChannelKind.DINGTALK
    assert parse_channel("https://x/hook").kind is ChannelKind.WEBHOOK
    with pytest.raises(SlbsyncError, match='"teams" is not an alert channel'):
        parse_channel("teams=https://x")
    with pytest.raises(SlbsyncError, match="must start with http"):
        parse_channel("slack=ftp://x")
