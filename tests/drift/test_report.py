"""Reports, alert messages and the classification, on hand-made results."""

from __future__ import annotations

import json
import re

import pytest

from slbsync.cli.drift import ReportFormat, _Emitter
from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.drift.alerts import AlertStatus
from slbsync.drift.classify import classify
from slbsync.drift.detect import DriftResult, TargetDrift
from slbsync.drift.remediate import Refusal
from slbsync.drift.report import (
    alert_message,
    fingerprint,
    render_json,
    render_markdown,
    render_text,
)

MODIFIED, MISSING = DifferenceStatus.MODIFIED, DifferenceStatus.MISSING
UNEXPECTED = DifferenceStatus.UNEXPECTED


def _diff(status: DifferenceStatus, kind: ResourceKind, name: str, lb: str = "chat"):
    fields = (FieldChange("weight", 10, 100),) if status == MODIFIED else ()
    return Difference(status, ResourceAddress("cloud", lb, kind, name), fields=fields)


def _result(*differences: Difference) -> DriftResult:
    part = TargetDrift("cloud", classify(differences))
    return DriftResult((part,), "2026-12-03T19:00:00+00:00", 0.5)


def test_children_of_a_missing_parent_fold_into_it() -> None:
    items = classify(
        [
            _diff(MISSING, ResourceKind.SERVER_GROUP, "ws"),
            _diff(MISSING, ResourceKind.SERVERS, "ws/i-1:80"),
            _diff(MISSING, ResourceKind.LISTENER, "http/80"),
            _diff(MISSING, ResourceKind.RULE, "http/80/api"),
            _diff(MODIFIED, ResourceKind.SERVERS, "admin/i-2:80"),
        ]
    )

    assert [(str(i.status), i.address.name) for i in items] == [
        ("missing", "http/80"),
        ("missing", "ws"),
        ("modified", "admin/i-2:80"),
    ]


def test_unexpected_top_level_resources_are_not_drift() -> None:
    items = classify(
        [
            _diff(UNEXPECTED, ResourceKind.LOAD_BALANCER, "old", lb="old"),
            Difference(
                UNEXPECTED, ResourceAddress("cloud", "", ResourceKind.ACL, "office")
            ),
            _diff(UNEXPECTED, ResourceKind.LISTENER, "tcp/22"),
        ]
    )

    assert [i.address.name for i in items] == ["tcp/22"]


def test_fingerprint_follows_the_drift_not_the_run() -> None:
    one = _result(_diff(MODIFIED, ResourceKind.SERVERS, "ws/i-1:80"))
    again = DriftResult(one.targets, "2026-12-03T20:00:00+00:00", 3.0)
    other = _result(_diff(MISSING, ResourceKind.LISTENER, "tcp/80"))

    assert fingerprint(one) == fingerprint(again) != fingerprint(other)


def test_alert_lists_twenty_items_then_counts_the_rest() -> None:
    result = _result(
        *(_diff(MODIFIED, ResourceKind.SERVERS, f"ws/i-{n:02d}:80") for n in range(25))
    )

    message = alert_message(result)

    assert message.status is AlertStatus.DRIFT
    assert len(message.lines) == 21
    assert message.lines[-1] == "... and 5 more"
    assert (
        message.title
        == "slbsync: drift on 1 load balancer(s): 25 modified, 0 missing, 0 unexpected"
    )
    assert alert_message(_result()).status is AlertStatus.RESOLVED


def test_markdown_escapes_pipes() -> None:
    result = _result(_diff(MODIFIED, ResourceKind.LISTENER, "tcp/443", lb="a|b"))

    assert "a\\|b listener tcp/443" in render_markdown(result)


def test_loop_prints_a_report_only_when_the_drift_changed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit = _Emitter(ReportFormat.JSON, None, in_loop=True)
    drifted = _result(_diff(MODIFIED, ResourceKind.SERVERS, "ws/i-1:80"))

    emit(drifted)
    emit(drifted)
    emit(_result())

    printed = capsys.readouterr().out
    assert re.findall(r'^  "status": "(\w+)"', printed, re.MULTILINE) == [
        "drift",
        "clean",
    ]


HALF_GONE = Refusal(
    reason=(
        "the plan needs --force:\n  target cloud: removes 2 of 4 servers (50%) "
        "from server group chat/ws, over the 30% limit\nreview the plan, then "
        "pass --force (or raise --max-removal)"
    ),
    reconciliation_only=True,
    max_removal=0.5,
)


def test_refused_reconciliation_shows_in_every_report() -> None:
    document = json.loads(render_json(_result(), HALF_GONE))
    text = render_text(_result(), HALF_GONE)
    markdown = render_markdown(_result(), HALF_GONE)

    assert document["status"] == "clean"
    assert document["remediation_refused"] == {
        "reason": HALF_GONE.reason,
        "reconciliation_only": True,
        "max_removal": 0.5,
        "way_out": "--max-removal 0.5 or --force",
    }
    assert json.loads(render_json(_result()))["remediation_refused"] is None
    assert text.splitlines()[0] == (
        "slbsync drift   (0 modified, 0 missing, 0 unexpected; remediation refused)"
    )
    assert "    target cloud: removes 2 of 4 servers (50%) from server group" in text
    assert text.rstrip().endswith(
        "no drift, but reconciling discovered groups was refused"
    )
    assert markdown.startswith(
        "### slbsync drift: no drift, but reconciling discovered groups was refused"
    )
    assert "- --max-removal 0.5 or --force would let it run" in markdown


def test_way_out_names_only_what_would_pass() -> None:
    listener_delete = Refusal("the plan needs --force: ...", False, None)
    protected = Refusal("the plan cannot be applied: ...", False, None, False)

    assert listener_delete.way_out == "--force"
    assert protected.way_out == ""
    assert "would let it run" not in render_text(_result(), protected)


def test_refused_reconciliation_alerts_until_the_reason_changes() -> None:
    message = alert_message(_result(), HALF_GONE)
    worse = Refusal(HALF_GONE.reason.replace("2 of 4", "3 of 4"), True, 0.75)

    assert message.status is AlertStatus.REFUSED
    assert message.fingerprint == alert_message(_result(), HALF_GONE).fingerprint
    assert message.fingerprint != alert_message(_result(), worse).fingerprint
    assert message.lines[-1] == "--max-removal 0.5 or --force would let it run"
    assert message.details["remediation_refused"]["max_removal"] == 0.5


def test_drift_alert_stays_a_drift_alert_when_remediation_was_refused() -> None:
    drifted = _result(_diff(MODIFIED, ResourceKind.SERVERS, "ws/i-1:80"))
    refused = Refusal("the plan needs --force: ...", False, 0.5)

    assert alert_message(drifted, refused) == alert_message(drifted)


def test_loop_prints_again_when_a_refusal_appears(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit = _Emitter(ReportFormat.JSON, None, in_loop=True)

    emit(_result())
    emit(_result(), HALF_GONE)
    emit(_result(), HALF_GONE)

    printed = capsys.readouterr().out
    assert printed.count('"remediation_refused": null') == 1
    assert printed.count('"remediation_refused": {') == 1
