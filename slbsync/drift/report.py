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
from slbsync.drift.remediate import Refusal

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


def summary_text(result: DriftResult, refusal: Refusal | None = None) -> str:
    counts = result.counts()
    text = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"{text}; remediation refused" if refusal is not None else text


def refusal_json(refusal: Refusal | None) -> dict[str, Any] | None:
    """The report's ``remediation_refused``: null unless the limits refused."""
    if refusal is None:
        return None
    return {
        "reason": refusal.reason,
        "reconciliation_only": refusal.reconciliation_only,
        "max_removal": refusal.max_removal,
        "way_out": refusal.way_out,
    }


def render_json(result: DriftResult, refusal: Refusal | None = None) -> str:
    document: dict[str, Any] = {
        "version": REPORT_VERSION,
        "status": result.status,
        "started": result.started,
        "duration_seconds": round(result.duration, 3),
        "fingerprint": fingerprint(result),
        "summary": {**result.counts(), "read_calls": result.read_calls},
        "remediation_refused": refusal_json(refusal),
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


def render_text(result: DriftResult, refusal: Refusal | None = None) -> str:
    lines = [f"slbsync drift   ({summary_text(result, refusal)})", ""]
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
    if refusal is not None:
        lines += [*_refusal_lines(refusal), ""]
    lines.append(
        f"Read {result.read_calls} API calls in {result.duration:.1f}s; "
        + _verdict(result, refusal)
    )
    return "\n".join(lines) + "\n"


def render_markdown(result: DriftResult, refusal: Refusal | None = None) -> str:
    lines = [f"### slbsync drift: {_verdict(result, refusal)}", ""]
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
    if refusal is not None:
        reason, *rest = _refusal_lines(refusal)
        lines += [f"**{_md(reason)}**", "", *(f"- {_md(x.strip())}" for x in rest), ""]
    lines.append(f"{summary_text(result)}; {result.read_calls} API calls read.")
    return "\n".join(lines) + "\n"


def alert_message(result: DriftResult, refusal: Refusal | None = None) -> AlertMessage:
    """What the alert channels are told about a run: drift, a refused
    reconciliation of discovered groups, or that all is well (resolved)."""
    if not result.items and refusal is not None and refusal.reconciliation_only:
        return _refusal_alert(refusal)
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


def _refusal_alert(refusal: Refusal) -> AlertMessage:
    # The reason names the groups and shares: while it stays, so does the alert.
    digest = hashlib.sha256(refusal.reason.encode()).hexdigest()[:16]
    return AlertMessage(
        AlertStatus.REFUSED,
        "slbsync: reconciling discovered groups with ECS was refused by the "
        "safety limits",
        tuple(line.strip() for line in _refusal_lines(refusal)[1:]),
        f"refused-{digest}",
        {"remediation_refused": refusal_json(refusal)},
    )


def _refusal_lines(refusal: Refusal) -> list[str]:
    """A heading, then the safety check's lines and the way out, indented."""
    what = (
        "reconciling discovered groups with ECS"
        if refusal.reconciliation_only
        else "the remediation"
    )
    lines = [f"remediation refused: {what} was stopped by the safety limits"]
    lines += [f"  {line}" for line in refusal.reason.splitlines()]
    if refusal.way_out:
        lines.append(f"  {refusal.way_out} would let it run")
    return lines


def _alert_line(item: DriftItem) -> str:
    fields = "; ".join(_field_text(change) for change in item.fields[:3])
    text = f"{item.status}: {item.address.target} {item.address}"
    return f"{text} ({fields})" if fields else text


def _field_text(change: FieldChange) -> str:
    return f"{change.field}: spec {_value(change.new)}, live {_value(change.old)}"


def _verdict(result: DriftResult, refusal: Refusal | None = None) -> str:
    if result.status == "error":
        return "the run failed for " + ", ".join(
            part.target for part in result.targets if part.error
        )
    if result.status == "drift":
        return f"{len(result.items)} resource(s) drifted"
    if refusal is not None:
        return "no drift, but reconciling discovered groups was refused"
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
