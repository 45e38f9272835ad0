"""Verify the two signature schemes the Alibaba Cloud SDKs send.

- ACS3-HMAC-SHA256 (the SDK's default): an ``Authorization`` header naming
  the access key, the signed headers and a hex signature over a canonical
  request rebuilt here from the headers the client says it signed.
- RPC HMAC-SHA1, ``SignatureVersion`` 1.0 (``signature_algorithm="v2"``):
  ``AccessKeyId``, ``Signature``, ``SignatureNonce`` and ``Timestamp`` travel
  as parameters; the string to sign covers every parameter but
  ``Signature``.

The recipes are in ``shared/reference/slb-api.md`` sections 1.2 and 1.3.
The emulator ships one documented key pair, ``DEFAULT_ACCESS_KEY_ID`` /
``DEFAULT_ACCESS_KEY_SECRET``. It is public by design: it guards nothing but
a loopback emulator, and lets the SDK sign without any setup.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from slbsync.emulator.errors import ApiError, MissingParameter

DEFAULT_ACCESS_KEY_ID = "LTAI5tSlbsyncEmulator"
DEFAULT_ACCESS_KEY_SECRET = "slbsync-emulator-secret"  # public by design, see above

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

# How far a request's clock may stray from ours, and how long a nonce is
# remembered: the same 15 minutes the cloud's gateway allows.
CLOCK_SKEW_SECONDS = 15 * 60
NONCE_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, as the server received it."""

    method: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]  # decoded query string parameters
    form: Mapping[str, str]  # decoded form body parameters
    body: bytes


class SignatureDoesNotMatch(ApiError):
    code = "SignatureDoesNotMatch"
    status = 400

    def __init__(self, string_to_sign: str) -> None:
        super().__init__(
            message="Specified signature does not match our calculation. "
            f"server string to sign is:{string_to_sign}"
        )


class InvalidAccessKeyIdNotFound(ApiError):
    code = "InvalidAccessKeyId.NotFound"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="Specified access key is not found.")


class SignatureNonceUsed(ApiError):
    code = "SignatureNonceUsed"
    status = 400

    def __init__(self) -> None:
        super().__init__(message="Specified signature nonce was used already.")


class IncompleteSignature(ApiError):
    code = "IncompleteSignature"
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(
            message=f"The request signature does not conform to "
            f"Aliyun standards. {detail}"
        )


class IllegalTimestamp(ApiError):
    code = "IllegalTimestamp"
    status = 400

    def __init__(self, name: str, value: str, why: str) -> None:
        super().__init__(
            message=f'The input parameter "{name}" that is "{value}" is {why}.'
        )


class NonceCache:
    """Nonces seen in the last window; a repeat is refused."""

    def __init__(self, window_seconds: float = NONCE_WINDOW_SECONDS) -> None:
        self._window = window_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def claim(self, nonce: str, now: float) -> None:
        with self._lock:
            if now >= self._next_prune:
                horizon = now - self._window
                self._seen = {n: t for n, t in self._seen.items() if t > horizon}
                self._next_prune = now + 60
            if nonce in self._seen:
                raise SignatureNonceUsed()
            self._seen[nonce] = now

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def parse_key_pair(text: str) -> tuple[str, str]:
    """``ID:SECRET`` as given to ``--access-key``."""
    key_id, sep, secret = text.partition(":")
    if not sep or not key_id or not secret:
        raise ValueError(f"access key {key_id or text[:8]!r}...: use ID:SECRET")
    return key_id, secret


_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?Z")


def parse_timestamp(name: str, value: str) -> float:
    """ISO 8601 UTC, with or without fractions of a second."""
    # A regular expression rather than strptime: this runs on every call.
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise IllegalTimestamp(name, value, "not well formatted")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        whole = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
        datetime(year, month, day, hour, minute, second)  # rejects 2026-02-30
    except ValueError:
        raise IllegalTimestamp(name, value, "not well formatted") from None
    return whole + float(match.group(7) or 0)


