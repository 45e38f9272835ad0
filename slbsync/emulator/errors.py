"""Errors the emulator answers with, shaped like the real API's.

Each refusal is an ``ApiError`` carrying the cloud's code, HTTP status and
message style; the server adds RequestId, HostId and Recommend. The classes
below are the codes used in more than one place; a handler with a one-off
code raises ``ApiError(code, message, status)`` directly, using the code and
status from ``shared/reference/slb-api.md`` section 5.
"""

from __future__ import annotations


class ApiError(Exception):
    """A refusal with the cloud's code, HTTP status and message."""

    code: str = "InternalError"
    status: int = 400

    def __init__(
        self, code: str | None = None, message: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


class MissingParameter(ApiError):
    code = "MissingParameter"

    def __init__(self, name: str) -> None:
        super().__init__(
            message=f'The input parameter "{name}" that is mandatory for '
            "processing this request is not supplied."
        )


class InvalidParameter(ApiError):
    code = "InvalidParameter"

    def __init__(self, name: str, detail: str = "") -> None:
        text = f'The specified parameter "{name}" is not valid.'
        super().__init__(message=f"{text} {detail}".strip())


class NotEmulated(ApiError):
    """A parameter or action the API defines but the emulator does not model."""

    code = "NotEmulated"
    status = 501

    def __init__(self, what: str) -> None:
        super().__init__(
            message=f"{what} is not emulated by slbsync's emulator; see the "
            "coverage list in docs/emulator.md."
        )


class InvalidAction(ApiError):
    code = "InvalidAction.NotFound"
    status = 404

    def __init__(self, action: str) -> None:
        super().__init__(
            message=f'Specified api "{action}" is not found, please check your url '
            "and method."
        )


class Throttling(ApiError):
    code = "Throttling.User"
    status = 400

    def __init__(self) -> None:
        super().__init__(message="Request was denied due to user flow control.")


class ServiceUnavailable(ApiError):
    code = "ServiceUnavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            message="The request has failed due to a temporary failure of the server."
        )


class InternalError(ApiError):
    code = "InternalError"
    status = 500

    def __init__(self) -> None:
        super().__init__(
            message="The request processing has failed due to some unknown error, "
            "exception or failure."
        )


class LoadBalancerNotFound(ApiError):
    code = "InvalidLoadBalancerId.NotFound"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified LoadBalancerId does not exist.")


class VServerGroupNotFound(ApiError):
    code = "InvalidParameter"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified VServerGroupId does not exist.")


class ListenerNotFound(ApiError):
    code = "InvalidParameter"
    status = 400

    def __init__(self) -> None:
        super().__init__(message="The specified resource does not exist.")


class ListenerBusy(ApiError):
    """A write inside a listener's configuring window."""

    code = "OperationFailed.ListenerStatusNotSupport"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            message="The status of the listener does not support this operation. "
            "Please try again later."
        )


class ServiceIsConfiguring(ApiError):
    code = "ServiceIsConfiguring"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            message="The specified service is configuring. Please try again later."
        )


class VServerGroupProcessing(ApiError):
    code = "VServerGroupProcessing"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            message="A previous configuration of the VServerGroup is pending, "
            "please try again later."
        )
