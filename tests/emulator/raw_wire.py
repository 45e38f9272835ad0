"""Hand-built, hand-signed requests, for the wire shapes the SDK never sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from slbsync.emulator.signature import SignedRequest, acs3_string_to_sign


def timestamp(fraction: bool = False) -> str:
    now = datetime.now(UTC)
    if fraction:
        return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def rpc_params(
    action: str,
    key_id: str,
    secret: str,
    method: str = "POST",
    version: str = "2014-05-15",
    nonce: str | None = None,
    **params: str,
) -> dict[str, str]:
    """Parameters signed with RPC HMAC-SHA1, written independently of the server."""
    signed = {
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": timestamp(),
        **params,
    }
    canonical = "&".join(
        f"{quote(k, safe='~')}={quote(signed[k], safe='~')}" for k in sorted(signed)
    )
    to_sign = f"{method}&%2F&{quote(canonical, safe='~')}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    signed["Signature"] = base64.b64encode(digest).decode()
    return signed


def send(
    endpoint: str,
    method: str,
    path: str = "/",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> tuple[int, dict[str, Any]]:
    host, port = endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(
            method, path, body=body, headers=headers or {}, encode_chunked=chunked
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def send_rpc(
    endpoint: str,
    method: str,
    params: dict[str, str],
    *,
    where: str = "query",
    chunked: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Send RPC params in the query string or a form body."""
    encoded = urlencode(params)
    if where == "query":
        return send(endpoint, method, f"/?{encoded}")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if chunked:
        pieces = iter(
            [
                encoded[: len(encoded) // 2].encode(),
                encoded[len(encoded) // 2 :].encode(),
            ]
        )
        return send(endpoint, method, "/", pieces, headers, chunked=True)  # type: ignore[arg-type]
    return send(endpoint, method, "/", encoded.encode(), headers)


def acs3_headers(
    endpoint: str,
    action: str,
    key_id: str,
    secret: str,
    query: dict[str, str],
    extra: dict[str, str] | None = None,
    signed: list[str] | None = None,
    nonce: str | None = None,
    date: str | None = None,
) -> dict[str, str]:
    """ACS3 headers, signing only the header names in ``signed``."""
    headers = {
        "host": endpoint,
        "x-acs-action": action,
        "x-acs-version": "2014-05-15",
        "x-acs-date": date or timestamp(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        **(extra or {}),
    }
    names = sorted(signed or headers)
    request = SignedRequest("POST", headers, query, {}, b"")
    to_sign = acs3_string_to_sign(request, names, headers["x-acs-content-sha256"])
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    return headers
