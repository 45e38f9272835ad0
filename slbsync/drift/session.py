"""One drift run from start to end, and what a drift process keeps across runs.

A run loads the spec (again, so a loop follows edits to it), detects drift,
remediates when asked, tells the alert channels what is news, records the
metrics and logs one summary line. A run never raises for what the cloud or
a webhook does: its ``status`` says ``error`` and the next run tries again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slbsync.drift.alerts import Alerter
from slbsync.drift.detect import DEFAULT_READ_DEADLINE, DriftResult, detect_drift
from slbsync.drift.metrics import DriftMetrics
from slbsync.drift.remediate import (
    Refusal,
    Remediation,
    RemediationOptions,
    remediate,
)
from slbsync.drift.report import alert_message, drift_counts
from slbsync.errors import SlbsyncError
from slbsync.spec.model import Spec
from slbsync.targets.base import Target

log = logging.getLogger(__name__)

Loader = Callable[[], tuple[Spec, Sequence[Target]]]
"""Loads the spec and builds its targets; raises ``SlbsyncError`` on a bad spec."""

Emit = Callable[[DriftResult, Refusal | None], None]
"""Shows or saves a run's report (with why a remediation was refused, if it was)."""


@dataclass(frozen=True)
class RunOutcome:
    """What one run ended with: ``clean``, ``drift``, ``refused`` or ``error``.

    ``refused``: nothing drifted, but the safety limits refused to reconcile
    discovered groups with ECS (a fleet half gone at once, say).
    """

    number: int
    status: str
    result: DriftResult | None = None
    remediation: Remediation | None = None
    error: str | None = None

    @property
    def refusal(self) -> Refusal | None:
        return self.remediation.refusal if self.remediation is not None else None


@dataclass(frozen=True)
class DriftSettings:
    read_deadline: float = DEFAULT_READ_DEADLINE
    remediate: bool = False
    remediation: RemediationOptions = field(default_factory=RemediationOptions)
    metrics_textfile: Path | None = None


class DriftSession:
    """Runs drift detection, once or many times, with alerts and metrics."""

    def __init__(
        self,
        load: Loader,
        settings: DriftSettings,
        *,
        emit: Emit | None = None,
        alerter: Alerter | None = None,
        metrics: DriftMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.load = load
        self.settings = settings
        self.emit = emit
        self.alerter = alerter
        self.metrics = metrics
        self.clock = clock
        self.wall_clock = wall_clock
        self.runs = 0
        self._targets: Sequence[Target] = ()

    def run_once(self) -> RunOutcome:
        """One run: detect, remediate, alert, record; logs its summary line."""
        self.runs += 1
        begin = self.clock()
        outcome = self._detect_and_remediate(self.runs)
        duration = self.clock() - begin
        if outcome.result is not None and self.emit is not None:
            self.emit(outcome.result, outcome.refusal)
        if outcome.status != "error" and outcome.result is not None:
            self._alert(outcome.result, outcome.refusal)
        self._record(outcome, duration)
        _log_summary(outcome, duration)
        return outcome

    def _detect_and_remediate(self, number: int) -> RunOutcome:
        try:
            spec, targets = self.load()
        except SlbsyncError as err:
            log.error("drift: run=%d could not load the spec: %s", number, err)
            return RunOutcome(number, "error", error=str(err))
        self._targets = targets
        result = detect_drift(spec, targets, read_deadline=self.settings.read_deadline)
        for text in result.errors:
            log.error("drift: run=%d %s", number, text)
        if not self.settings.remediate:
            return RunOutcome(number, result.status, result)

        # Even without drift: discovered groups follow ECS through remediation.
        try:
            remediation = remediate(spec, result, targets, self.settings.remediation)
        except SlbsyncError as err:  # discovery failed (ECS, after its retries)
            log.error("drift: run=%d remediation not planned: %s", number, err)
            return RunOutcome(number, "error", result, error=str(err))
        if remediation.plan.is_empty and not result.items:
            return RunOutcome(number, result.status, result)
        status = result.status
        if remediation.refusal is not None and status == "clean":
            # Only discovered churn was to be applied, and it was too much to
            # apply unasked: an operator must hear of it, not only the log.
            status = "refused"
        if remediation.report.failures or remediation.report.commit_errors:
            status = "error"
            for failure in remediation.report.failures:
                log.error(
                    "drift: run=%d remediation failed: %s: %s",
                    number,
                    failure.change.address,
                    failure.message,
                )
        return RunOutcome(number, status, result, remediation)

    def _alert(self, result: DriftResult, refusal: Refusal | None) -> None:
        if self.alerter is None:
            return
        try:
            self.alerter.notify(alert_message(result, refusal))
        except Exception as err:  # an alert must never stop detection
            log.warning("drift: alerting failed: %s", err)

    def _record(self, outcome: RunOutcome, duration: float) -> None:
        if self.metrics is None:
            return
        result = outcome.result
        self.metrics.record_run(
            result=outcome.status,
            duration_seconds=duration,
            finished_at=self.wall_clock(),
            drift=drift_counts(result) if result is not None else (),
            api_calls=self._api_calls(outcome),
        )
        path = self.settings.metrics_textfile
        if path is not None:
            try:
                self.metrics.write_textfile(path)
            except OSError as err:
                log.warning("drift: metrics textfile=%s not written: %s", path, err)

    def _api_calls(self, outcome: RunOutcome) -> dict[tuple[str, str, str], int]:
        """Calls of this run by (target, action, result).

        A target that counts its own calls with their results
        (``call_results``) is asked; for others, what the read counted and
        the apply report say.
        """
        calls: Counter[tuple[str, str, str]] = Counter()
        if outcome.result is None:
            return {}
        targets = {t.name: t for t in self._targets}
        for part in outcome.result.targets:
            counter = getattr(targets.get(part.target), "call_results", None)
            if callable(counter):
                for (action, result), count in counter().items():
                    calls[(part.target, action, result)] += count
                continue
            for action, count in part.reads:
                calls[(part.target, action, "ok")] += count
            if part.error:
                calls[(part.target, "read", "error")] += 1
            if outcome.remediation is not None:
                for item in outcome.remediation.report.results:
                    if item.change.address.target == part.target:
                        key = (part.target, item.change.action, str(item.outcome))
                        calls[key] += 1
        return dict(calls)


def _log_summary(outcome: RunOutcome, duration: float) -> None:
    result = outcome.result
    counts = result.counts() if result is not None else {}
    extra = ""
    if outcome.remediation is not None:
        report = outcome.remediation.report
        extra = f" remediated={len(report.succeeded)} failed={len(report.failures)}"
        if outcome.refusal is not None:
            extra += " remediation=refused"
            if outcome.refusal.way_out:
                extra += f' needs="{outcome.refusal.way_out}"'
    log.info(
        "drift: run=%d status=%s modified=%d missing=%d unexpected=%d reads=%d "
        "duration=%.1fs%s",
        outcome.number,
        outcome.status,
        counts.get("modified", 0),
        counts.get("missing", 0),
        counts.get("unexpected", 0),
        result.read_calls if result is not None else 0,
        duration,
        extra,
    )