def check_clock(name: str, value: str, now: float) -> None:
    if abs(parse_timestamp(name, value) - now) > CLOCK_SKEW_SECONDS:
        raise IllegalTimestamp(name, value, "expired or too far in the future")


def verify(
    request: SignedRequest,
    keys: Mapping[str, str],
    nonces: NonceCache,
    now: float,
) -> str:
    """Check the request's signature; return the access key id it used."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith(ACS3):
        return _verify_acs3(request, authorization, keys, nonces, now)
    if "Signature" in request.query or "Signature" in request.form:
        return _verify_rpc(request, keys, nonces, now)
    if authorization:
        raise IncompleteSignature("The Authorization scheme is not supported.")
    raise MissingParameter("Signature")


def _verify_acs3(
    request: SignedRequest,
    authorization: str,
    keys: Mapping[str, str],
    nonces: NonceCache,
    now: float,
) -> str:
    fields = _authorization_fields(authorization)
    key_id = fields["Credential"]
    secret = keys.get(key_id)
    if secret is None:
        raise InvalidAccessKeyIdNotFound()

    signed_headers = fields["SignedHeaders"].split(";")
    headers = request.headers
    for required in ("x-acs-date", "x-acs-signature-nonce"):
        if required not in headers:
            raise MissingParameter(required)
    check_clock("x-acs-date", headers["x-acs-date"], now)

    payload_hash = headers.get("x-acs-content-sha256", EMPTY_BODY_SHA256)
    string_to_sign = acs3_string_to_sign(request, signed_headers, payload_hash)
    expected = hmac.new(
        secret.encode(), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"].lower()):
        raise SignatureDoesNotMatch(string_to_sign)
    if payload_hash != hashlib.sha256(request.body).hexdigest():
        raise SignatureDoesNotMatch(
            "(x-acs-content-sha256 does not match the body received)"
        )

    nonces.claim(headers["x-acs-signature-nonce"], now)
    return key_id


def _authorization_fields(authorization: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in authorization[len(ACS3) :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise IncompleteSignature(f"The Authorization header has no {name}.")
    return fields


def acs3_string_to_sign(
    request: SignedRequest, signed_headers: list[str], payload_hash: str
) -> str:
    """The ACS3 string to sign, rebuilt from the headers the client signed."""
    query = "&".join(
        f"{key}={quote(request.query[key], safe='~')}" for key in sorted(request.query)
    )
    header_lines = "".join(
        f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed_headers
    )
    canonical = (
        f"{request.method}\n/\n{query}\n{header_lines}\n"
        f"{';'.join(signed_headers)}\n{payload_hash}"
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ACS3}\n{digest}"


def _verify_rpc(
    request: SignedRequest,
    keys: Mapping[str, str],
    nonces: NonceCache,
    now: float,
) -> str:
    params = {**request.query, **request.form}
    for required in ("AccessKeyId", "SignatureNonce", "Timestamp"):
        if not params.get(required):
            raise MissingParameter(required)
    method = params.get("SignatureMethod", "HMAC-SHA1")
    if method != "HMAC-SHA1":
        raise IncompleteSignature(f"SignatureMethod {method} is not supported.")
    version = params.get("SignatureVersion", "1.0")
    if version != "1.0":
        raise IncompleteSignature(f"SignatureVersion {version} is not supported.")

    secret = keys.get(params["AccessKeyId"])
    if secret is None:
        raise InvalidAccessKeyIdNotFound()
    check_clock("Timestamp", params["Timestamp"], now)

    string_to_sign = rpc_string_to_sign(request.method, params)
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1
    ).digest()
    expected = base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected, params["Signature"]):
        raise SignatureDoesNotMatch(string_to_sign)

    nonces.claim(params["SignatureNonce"], now)
    return params["AccessKeyId"]


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """The RPC v1.0 string to sign, over every parameter but ``Signature``."""
    pairs = "&".join(
        f"{quote(key, safe='~')}={quote(params[key], safe='~')}"
        for key in sorted(params)
        if key != "Signature"
    )
    return f"{method}&%2F&{quote(pairs, safe='~')}"
