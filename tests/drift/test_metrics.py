from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

from slbsync.drift.metrics import DriftCount, DriftMetrics

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


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


def _scrape(host: str, port: int) -> str:
    with _NO_PROXY.open(f"http://{host}:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def _refuses_connections(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_metrics_endpoint_binds_loopback_only_by_default() -> None:
    metrics = DriftMetrics()
    _record_drift(metrics)
    port = metrics.serve(0)
    try:
        assert metrics.bound_address == ("127.0.0.1", port)
        body = _scrape("127.0.0.1", port)
        # Another loopback address reaches a socket bound to 0.0.0.0, not this one.
        assert _refuses_connections("127.0.0.2", port)
    finally:
        metrics.stop()
    assert 'slbsync_drift_resources{kind="listener"' in body
    assert metrics.bound_address is None


def test_metrics_endpoint_honours_an_explicit_host() -> None:
    metrics = DriftMetrics()
    _record_drift(metrics)
    port = metrics.serve(0, host="127.0.0.2")
    try:
        assert metrics.bound_address == ("127.0.0.2", port)
        assert 'slbsync_drift_resources{kind="servers"' in _scrape("127.0.0.2", port)
        assert _refuses_connections("127.0.0.1", port)
    finally:
        metrics.stop()
