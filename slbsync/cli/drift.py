"""``slbsync drift``: report what changed live behind slbsync's back.

Exit 0 when nothing drifted, 2 when something did (or ``--remediate`` was
refused reconciling discovered groups), 1 on an error. With
``--every`` it runs until SIGTERM or SIGINT, one summary line a run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from slbsync.apply.runner import DEFAULT_RATE_LIMIT
from slbsync.cli.common import (
    PATHS_HELP,
    LockDirOption,
    MaxRemovalOption,
    TargetOption,
    build_targets,
    read_spec,
)
from slbsync.drift.alerts import Alerter, parse_channel
from slbsync.drift.detect import DEFAULT_READ_DEADLINE, DriftResult
from slbsync.drift.loop import (
    DEFAULT_JITTER,
    parse_interval,
    run_every,
    stop_on_signals,
)
from slbsync.drift.metrics import DriftMetrics
from slbsync.drift.remediate import Refusal, RemediationOptions
from slbsync.drift.report import fingerprint, render_json, render_markdown, render_text
from slbsync.drift.session import DriftSession, DriftSettings
from slbsync.errors import SlbsyncError
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL
from slbsync.spec.model import Spec
from slbsync.targets.base import Target

log = logging.getLogger(__name__)

# A refused reconciliation exits as drift does: something needs a person.
EXIT_CODES = {"clean": 0, "drift": 2, "refused": 2, "error": 1}
ALERT_STATE_FILE = "drift-alerts.json"


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def register(app: typer.Typer) -> None:
    app.command("drift")(drift_command)


def drift_command(
    paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP, show_default=False)],
    report_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="text for people, json, markdown for tickets."),
    ] = ReportFormat.TEXT,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the report here instead of stdout."),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            help="Run in a loop at this interval (5m, 1h, 90s) until SIGTERM.",
        ),
    ] = None,
    jitter: Annotated[
        float,
        typer.Option(
            "--jitter", min=0.0, max=1.0, help="Share of --every added at random."
        ),
    ] = DEFAULT_JITTER,
    max_runs: Annotated[
        int | None,
        typer.Option("--max-runs", min=1, help="With --every: stop after N runs."),
    ] = None,
    remediate: Annotated[
        bool,
        typer.Option(
            "--remediate", help="Apply the plan that undoes the drift (safety limits)."
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="With --remediate: also delete unexpected listeners and groups.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --remediate: pass the safety limits."),
    ] = False,
    max_removal: MaxRemovalOption = DEFAULT_MAX_REMOVAL,
    alerts: Annotated[
        list[str] | None,
        typer.Option(
            "--alert",
            help="KIND=URL, KIND webhook, dingtalk, feishu or slack (repeatable); "
            "signing secrets from SLBSYNC_<KIND>_SECRET.",
        ),
    ] = None,
    state_dir: Annotated[
        Path,
        typer.Option("--state-dir", help="Where alert state is kept."),
    ] = Path(".slbsync"),
    metrics_textfile: Annotated[
        Path | None,
        typer.Option(
            "--metrics-textfile", help="Write Prometheus metrics here (node_exporter)."
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="With --every: serve /metrics on this port.",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option("--metrics-host", help="Address /metrics binds."),
    ] = "127.0.0.1",
    read_deadline: Annotated[
        float,
        typer.Option(
            "--read-deadline",
            min=0.0,
            help="Seconds to keep reading again after throttling or 5xx.",
        ),
    ] = DEFAULT_READ_DEADLINE,
    only: TargetOption = None,
    lock_dir: LockDirOption = None,
) -> None:
    """Compare the spec with what is live; exit 2 when something drifted."""
    if metrics_port is not None and every is None:
        raise SlbsyncError(
            "--metrics-port serves /metrics while drift runs in a loop; add "
            "--every, or use --metrics-textfile for a single run"
        )
    if (prune or force) and not remediate:
        raise SlbsyncError("--prune and --force change what --remediate does; add it")
    interval = parse_interval(every) if every is not None else None
    channels = [parse_channel(text) for text in alerts or []]
    alerter = None
    if channels:
        alerter = Alerter(channels, state_dir / ALERT_STATE_FILE, environ=os.environ)
    metrics = DriftMetrics() if metrics_textfile or metrics_port is not None else None

    def load() -> tuple[Spec, Sequence[Target]]:
        spec = read_spec(paths)
        return spec, build_targets(spec, only)

    settings = DriftSettings(
        read_deadline=read_deadline,
        remediate=remediate,
        remediation=RemediationOptions(
            prune=prune,
            force=force,
            max_removal=max_removal,
            rate_limit=DEFAULT_RATE_LIMIT,
            lock_dir=lock_dir,
        ),
        metrics_textfile=metrics_textfile,
    )
    emit = _Emitter(report_format, report, in_loop=interval is not None)
    session = DriftSession(load, settings, emit=emit, alerter=alerter, metrics=metrics)

    if interval is None:
        outcome = session.run_once()
        raise typer.Exit(EXIT_CODES[outcome.status])
    # A spec that does not load at the start is a mistake to fix now, not a
    # run to retry every interval (a later bad edit is logged and retried).
    load()
    _loop(session, interval, jitter, max_runs, metrics, metrics_port, metrics_host)


def _loop(
    session: DriftSession,
    interval: float,
    jitter: float,
    max_runs: int | None,
    metrics: DriftMetrics | None,
    port: int | None,
    host: str,
) -> None:
    # A loop reports each run in one line, whatever -v says.
    drift_log = logging.getLogger("slbsync.drift")
    if drift_log.getEffectiveLevel() > logging.INFO:
        drift_log.setLevel(logging.INFO)
    if metrics is not None and port is not None:
        metrics.serve(port, host)  # logs the address it listens on
    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            run_every(
                session.run_once, interval, stop, jitter=jitter, max_runs=max_runs
            )
    finally:
        if metrics is not None:
            metrics.stop()


class _Emitter:
    """Shows each run's report: every run once; in a loop, on news only.

    A loop writes ``--report`` after every run (a file others read), and
    prints to stdout only when the drift changed since the previous run,
    so a service's journal is not a copy of the same report every minute.
    """

    def __init__(
        self, report_format: ReportFormat, path: Path | None, *, in_loop: bool
    ):
        self.report_format = report_format
        self.path = path
        self.in_loop = in_loop
        self._last: str | None = None

    def __call__(self, result: DriftResult, refusal: Refusal | None = None) -> None:
        text = _render(result, refusal, self.report_format)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
            return
        refused = refusal.reason if refusal is not None else ""
        news = f"{result.status}:{fingerprint(result)}:{refused}"
        if self.in_loop and news == self._last:
            return
        self._last = news
        typer.echo(text, nl=False)


def _render(
    result: DriftResult, refusal: Refusal | None, report_format: ReportFormat
) -> str:
    if report_format == ReportFormat.JSON:
        return render_json(result, refusal)
    if report_format == ReportFormat.MARKDOWN:
        return render_markdown(result, refusal)
    return render_text(result, refusal)
