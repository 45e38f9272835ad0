from __future__ import annotations

import urllib.request
from pathlib import Path

from slbsync.drift.metrics import DriftCount, DriftMetrics


def _record_drift(metrics: DriftMetrics) -> None:
    metrics.record_run(
        result="drift",
        duration_seconds=1.5,
        finished_at=1_764_700_000.0,
        drift=[
            DriftCount("cloud", "chat-gateway", "listener", 1),
            DriftCount("cloud", "chat-gateway", "servers", 3),
        ],
        api_calls={("cloud", "DescribeLoadBalancers", "ok"): 2},
    )


def test_textfile_holds_drift_by_kind_and_last_success(tmp_path: Path) -> None:
    metrics = DriftMetrics()
    _record_drift(metrics)
    path = tmp_path / "textfile" / "slbsync.prom"
    metrics.write_textfile(path)

    text = path.read_text()
    assert (
        'slbsync_drift_resources{kind="servers",load_balancer="chat-gateway",'
        'target="cloud"} 3.0' in text
    )
    assert "slbsync_drift_last_success_timestamp_seconds 1.7647e+09" in text
    assert "slbsync_drift_run_duration_seconds 1.5" in text
    assert (
        'slbsync_api_calls_total{action="DescribeLoadBalancers",result="ok",'
        'target="cloud"} 2.0' in text
    )


def test_clean_run_clears_drift_and_error_keeps_last_success() -> None:
    metrics = DriftMetrics()
    _record_drift(metrics)
    metrics.record_run(result="clean", duration_seconds=1.0, finished_at=2.0)
    metrics.record_run(result="error", duration_seconds=0.5, finished_at=3.0)

    registry = metrics.registry
    assert (
        registry.get_sample_value(
            "slbsync_drift_resources",
            {"target": "cloud", "load_balancer": "chat-gateway", "kind": "servers"},
        )
        is None
    )
    assert (
        registry.get_sample_value("slbsync_drift_last_success_timestamp_seconds") == 2.0
    )
    assert (
        registry.get_sample_value("slbsync_drift_runs_total", {"result": "error"}) == 1
    )


def test_metrics_endpoint_serves_on_loopback() -> None:
    metrics = DriftMetrics()
    _record_drift(metrics)
    port = metrics.serve(0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            body = r.read().decode()
    finally:
        metrics.stop()
    assert 'slbsync_drift_resources{kind="listener"' in body
