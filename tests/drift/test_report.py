"""Reports, alert messages and the classification, on hand-made results."""

from __future__ import annotations

import re

import pytest

from slbsync.cli.drift import ReportFormat, _Emitter
from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.drift.alerts import AlertStatus
from slbsync.drift.classify import classify
from slbsync.drift.detect import DriftResult, TargetDrift
from slbsync.drift.report import alert_message, fingerprint, render_markdown

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
