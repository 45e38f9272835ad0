"""SDK errors translated into ``SlbApiError``, and classified for retries.

The SDK does not retry (``shared/reference/slb-api.md`` section 1.7), so the
apply runner does, and it asks three questions of every failure: is it safe
to repeat (``transient``), may it have taken effect (``outcome_unknown``),
and was it throttling (so the rate limiter slows down).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import UnretryableException

from slbsync.errors import CloudApiError
from slbsync.targets.alibaba_slb.redact import redact_text

THROTTLING_PREFIXES = ("Throttling", "Rejected.Throttling")

# The cloud's busy and configuring codes: the resource is mid-change, and
# the same call succeeds a moment later (reference sections 4.2 and 5.2).
BUSY_CODES = frozenset(
    {
        "ServiceUnavailable",
        "SystemBusy",
        "ServiceIsConfiguring",
        "OperationFailed.ListenerStatusNotSupport",
        "VServerGroupProcessing",
        "OperationBusy",
        "BackendServer.configuring",
        "ServiceIsStopping",
        "OperationFailed.TokenIsProcessing",
        "AclEntryProcessing",
        "DomainExtensionProcessing",
        "ProcessingSameRequest",
        "LastTokenProcessing",
    }
)

# What to do next, by code; the fallback hints depend on the HTTP status.
HINTS = {
    "InvalidLoadBalancerId.NotFound": (
        "the load balancer is gone; run slbsync plan again"
    ),
    "InvalidAccessKeyId.NotFound": (
        "the access key is unknown; check the credentials in the environment "
        "or the profile named by the target"
    ),
    "SignatureDoesNotMatch": (
        "the access key secret does not match the key id; check the credentials"
    ),
    "IncompleteSignature": (
        "the request signature was refused; check the credentials and the clock"
    ),
    "Forbidden.RAM": (
        "the credentials lack a RAM permission for this action; grant it"
    ),
    "RspoolVipExist": (
        "a listener still uses this server group; the plan stops and deletes "
        "listeners first, so run slbsync plan again"
    ),
    "RspoolRuleExist": (
        "a forwarding rule still uses this server group; run slbsync plan again"
    ),
    "TooManyBackendServers": "at most 20 servers fit in one call",
    "InstanceBackendServerNumberOverLimit": (
        "the load balancer is at its quota of backend servers (200 unless "
        "raised); remove servers from it first (fewer servers in the spec, "
        "apply, then add), or ask for a higher backendservers-per-slb quota "
        "in the Quota Center console"
    ),
    "IdempotentParameterMismatch": (
        "SLB remembers this name's client token from an earlier load balancer "
        "created with other settings; give the load balancer another name in "
        "the spec, or wait until the cloud forgets the token"
    ),
    "DeleteProtection": (
        "delete protection is on; set deletion_protection: false in the spec, "
        "apply, then delete"
    ),
    "ObtainIpFail": "a server is not running or does not exist; check its id",
    "InvalidServerId.NotFound": "a server id does not exist; check the spec",
    "CertificateAndPrivateKeyIsRefered": (
        "a listener still uses this certificate, perhaps on a load balancer "
        "slbsync does not own; move that listener to another certificate, "
        "then run slbsync plan again"
    ),
}


class SlbApiError(CloudApiError):
    """A failed SLB call, with what the retry policy needs to know."""

    def __init__(
        self,
        target: str,
        action: str,
        code: str,
        message: str,
        request_id: str | None = None,
        hint: str = "",
        *,
        status: int | None = None,
        transient: bool = False,
        outcome_unknown: bool = False,
        throttling: bool = False,
    ) -> None:
        super().__init__(target, action, code, message, request_id, hint)
        self.status = status
        self.transient = transient
        self.outcome_unknown = outcome_unknown
        self.throttling = throttling


def is_throttling_code(code: str) -> bool:
    return code.startswith(THROTTLING_PREFIXES)


def is_transient_code(code: str, status: int | None) -> bool:
    """Throttling, busy or configuring codes, and any 5xx but 501.

    501 Not Implemented says the server will never do this (the emulator
    answers it for what it does not emulate), so a retry cannot help.
    """
    if is_throttling_code(code) or code in BUSY_CODES:
        return True
    if status == 501:
        return False
    return status is not None and (status >= 500 or status == 449)


def hint_for(code: str, status: int | None) -> str:
    if code in HINTS:
        return HINTS[code]
    if is_throttling_code(code):
        return "the cloud is throttling; slbsync slows down and retries"
    if is_transient_code(code, status):
        return "a temporary condition on the cloud side; retrying is safe"
    if code.endswith("NotFound") or status == 404:
        return "something the plan relies on is gone; run slbsync plan again"
    if code in ("InvalidParameter", "MissingParameter"):
        return "the cloud refused a value; check the spec field named above"
    return "check the message above, fix the spec or the account, then retry"


def translate(err: BaseException, target: str, action: str) -> SlbApiError:
    """An SDK failure as an SlbApiError; the caller raises it ``from err``."""
    if isinstance(err, AlibabaCloudException):
        return _from_response(err, target, action)
    if isinstance(err, UnretryableException):
        return _from_transport(err, target, action)
    return SlbApiError(
        target,
        action,
        type(err).__name__,
        _safe_text(str(err)),
        hint="an unexpected SDK failure; run again with --debug for details",
    )


def _from_response(err: AlibabaCloudException, target: str, action: str) -> SlbApiError:
    data: dict[str, Any] = err.data if isinstance(err.data, dict) else {}
    code = str(err.code) if err.code not in (None, "None") else "Unknown"
    status = err.status_code if isinstance(err.status_code, int) else None
    message = str(data.get("Message") or data.get("message") or "")
    request_id = err.request_id or data.get("RequestId")
    transient = is_transient_code(code, status)
    return SlbApiError(
        target,
        action,
        code,
        _safe_text(message) or f"HTTP {status}",
        request_id,
        hint_for(code, status),
        status=status,
        transient=transient,
        throttling=is_throttling_code(code),
    )


def _from_transport(err: UnretryableException, target: str, action: str) -> SlbApiError:
    inner = err.inner_exception
    text = str(inner)
    if not_sent(inner, text):
        code = "ConnectionFailed"
        hint = "the endpoint could not be reached; check the endpoint and network"
    elif "json" in text.lower() and not _transport_text(text):
        code = "BadResponse"
        hint = "the answer was not an SLB response; check the endpoint"
    else:
        code = "ResponseLost"
        hint = (
            "the request may have taken effect; slbsync reads the live state "
            "before it tries again"
        )
    return SlbApiError(
        target,
        action,
        code,
        _safe_text(_URL_IN_TEXT.sub("", text)),
        hint=hint,
        transient=code == "ConnectionFailed",
        outcome_unknown=code == "ResponseLost",
    )


# The request line holds every parameter; a message has no use for it.
_URL_IN_TEXT = re.compile(r" with url: \S+")

# The SDK turns every transport failure into RetryError(str(error)), so the
# kind of failure survives only in its text (urllib3's and requests' wording).
_NOT_SENT = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Connection refused",
    "ConnectTimeout",
    "connect timeout=",
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
)
_IN_DOUBT = (
    "Read timed out",
    "ReadTimeout",
    "Connection aborted",
    "RemoteDisconnected",
    "Connection reset",
    "BadStatusLine",
    "IncompleteRead",
    "Broken pipe",
)


def not_sent(inner: BaseException | None, text: str) -> bool:
    """True when the request never reached the server: safe to send again."""
    if isinstance(inner, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(inner, requests.exceptions.ReadTimeout):
        return False
    return any(mark in text for mark in _NOT_SENT) and not any(
        mark in text for mark in _IN_DOUBT
    )


def _transport_text(text: str) -> bool:
    return any(mark in text for mark in _NOT_SENT + _IN_DOUBT)


def _safe_text(text: str) -> str:
    """A message without signatures or secrets the transport may quote."""
    return redact_text(text)
