"""Drift alerts to webhooks: generic JSON, DingTalk, Feishu (Lark) and Slack.

An alert goes out when drift appears (or changes), or when the safety limits
refuse to reconcile discovered groups, and once when it is resolved, never
again for the same drift on every run: the ``AlertState`` file remembers
what was last announced. A webhook that fails is retried a few times and
logged; it never stops detection.

Signing secrets come from the environment only (``SLBSYNC_WEBHOOK_SECRET``,
``SLBSYNC_DINGTALK_SECRET``, ``SLBSYNC_FEISHU_SECRET``) and are never
logged. Webhook URLs may carry tokens in their query (DingTalk's
``access_token``), so logs show only their scheme and host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tenacity import (
    RetryError,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from slbsync.errors import SlbsyncError

log = logging.getLogger(__name__)


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SLACK = "slack"


SECRET_VARIABLES = {
    ChannelKind.WEBHOOK: "SLBSYNC_WEBHOOK_SECRET",
    ChannelKind.DINGTALK: "SLBSYNC_DINGTALK_SECRET",
    ChannelKind.FEISHU: "SLBSYNC_FEISHU_SECRET",
}


class AlertStatus(StrEnum):
    DRIFT = "drift"
    # Nothing drifted, but the safety limits refused to reconcile discovered
    # groups with ECS: as worth hearing of as drift, and announced the same way.
    REFUSED = "refused"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertMessage:
    """What an alert says, before each channel formats it."""

    status: AlertStatus
    title: str
    lines: tuple[str, ...] = ()
    fingerprint: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


@dataclass(frozen=True)
class AlertChannel:
    kind: ChannelKind
    url: str

    @property
    def state_key(self) -> str:
        # A digest, so the state file never holds a token from the URL.
        digest = hashlib.sha256(f"{self.kind} {self.url}".encode()).hexdigest()
        return digest[:16]

    @property
    def public_url(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def parse_channel(text: str) -> AlertChannel:
    """``KIND=URL`` as given to ``--alert``; a bare URL is a generic webhook."""
    kind_text, sep, url = text.partition("=")
    if not sep or "://" in kind_text:
        kind_text, url = "webhook", text
    try:
        kind = ChannelKind(kind_text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in ChannelKind)
        raise SlbsyncError(
            f'--alert {kind_text}=...: "{kind_text}" is not an alert channel; '
            f"use one of {kinds}"
        ) from None
    if not url.startswith(("http://", "https://")):
        raise SlbsyncError(f"--alert {kind}: the URL must start with http(s)://")
    return AlertChannel(kind, url)


# -- formatting and signing ----------------------------------------------------


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def build_request(
    channel: AlertChannel,
    message: AlertMessage,
    environ: Mapping[str, str],
    now: float,
) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of one webhook call."""
    secret = environ.get(SECRET_VARIABLES.get(channel.kind, ""), "")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = channel.url

    if channel.kind is ChannelKind.DINGTALK:
        body: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": _markdown(message)},
        }
        if secret:
            # DingTalk signs "<ms timestamp>\n<secret>" keyed by the secret.
            stamp = str(int(now * 1000))
            digest = _hmac_sha256(secret.encode(), f"{stamp}\n{secret}".encode())
            sign = base64.b64encode(digest).decode()
            query = urllib.parse.urlencode({"timestamp": stamp, "sign": sign})
            url = f"{url}{'&' if '?' in url else '?'}{query}"
    elif channel.kind is ChannelKind.FEISHU:
        body = {"msg_type": "text", "content": {"text": message.text}}
        if secret:
            # Feishu keys the HMAC with "<s timestamp>\n<secret>" over nothing.
            stamp = str(int(now))
            digest = _hmac_sha256(f"{stamp}\n{secret}".encode(), b"")
            body = {
                "timestamp": stamp,
                "sign": base64.b64encode(digest).decode(),
                **body,
            }
    elif channel.kind is ChannelKind.SLACK:
        # Slack incoming webhooks carry no signature: the URL is the credential.
        body = {"text": f"*{message.title}*\n" + "\n".join(message.lines)}
    else:
        body = {
            "status": str(message.status),
            "title": message.title,
            "lines": list(message.lines),
            "fingerprint": message.fingerprint,
            "details": dict(message.details),
        }

    payload = json.dumps(body, sort_keys=True).encode()
    if channel.kind is ChannelKind.WEBHOOK and secret:
        signature = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        headers["X-Slbsync-Signature"] = f"sha256={signature}"
    return url, payload, headers


def _markdown(message: AlertMessage) -> str:
    lines = [f"### {message.title}", ""]
    lines += [f"- {line}" for line in message.lines]
    return "\n".join(lines)


# -- sending -------------------------------------------------------------------


class WebhookFailed(Exception):
    """A webhook answered with an error status or code, or could not be reached."""


@dataclass(frozen=True)
class WebhookReply:
    """What a webhook answered with an HTTP success status."""

    status: int
    body: bytes


Sender = Callable[[str, bytes, dict[str, str]], WebhookReply]
REPLY_EXCERPT = 120  # characters of a service's error message kept for the log
MIN_TOKEN_LENGTH = 16  # shorter URL parts are words, not tokens


def post_json(url: str, body: bytes, headers: dict[str, str]) -> WebhookReply:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return WebhookReply(response.status, response.read())
    except (urllib.error.URLError, OSError) as err:
        # The error text may quote the URL with its token; keep only the reason.
        reason = getattr(err, "code", None) or type(err).__name__
        raise WebhookFailed(str(reason)) from None


