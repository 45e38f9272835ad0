"""Prometheus metrics of drift runs: a textfile for node_exporter, or /metrics.

The registry is our own (not prometheus-client's global one), so the
metrics are exactly these and tests can build several side by side. The
HTTP endpoint binds 127.0.0.1 unless told otherwise: metrics name load
balancers, which is not for the whole network to read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    start_http_server,
    write_to_textfile,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftCount:
    """How many resources of one kind drifted on one load balancer."""

    target: str
    load_balancer: str
    kind: str
    count: int


class DriftMetrics:
    """The metrics one drift process exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.drifted = Gauge(
            "slbsync_drift_resources",
            "Resources that differ from the spec, by kind and load balancer.",
            ["target", "load_balancer", "kind"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "slbsync_drift_last_success_timestamp_seconds",
            "When the last drift run finished without error (Unix time).",
            registry=self.registry,
        )
        self.duration = Gauge(
            "slbsync_drift_run_duration_seconds",
            "How long the last drift run took.",
            registry=self.registry,
        )
        self.runs = Counter(
            "slbsync_drift_runs",
            "Drift runs, by result (clean, drift, refused, error).",
            ["result"],
            registry=self.registry,
        )
        self.api_calls = Counter(
            "slbsync_api_calls",
            "API calls made by drift runs, by target, action and result.",
            ["target", "action", "result"],
            registry=self.registry,
        )
        self._server: Any = None

    def record_run(
        self,
        *,
        result: str,
        duration_seconds: float,
        finished_at: float,
        drift: Iterable[DriftCount] = (),
        api_calls: Mapping[tuple[str, str, str], int] | None = None,
    ) -> None:
        """Record one run: its result, drift counts and API calls."""
        self.runs.labels(result).inc()
        self.duration.set(duration_seconds)
        for (target, action, call_result), count in (api_calls or {}).items():
            self.api_calls.labels(target, action, call_result).inc(count)
        if result == "error":
            # The drift gauges keep the last known picture rather than zeros.
            return
        self.last_success.set(finished_at)
        self.drifted.clear()
        for item in drift:
            self.drifted.labels(item.target, item.load_balancer, item.kind).set(
                item.count
            )

    def write_textfile(self, path: Path) -> None:
        """Write the metrics atomically for node_exporter's textfile collector."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` on ``host:port`` in the background; return the port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        bound = int(server.server_address[1])
        log.info("metrics: listening=http://%s:%d/metrics", host, bound)
        return bound

    @property
    def bound_address(self) -> tuple[str, int] | None:
        """The (host, port) ``/metrics`` listens on, or None when not serving."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
