"""What an apply did: one result per change, and the failures to report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from slbsync.diff.changes import Change
from slbsync.errors import ApplyError


class Outcome(StrEnum):
    OK = "ok"
    SETTLED = "settled"  # outcome was unknown; a read showed it took effect
    FAILED = "failed"
    NOT_RUN = "not run"  # an earlier change it depends on failed


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    message: str = ""
    attempts: int = 1
    created_id: str | None = None
    # What made a failed change fail, for ``Target.order_after_failure``.
    error: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.SETTLED)


@dataclass
class ApplyReport:
    """Results in the order changes finished."""

    results: list[ChangeResult] = field(default_factory=list)
    commit_errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome == Outcome.FAILED]

    @property
    def not_run(self) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome == Outcome.NOT_RUN]

    @property
    def succeeded(self) -> list[ChangeResult]:
        return [r for r in self.results if r.succeeded]

    def raise_for_failures(self) -> None:
        """Raise ``ApplyError`` listing every failure; nothing if all went well."""
        if not self.failures and not self.commit_errors:
            return
        lines = [f"{r.change.address}: {r.message}" for r in self.failures]
        lines += self.commit_errors
        done = len(self.succeeded)
        raise ApplyError(
            f"apply failed: {len(lines)} failed, {len(self.not_run)} not run, "
            f"{done} done:\n  " + "\n  ".join(lines) + "\n"
            "fix the cause, then run slbsync plan to see what remains "
            "(apply again to finish)"
        )
