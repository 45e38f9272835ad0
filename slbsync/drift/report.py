"""Drift reports: text for people, JSON for programs, Markdown for tickets.

Also what the other outputs of a run are made from: the alert message (with
a fingerprint that stays the same while the drift does), and the per-load-
balancer counts the metrics show.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from slbsync.diff.changes import FieldChange
from slbsync.drift.alerts import AlertMessage, AlertStatus
from slbsync.drift.classify import DriftItem
from slbsync.drift.detect import DriftResult
from slbsync.drift.metrics import DriftCount

REPORT_VERSION = 1
ALERT_LINES = 20  # an alert lists this many items, then says how many more

_MEANING = {
    "modified": "modified",
    "missing": "missing (deleted out of band)",
    "unexpected": "unexpected (not in the spec)",
}


def fingerprint(result: DriftResult) -> str:
    """A digest of the drift itself, not of when or how it was read."""
    document = [item.to_json() for item in result.items]
    canonical = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def summary_text(result: DriftResult) -> str:
    counts = result.counts()
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def render_json(result: DriftResult) -> str:
    document: dict[str, Any] = {
        "version": REPORT_VERSION,
        "status": result.status,
        "started": result.started,
        "duration_seconds": round(result.duration, 3),
        "fingerprint": fingerprint(result),
        "summary": {**result.counts(), "read_calls": result.read_calls},
        "targets": [
            {
                "target": part.target,
                "error": part.error,
                "reads": dict(part.reads),
                "skipped": list(part.skipped),
                "drift": [item.to_json() for item in part.items],
            }
            for part in result.targets
        ],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


def render_text(result: DriftResult) -> str:
    lines = [f"slbsync drift   ({summary_text(result)})", ""]
    for part in result.targets:
        lines.append(f"target {part.target}")
        if part.error:
            lines.append(f"  error: {part.error}")
        elif not part.items:
            lines.append("  no drift: the live state matches the spec")
        for item in part.items:
            lines.append(f"  {item.address}: {_MEANING[str(item.status)]}")
            lines.extend(f"      {_field_text(change)}" for change in item.fields)
        lines.append("")
    lines.append(
        f"Read {result.read_calls} API calls in {result.duration:.1f}s; "
        + _verdict(result)
    )
    return "\n".join(lines) + "\n"


def render_markdown(result: DriftResult) -> str:
    lines = [f"### slbsync drift: {_verdict(result)}", ""]
    if result.items:
        lines += ["| status | resource | what differs |", "| --- | --- | --- |"]
        for item in result.items:
            what = "<br>".join(_md(_field_text(f)) for f in item.fields) or "-"
            lines.append(
                f"| {item.status} | {_md(f'{item.address.target}: {item.address}')}"
                f" | {what} |"
            )
        lines.append("")
    lines += [
        f"- target {part.target}: error: {_md(part.error)}"
        for part in result.targets
        if part.error
    ]
    lines.append(f"{summary_text(result)}; {result.read_calls} API calls read.")
    return "\n".join(lines) + "\n"


def alert_message(result: DriftResult) -> AlertMessage:
    """What the alert channels are told about a run (drift or resolved)."""
    if not result.items:
        return AlertMessage(
            AlertStatus.RESOLVED,
            "slbsync: drift resolved",
            ("the live state matches the spec again",),
        )
    load_balancers = {
        (item.address.target, item.address.load_balancer) for item in result.items
    }
    lines = [_alert_line(item) for item in result.items[:ALERT_LINES]]
    if len(result.items) > ALERT_LINES:
        lines.append(f"... and {len(result.items) - ALERT_LINES} more")
    return AlertMessage(
        AlertStatus.DRIFT,
        f"slbsync: drift on {len(load_balancers)} load balancer(s): "
        f"{summary_text(result)}",
        tuple(lines),
        fingerprint(result),
        {"counts": result.counts(), "drift": [i.to_json() for i in result.items]},
    )


def drift_counts(result: DriftResult) -> list[DriftCount]:
    """Drifted resources by target, load balancer and kind, for the metrics."""
    counted = Counter(
        (item.address.target, item.address.load_balancer, str(item.kind))
        for item in result.items
    )
    return [
        DriftCount(target, lb, kind, count)
        for (target, lb, kind), count in sorted(counted.items())
    ]


def _alert_line(item: DriftItem) -> str:
    fields = "; ".join(_field_text(change) for change in item.fields[:3])
    text = f"{item.status}: {item.address.target} {item.address}"
    return f"{text} ({fields})" if fields else text


def _field_text(change: FieldChange) -> str:
    return f"{change.field}: spec {_value(change.new)}, live {_value(change.old)}"


def _verdict(result: DriftResult) -> str:
    if result.status == "error":
        return "the run failed for " + ", ".join(
            part.target for part in result.targets if part.error
        )
    if result.status == "drift":
        return f"{len(result.items)} resource(s) drifted"
    return "no drift"


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value) if value != "" else '""'


def _md(text: str | None) -> str:
    return (text or "").replace("|", "\\|")