def check_reply(kind: ChannelKind, reply: WebhookReply) -> None:
    """Raise ``WebhookFailed`` unless the service says it took the message.

    DingTalk and Feishu answer a bad signature, a missing keyword or rate
    limiting with HTTP 200 and an error code in the JSON body; Slack answers
    the plain text ``ok``. A generic webhook is judged by its status alone.
    """
    if kind is ChannelKind.DINGTALK:
        _check_coded_reply(reply.body, code_keys=("errcode",), text_keys=("errmsg",))
    elif kind is ChannelKind.FEISHU:
        # Newer bots answer code/msg, older ones StatusCode/StatusMessage.
        _check_coded_reply(
            reply.body,
            code_keys=("code", "StatusCode"),
            text_keys=("msg", "StatusMessage"),
        )
    elif kind is ChannelKind.SLACK and reply.body.strip() != b"ok":
        raise WebhookFailed(f"reply={_excerpt(reply.body)!r} (expected ok)")


def _check_coded_reply(
    body: bytes, *, code_keys: tuple[str, ...], text_keys: tuple[str, ...]
) -> None:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise WebhookFailed(f"reply={_excerpt(body)!r} is not a JSON object")
    code = next((answer[k] for k in code_keys if k in answer), None)
    if type(code) is int and code == 0:  # JSON false is no success code
        return
    text = next((str(answer[k]) for k in text_keys if k in answer), "")
    raise WebhookFailed(f"{code_keys[0]}={code} message={_excerpt(text)!r}")


def _excerpt(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text[:REPLY_EXCERPT]


class Alerter:
    """Sends each new drift, and its resolution, once to every channel."""

    def __init__(
        self,
        channels: list[AlertChannel],
        state_path: Path,
        *,
        environ: Mapping[str, str] | None = None,
        sender: Sender = post_json,
        clock: Callable[[], float] = time.time,
        attempts: int = 3,
        wait_seconds: float = 1.0,
    ) -> None:
        self.channels = channels
        self.state_path = state_path
        self.environ = os.environ if environ is None else environ
        self.sender = sender
        self.clock = clock
        self.attempts = attempts
        self.wait_seconds = wait_seconds

    def notify(self, message: AlertMessage | None) -> list[AlertChannel]:
        """Announce ``message`` (drift, a refusal, or None) where it is news.

        None, or a resolved message, is a clean run. Each channel remembers
        what it last announced; a channel whose webhook failed is tried again
        on the next run. Returns the channels that were sent something.
        """
        announced = self._load_state()
        sent = []
        for channel in self.channels:
            last = announced.get(channel.state_key, "")
            announcement = _news(message, last)
            if announcement is None:
                continue
            if self._send(channel, announcement):
                unresolved = announcement.status is not AlertStatus.RESOLVED
                announced[channel.state_key] = (
                    announcement.fingerprint if unresolved else ""
                )
                sent.append(channel)
        self._save_state(announced)
        return sent

    def _send(self, channel: AlertChannel, message: AlertMessage) -> bool:
        url, body, headers = build_request(channel, message, self.environ, self.clock())

        @retry(
            retry=retry_if_exception_type(WebhookFailed),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.wait_seconds, max=30),
            reraise=False,
        )
        def send_once() -> None:
            check_reply(channel.kind, self.sender(url, body, headers))

        try:
            send_once()
        except RetryError as err:
            # A service's message is its own text: it could echo what we sent.
            cause = _without_credentials(
                str(err.last_attempt.exception()), url, self._secret_of(channel)
            )
            log.warning(
                "alert: channel=%s url=%s status=failed attempts=%d cause=%s",
                channel.kind,
                channel.public_url,
                self.attempts,
                cause,
            )
            return False
        else:
            log.info(
                "alert: channel=%s url=%s status=%s",
                channel.kind,
                channel.public_url,
                message.status,
            )
            return True

    def _secret_of(self, channel: AlertChannel) -> str:
        return self.environ.get(SECRET_VARIABLES.get(channel.kind, ""), "")

    def _load_state(self) -> dict[str, str]:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in state.get("announced", {}).items()}

    def _save_state(self, announced: dict[str, str]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"announced": announced}, sort_keys=True))
        os.replace(tmp, self.state_path)


def _without_credentials(text: str, url: str, secret: str) -> str:
    """``text`` with the signing secret and the URL's tokens masked.

    A token sits in the query (DingTalk's ``access_token``, the signature)
    or in the path (Feishu's hook id). Values shorter than a token (``?v=1``,
    ``/send``) are left: masking them would garble the text and hide nothing.
    """
    parts = urllib.parse.urlsplit(url)
    query = [value for _, value in urllib.parse.parse_qsl(parts.query)]
    path = [urllib.parse.unquote(segment) for segment in parts.path.split("/")]
    tokens = [part for part in (*query, *path) if len(part) >= MIN_TOKEN_LENGTH]
    for credential in (secret, *tokens):
        if credential:
            text = text.replace(credential, "***")
    return text


def _news(message: AlertMessage | None, last_fingerprint: str) -> AlertMessage | None:
    """What to tell a channel that last announced ``last_fingerprint``."""
    if message is not None and message.status is not AlertStatus.RESOLVED:
        return None if message.fingerprint == last_fingerprint else message
    if last_fingerprint:
        return message or AlertMessage(AlertStatus.RESOLVED, "slbsync: drift resolved")
    return None
