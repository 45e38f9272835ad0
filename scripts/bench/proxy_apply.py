"""How long an apply takes to go live on each proxy, and what reloads cost.

Starts a private HAProxy (master-worker) and a private nginx on 127.0.0.1,
with three small HTTP backends, and drives both through slbsync's targets
(plan + apply, as ``slbsync apply`` does). It measures:

- **join**: from the start of ``apply`` until a request through the proxy
  reaches a server that joined its group (HAProxy: runtime API, no reload;
  nginx: render and reload), and until ``apply`` returns. Health checks are
  off, so the figure is slbsync's and the proxy's time, not a check interval.
- **new listener**: the same for a listener added to the spec, a change that
  needs a reload on both proxies (HAProxy's reload path).
- **reloads under load**: failed requests while slbsync applies a reload
  after reload, with clients that open a new connection per request and
  clients that keep their connection alive (and do not retry).

Figures are reported as ratios within this run (e.g. HAProxy's reload path
against its runtime path), never as absolute goals.

    python scripts/bench/proxy_apply.py [--runs 5] [--reloads 20] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

for _name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(_name, None)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from slbsync.apply.runner import PlanRunner  # noqa: E402
from slbsync.plan.make import make_plan  # noqa: E402
from slbsync.spec.model import (  # noqa: E402
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.targets.base import Target  # noqa: E402
from slbsync.targets.registry import make_target  # noqa: E402
from tests.backends import Backend, free_port, http_get, start_http_backend  # noqa: E402

JOIN_TIMEOUT = 15.0


@dataclass
class Proxy:
    """One proxy under test: how to make a fresh target for it, and its port."""

    name: str
    target_spec: TargetSpec
    port: int
    stop: Callable[[], None]

    def target(self) -> Target:
        return make_target(self.target_spec)


def load_balancer(
    proxy: Proxy, backends: list[Backend], idle_timeout: int = 15
) -> LoadBalancer:
    servers = tuple(Server(port=b.port, address="127.0.0.1") for b in backends)
    return LoadBalancer(
        name="chat",
        target=proxy.target_spec.name,
        server_groups=(ServerGroup(name="nodes", servers=servers),),
        listeners=(
            Listener(
                protocol=Protocol.HTTP,
                port=proxy.port,
                server_group="nodes",
                health_check=HealthCheck(type="http", enabled=False),
                idle_timeout=idle_timeout,
            ),
        ),
    )


def apply(proxy: Proxy, lb: LoadBalancer) -> list[str]:
    """Plan and apply one load balancer; the actions it took."""
    target = proxy.target()
    spec = Spec(targets=(proxy.target_spec,), load_balancers=(lb,))
    # Prune, so that undoing a case (a listener gone) is applied too.
    plan = make_plan(spec, [target], prune=True)
    PlanRunner({target.name: target}).run(plan).raise_for_failures()
    return [change.action for part in plan.targets for change in part.changes]


def time_to_live(
    proxy: Proxy, before: LoadBalancer, after: LoadBalancer, port: int, body: str
) -> tuple[float, float]:
    """Seconds from apply until ``port`` answers ``body``, and until apply returns."""
    apply(proxy, before)
    finished: list[float] = []

    def run() -> None:
        apply(proxy, after)
        finished.append(time.perf_counter())

    started = time.perf_counter()
    worker = threading.Thread(target=run)
    worker.start()
    # Poll while apply runs: the change can be live before apply returns
    # (the runtime API acts at once; the file check and swap come after).
    while _answer(port) != body:
        if time.perf_counter() > started + JOIN_TIMEOUT:
            raise RuntimeError(f"{proxy.name}: :{port} never answered {body}")
    live = time.perf_counter() - started
    worker.join(timeout=JOIN_TIMEOUT)
    if not finished:
        raise RuntimeError(f"{proxy.name}: apply did not finish")
    return live, finished[0] - started


def _answer(port: int) -> str | None:
    try:
        return http_get(port, timeout=2)
    except (OSError, RuntimeError):
        return None  # not listening yet


def with_listener(lb: LoadBalancer, port: int) -> LoadBalancer:
    """``lb`` with a second listener on ``port``: a change that needs a reload."""
    second = replace(lb.listeners[0], port=port)
    return replace(lb, listeners=(*lb.listeners, second))


class Traffic:
    """Steady requests: new connection each, or one kept-alive connection."""

    def __init__(self, port: int, keep_alive: bool, threads: int = 2) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.ok = 0
        self.failed = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _count(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1

    def _run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while not self._stop.is_set():
            if not self.keep_alive:
                try:
                    http_get(self.port)
                    self._count(True)
                except Exception:  # every failure counts, whatever it is
                    self._count(False)
                continue
            connection = connection or http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=5
            )
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                self._count(response.status == 200)
            except Exception:  # lost to a reload: counted, no retry
                self._count(False)
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


def reloads_under_load(
    proxy: Proxy, backends: list[Backend], reloads: int
) -> dict[str, Any]:
    """Apply ``reloads`` reloading changes while clients keep sending."""
    apply(proxy, load_balancer(proxy, backends))
    with Traffic(proxy.port, False) as fresh, Traffic(proxy.port, True) as kept:
        time.sleep(0.2)
        for number in range(reloads):
            actions = apply(proxy, load_balancer(proxy, backends, 16 + number % 2))
            if not actions:
                raise RuntimeError(f"{proxy.name}: the change planned nothing")
            time.sleep(0.1)
        time.sleep(0.2)
    return {
        "reloads": reloads,
        "new_connection_requests": fresh.ok + fresh.failed,
        "new_connection_failed": fresh.failed,
        "keep_alive_requests": kept.ok + kept.failed,
        "keep_alive_failed": kept.failed,
    }


def start_haproxy(root: Path) -> Proxy:
    from slbsync.targets.haproxy.lab import start_lab_haproxy

    lab = start_lab_haproxy(root / "haproxy")
    spec = lab.target_spec(name="haproxy", hard_stop_after="5s")
    return Proxy("haproxy", spec, free_port(), lab.stop)


def start_nginx(root: Path) -> Proxy | None:
    if shutil.which("nginx") is None:
        return None
    try:
        from slbsync.targets.nginx.lab import start_lab_nginx
    except ImportError:
        return None
    lab = start_lab_nginx(root / "nginx")
    spec = lab.target_spec(name="nginx", worker_shutdown_timeout="5s")
    return Proxy("nginx", spec, free_port(), lab.stop)


def measure(joins: int, reloads: int) -> dict[str, Any]:
    backends = [start_http_backend(f"b{i}") for i in (1, 2, 3)]
    root = Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp"))
    proxies = [start_haproxy(root)]
    nginx = start_nginx(root)
    if nginx is not None:
        proxies.append(nginx)
    results: dict[str, Any] = {"joins": joins, "nginx": nginx is not None}
    try:
        for proxy in proxies:
            two = load_balancer(proxy, backends[:2])
            three = load_balancer(proxy, backends)
            extra_port = free_port()
            cases = {
                # A server joins: HAProxy's runtime API, nginx's render+reload.
                "join": (two, three, proxy.port, "b3"),
                # A listener appears: a reload on both.
                "listener": (
                    load_balancer(proxy, backends[:1]),
                    with_listener(load_balancer(proxy, backends[:1]), extra_port),
                    extra_port,
                    "b1",
                ),
            }
            for label, (before, after, port, body) in cases.items():
                times = [
                    time_to_live(proxy, before, after, port, body) for _ in range(joins)
                ]
                key = f"{proxy.name}_{label}"
                results[f"{key}_s"] = statistics.median(t[0] for t in times)
                results[f"{key}_apply_s"] = statistics.median(t[1] for t in times)
            results[f"{proxy.name}_reloads"] = reloads_under_load(
                proxy, backends, reloads
            )
    finally:
        for proxy in proxies:
            proxy.stop()
        for backend in backends:
            backend.stop()
        shutil.rmtree(root, ignore_errors=True)
    return results


def report(results: dict[str, Any]) -> list[str]:
    runtime = results["haproxy_join_s"]

    def line(label: str, key: str, versus: str) -> str:
        live, whole = results[f"{key}_s"], results[f"{key}_apply_s"]
        ratio = (
            "baseline" if key == "haproxy_join" else f"{live / runtime:.1f}x {versus}"
        )
        return (
            f"{label:<30} live after {live * 1000:7.1f} ms, apply done "
            f"{whole * 1000:7.1f} ms  ({ratio})"
        )

    lines = [
        f"median of {results['joins']} runs each; live = the first request served "
        "by the new server or listener",
        line("haproxy join (runtime API)", "haproxy_join", ""),
        line("haproxy new listener (reload)", "haproxy_listener", "HAProxy join"),
    ]
    if results["nginx"]:
        lines.append(line("nginx join (render+reload)", "nginx_join", "HAProxy join"))
        lines.append(
            line("nginx new listener (reload)", "nginx_listener", "HAProxy join")
        )
    else:
        lines.append("nginx: not measured (nginx or its target is not available)")
    for name in ("haproxy", "nginx"):
        figures = results.get(f"{name}_reloads")
        if not figures:
            continue
        lines.append(
            f"{name} {figures['reloads']} reloads under load: "
            f"{figures['new_connection_failed']} of "
            f"{figures['new_connection_requests']} new-connection requests failed, "
            f"{figures['keep_alive_failed']} of {figures['keep_alive_requests']} "
            "keep-alive requests (no retry)"
        )
    return lines


def _quiet_backends() -> None:
    """Keep the backends' tracebacks for connections a proxy resets off stderr."""
    import tests.backends

    tests.backends._Server.handle_error = lambda *args: None  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", dest="joins", type=int, default=5)
    parser.add_argument("--reloads", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    _quiet_backends()
    results = measure(args.joins, args.reloads)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
