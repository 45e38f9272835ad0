"""What one emulator call costs, so that benchmarks of slbsync measure slbsync.

Runs the official SDK against three servers, each in its own process:

- ``emulator``: slbsync's emulator, in memory;
- ``baseline``: a bare ``http.server`` answering a fixed JSON body with the
  same shape (keep-alive, TCP_NODELAY, one send per answer): the least any
  server can cost the SDK;
- ``split`` (with ``--show-stall``): the baseline writing headers and body in
  two sends without TCP_NODELAY, to show the delayed-ACK stall the emulator
  avoids.

It reports, per action, the SDK's end-to-end time per call against each
server and the ratio emulator/baseline, plus the emulator's own time per
call measured inside the server (``GET /_emulator/stats``). Exit code 1 if
the emulator spends 1 ms or more per call.

    python scripts/bench/emulator_cost.py [--calls 300] [--show-stall]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

for _name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(_name, None)

SERVER_BUDGET_MS = 1.0
ROUND = 50  # calls per timed round
REGION = "cn-hangzhou"

# The baseline answers each action with the body the emulator gave for it
# (recorded after seeding), so the SDK parses the same bytes from both; this
# one is only a fallback.
FIXED_BODY = json.dumps(
    {
        "RequestId": "00000000-0000-0000-0000-000000000000",
        "LoadBalancerId": "lb-baseline",
        "LoadBalancerName": "baseline",
        "LoadBalancerStatus": "active",
        "Address": "47.96.0.1",
        "ListenerPorts": {"ListenerPort": [80]},
        "ListenerPortsAndProtocol": {
            "ListenerPortAndProtocol": [{"ListenerPort": 80, "ListenerProtocol": "tcp"}]
        },
        "BackendServers": {"BackendServer": []},
        "Tags": {"Tag": []},
    }
).encode()


class _Baseline(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    split = False
    bodies: ClassVar[dict[str, bytes]] = {}

    def setup(self) -> None:
        super().setup()
        if not self.split:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = self.bodies.get(self.headers.get("x-acs-action", ""), FIXED_BODY)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self.split:
            self.wfile.write(head)
            self.wfile.write(body)
        else:
            self.wfile.write(head + body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(kind: str, bodies_path: str | None) -> None:
    """Child process: serve ``kind`` and print the port."""
    if kind == "emulator":
        from slbsync.emulator.server import EmulatorServer

        server = EmulatorServer()
        print(server.port, flush=True)
        server.serve_forever()
        return
    bodies = {}
    if bodies_path:
        with open(bodies_path, encoding="utf-8") as handle:
            bodies = {k: json.dumps(v).encode() for k, v in json.load(handle).items()}
    handler = type(
        "Handler", (_Baseline,), {"split": kind == "split", "bodies": bodies}
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def start(
    kind: str, bodies_path: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, __file__, "--serve", kind]
    if bodies_path:
        command += ["--bodies", bodies_path]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, f"127.0.0.1:{process.stdout.readline().strip()}"


def client(endpoint: str) -> Any:
    from alibabacloud_slb20140515.client import Client
    from alibabacloud_tea_openapi.models import Config

    from slbsync.emulator.signature import (
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
    )

    return Client(
        Config(
            access_key_id=DEFAULT_ACCESS_KEY_ID,
            access_key_secret=DEFAULT_ACCESS_KEY_SECRET,
            endpoint=endpoint,
            protocol="http",
            region_id=REGION,
        )
    )


def control(endpoint: str, method: str, path: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"http://{endpoint}/_emulator/{path}", method=method
    )
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def time_calls(sdk: Any, action: str, lb_id: str, calls: int) -> float:
    """Mean seconds per SDK call of ``action``."""
    from alibabacloud_slb20140515 import models

    requests = {
        "DescribeLoadBalancerAttribute": lambda: sdk.describe_load_balancer_attribute(
            models.DescribeLoadBalancerAttributeRequest(load_balancer_id=lb_id)
        ),
        "DescribeLoadBalancers": lambda: sdk.describe_load_balancers(
            models.DescribeLoadBalancersRequest(region_id=REGION)
        ),
        "SetLoadBalancerName": lambda: sdk.set_load_balancer_name(
            models.SetLoadBalancerNameRequest(
                load_balancer_id=lb_id, load_balancer_name="renamed"
            )
        ),
    }
    run = requests[action]
    for _ in range(3):  # warm the connection
        run()
    started = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - started) / calls


def seed(endpoint: str) -> str:
    from alibabacloud_slb20140515 import models

    sdk = client(endpoint)
    lb_id = ""
    for n in range(20):
        lb_id = sdk.create_load_balancer(
            models.CreateLoadBalancerRequest(
                region_id=REGION, load_balancer_name=f"b{n}"
            )
        ).body.load_balancer_id
        sdk.create_load_balancer_tcplistener(
            models.CreateLoadBalancerTCPListenerRequest(
                load_balancer_id=lb_id,
                listener_port=80,
                backend_server_port=80,
                bandwidth=-1,
            )
        )
    return str(lb_id)


def record_bodies(endpoint: str, lb_id: str) -> str:
    """The emulator's answer to each benchmarked action, saved for the baseline."""
    from alibabacloud_slb20140515 import models

    sdk = client(endpoint)
    answers = {
        "DescribeLoadBalancerAttribute": sdk.describe_load_balancer_attribute(
            models.DescribeLoadBalancerAttributeRequest(load_balancer_id=lb_id)
        ),
        "DescribeLoadBalancers": sdk.describe_load_balancers(
            models.DescribeLoadBalancersRequest(region_id=REGION)
        ),
        "SetLoadBalancerName": sdk.set_load_balancer_name(
            models.SetLoadBalancerNameRequest(
                load_balancer_id=lb_id, load_balancer_name="renamed"
            )
        ),
    }
    bodies = {action: answer.body.to_map() for action, answer in answers.items()}
    handle, path = tempfile.mkstemp(prefix="emulator-cost-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(bodies, out)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per action")
    parser.add_argument("--show-stall", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.bodies)
        return 0

    emulator, emulator_endpoint = start("emulator")
    processes = [emulator]
    try:
        lb_id = seed(emulator_endpoint)
        bodies_path = record_bodies(emulator_endpoint, lb_id)
        baseline, baseline_endpoint = start("baseline", bodies_path)
        processes.append(baseline)
        control(emulator_endpoint, "DELETE", "stats")
        emulator_sdk = client(emulator_endpoint)
        baseline_sdk = client(baseline_endpoint)
        print(f"{'action':32} {'emulator ms':>12} {'baseline ms':>12} {'ratio':>6}")
        for action in (
            "DescribeLoadBalancerAttribute",
            "DescribeLoadBalancers",
            "SetLoadBalancerName",
        ):
            # Alternate short rounds and keep the median round, so load from
            # other processes on a shared machine hits both sides alike.
            rounds = max(1, args.calls // ROUND)
            ours_rounds, base_rounds = [], []
            for _ in range(rounds):
                ours_rounds.append(time_calls(emulator_sdk, action, lb_id, ROUND))
                base_rounds.append(time_calls(baseline_sdk, action, lb_id, ROUND))
            ours = statistics.median(ours_rounds)
            base = statistics.median(base_rounds)
            line = f"{action:32} {ours * 1000:12.3f} {base * 1000:12.3f}"
            print(f"{line} {ours / base:6.2f}")
        stats = control(emulator_endpoint, "GET", "stats")
        server_ms = stats["server_ms_per_call"]
        print(
            f"emulator handling time inside the server: {server_ms:.3f} ms per call "
            f"over {stats['calls']} calls (budget {SERVER_BUDGET_MS} ms); "
            f"socket send {stats['write_ms_per_call']:.3f} ms"
        )
        if args.show_stall:
            split, split_endpoint = start("split", bodies_path)
            processes.append(split)
            stalled = time_calls(
                client(split_endpoint), "DescribeLoadBalancerAttribute", lb_id, 20
            )
            print(
                f"baseline with split sends, no TCP_NODELAY: {stalled * 1000:.1f} ms "
                "per call"
            )
        os.unlink(bodies_path)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    return 0 if server_ms < SERVER_BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
