"""The root of slbsync's error tree.

::

    SlbsyncError                  anything slbsync reports to a user (cli/ exits 1)
    ├── SpecError                 spec/: a spec that cannot be loaded or is invalid
    ├── PlanError                 plan/: a plan that must not be applied as it is
    │   ├── StalePlanError        the live state moved since the plan was saved
    │   └── SafetyError           the plan removes more than allowed without --force
    ├── ApplyError                apply/: a run that ended with failed changes
    ├── TargetError               targets/: a target refused or failed a request
    │   ├── CloudApiError         a cloud API answered with an error
    │   └── ConfigRejectedError   a rendered config was rejected by its binary
    ├── LockError                 membership/: a lock could not be taken or kept
    └── EmulatorError             emulator/: the emulator could not start or serve

Each layer defines its specific errors beside the code that raises them and
derives them from the branch above. A message says what failed, where, and
what to do next.
"""

from __future__ import annotations


class SlbsyncError(Exception):
    """An error slbsync reports to the user with its message alone."""


class SpecError(SlbsyncError):
    """A spec could not be loaded or did not validate."""


class PlanError(SlbsyncError):
    """A plan cannot be made or must not be applied."""


class StalePlanError(PlanError):
    """A saved plan no longer matches the live state it was made from."""

    def __init__(self, plan_path: str, saved: str, live: str) -> None:
        super().__init__(
            f"{plan_path}: the live state changed since this plan was made "
            f"(fingerprint {saved[:12]} then, {live[:12]} now); "
            "run slbsync plan again and review the new plan"
        )
        self.plan_path = plan_path
        self.saved_fingerprint = saved
        self.live_fingerprint = live


class SafetyError(PlanError):
    """A plan removes more than the safety limits allow without --force."""


class ApplyError(SlbsyncError):
    """An apply finished with one or more failed changes."""


class TargetError(SlbsyncError):
    """A target refused or failed a request."""


class CloudApiError(TargetError):
    """A cloud API call failed; carries the action, code and request id."""

    def __init__(
        self,
        target: str,
        action: str,
        code: str,
        message: str,
        request_id: str | None = None,
        hint: str = "",
    ) -> None:
        rid = f" (request id {request_id})" if request_id else ""
        text = f"target {target}: {action} failed with {code}{rid}: {message}"
        if hint:
            text = f"{text}; {hint}"
        super().__init__(text)
        self.target = target
        self.action = action
        self.code = code
        self.request_id = request_id


class ConfigRejectedError(TargetError):
    """A rendered configuration was rejected by the proxy's own validator."""


class LockError(SlbsyncError):
    """A lock on a load balancer could not be taken or was lost."""


class EmulatorError(SlbsyncError):
    """The emulator could not start or serve."""
