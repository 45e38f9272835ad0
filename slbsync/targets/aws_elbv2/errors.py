"""boto3 errors translated into ``ElbApiError``, and classified for retries.

The client is built with botocore's own retries off, so the apply runner
decides, and it asks three questions of every failure: is it safe to
repeat (``transient``: throttling codes and 5xx), may it have taken effect
(``outcome_unknown``: the connection broke after the request went out),
and was it throttling (so the rate limiter slows down).
"""

from __future__ import annotations

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from slbsync.errors import CloudApiError

# AWS's throttling codes (the Elastic Load Balancing API reference's common
# errors, and the SDK's shared list).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)

# Server-side failures documented as safe to repeat.
BUSY_CODES = frozenset(
    {"ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout"}
)

HINTS = {
    "LoadBalancerNotFound": "the load balancer is gone; run slbsync plan again",
    "TargetGroupNotFound": "the target group is gone; run slbsync plan again",
    "ListenerNotFound": "the listener is gone; run slbsync plan again",
    "ResourceInUse": (
        "something still uses this resource (a listener of another load "
        "balancer?); detach it by hand or run slbsync plan again"
    ),
    "DuplicateListener": "a listener on this port exists already; run plan again",
    "DuplicateLoadBalancerName": (
        "a load balancer of this name exists with other settings; give the "
        "spec another name or set adopt: true"
    ),
    "DuplicateTargetGroupName": (
        "a target group of this name exists with other settings (port, "
        "protocol or target type cannot change); delete it by hand"
    ),
    "CertificateNotFound": "the certificate ARN is unknown in ACM or IAM here",
    "InvalidTarget": (
        "a target is not in the target group's VPC, not running, or of the "
        "wrong kind (instance ids for instance groups, IPs for ip groups)"
    ),
    "OperationNotPermitted": "AWS refuses this change; see the message",
    "UnrecognizedClientException": "the access key is unknown; check credentials",
    "InvalidClientTokenId": "the access key is unknown; check credentials",
    "SignatureDoesNotMatch": "the secret key does not match; check credentials",
    "AccessDenied": "the credentials lack an IAM permission for this action",
}


class ElbApiError(CloudApiError):
    """An Elastic Load Balancing call failed; says whether to retry."""

    def __init__(
        self,
        target: str,
        action: str,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        status: int | None = None,
        outcome_unknown: bool = False,
        hint: str = "",
    ) -> None:
        super().__init__(
            target, action, code, message, request_id, hint or HINTS.get(code, "")
        )
        self.status = status
        self.throttling = code in THROTTLING_CODES
        self.outcome_unknown = outcome_unknown
        self.transient = (
            self.throttling
            or code in BUSY_CODES
            or (status is not None and status >= 500)
            or code == "ConnectionError"
        )


def translate(error: Exception, target: str, action: str) -> ElbApiError:
    """The ``ElbApiError`` for a boto3 failure of ``action``."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        meta = error.response.get("ResponseMetadata", {})
        return ElbApiError(
            target,
            action,
            str(details.get("Code", "Unknown")),
            str(details.get("Message", "")),
            meta.get("RequestId"),
            status=meta.get("HTTPStatusCode"),
        )
    if isinstance(error, ReadTimeoutError | ConnectionClosedError):
        # The request went out; whether it took effect is unknown.
        return ElbApiError(
            target,
            action,
            "Timeout",
            str(error),
            outcome_unknown=True,
            hint="it may have taken effect; slbsync reads again before repeating",
        )
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return ElbApiError(target, action, "ConnectionError", str(error))
    if isinstance(error, NoCredentialsError):
        return ElbApiError(
            target,
            action,
            "NoCredentials",
            "no AWS credentials found",
            hint="set them the usual boto3 way: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, a profile, or an instance role",
        )
    if isinstance(error, NoRegionError):
        return ElbApiError(
            target,
            action,
            "NoRegion",
            "no AWS region",
            hint="set region on the target, or AWS_REGION / AWS_DEFAULT_REGION",
        )
    if isinstance(error, BotoCoreError):
        return ElbApiError(target, action, type(error).__name__, str(error))
    raise error
