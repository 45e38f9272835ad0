"""How fast a burst of nodes gets into service, and with how many API calls.

Ways a burst of chat nodes can join a server group of ``chat-gateway``,
each against a fresh ``slbsync emulator serve`` process that throttles
every action together to ``--rate`` calls per second (``Throttling.User``
above it, as the cloud's flow control does):

- ``register burst``: ``--nodes`` registrations at once into an
  ``external`` group, one thread per node in ``--racks`` processes, each
  node with its own target and SDK client (as separate hosts), sharing the
  load balancer's file lock. This is the burst as the load balancer sees
  it. (Two hundred separate Python processes need ~80 MB and ~1.5 s of CPU
  each just to start, which on a shared 2-core machine measures the
  machine, not the burst.)
- ``register CLI processes``: ``--cli-nodes`` real ``slbsync register``
  processes started at once; the time includes each one's Python start on
  this machine.
- ``discovered``: ``--nodes`` tagged, running ECS instances, and one
  ``slbsync apply`` of a ``discovered`` group (added 20 per call).

For each it reports the time until every node is in the group (checked
with ``DescribeVServerGroupAttribute``: all there, none twice), the API
calls the emulator answered (``GET /_emulator/calls``, throttled ones
included), and the baseline ``calls / rate``: the least time those calls
can take under the rate limit. The ratio time / baseline is the figure.

    python scripts/bench/register_burst.py             # 200 nodes, 100 calls/s
    python scripts/bench/register_burst.py --nodes 50 --rate 50 --cli-nodes 20

Run from the repository root (it uses ``tests.membership.burst_worker``).
Prints a Markdown table; everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REGION = "cn-hangzhou"
LB = "chat-gateway"
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.harness import EmulatorProcess, clean_env  # noqa: E402


class Emulator(EmulatorProcess):
    """``slbsync emulator serve`` throttling every action to ``rate`` calls/s."""

    def __init__(self, workdir: Path, rate: float) -> None:
        state = workdir / "emulator-state.json"
        # The configuring window off, as when the README's figures were taken.
        # The default 200 nodes fit the cloud's 200 servers per load balancer;
        # the quota is raised so that a larger --nodes is measured, not
        # refused (on the cloud that size needs a raised quota too).
        super().__init__(
            state,
            "--rate-limit", f"*={rate:g}",
            "--configuring-ms", "0",
            "--backend-server-quota", "100000",
        )  # fmt: skip


def write_spec(folder: Path, url: str, group: dict[str, Any]) -> Path:
    document = {
        "targets": {
            "cloud": {
                "type": "alibaba-slb",
                "region": REGION,
                "endpoint": url,
                "rate": 50,
                "burst": 10,
            }
        },
        "load_balancers": {
            LB: {
                "target": "cloud",
                "vpc_id": "vpc-chat",
                "address_type": "intranet",
                "server_groups": {"ws-nodes": group},
                "listeners": [
                    {"protocol": "tcp", "port": 443, "server_group": "ws-nodes",
                     "scheduler": "least_connections", "connection_drain": "300s"}
                ],
            }
        },
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "chat.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def seed(emulator: Emulator, nodes: int, tags: dict[str, str]) -> list[str]:
    ids = [f"i-burst{n:04d}" for n in range(nodes)]
    emulator.control(
        "POST",
        "ecs/instances",
        [{"id": i, "vpc_id": "vpc-chat", "tags": tags} for i in ids],
    )
    return ids


def cli(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "slbsync", *args],
        cwd=cwd, env=clean_env(), text=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def members(spec_path: Path) -> list[str]:
    """Server ids in the group now, duplicates kept (there must be none)."""
    from slbsync.cli.common import build_targets, read_spec
    from slbsync.membership.group import GroupHandle
    from slbsync.membership.register import retry_read

    os.environ.update(clean_env())
    spec = read_spec([spec_path])
    group = GroupHandle(spec, build_targets(spec)[0], LB, "ws-nodes")
    # Reads are throttled too: read again after a pause, as register does.
    return [server.key[0] for server in retry_read(group, time.sleep).members]


@dataclass
class Result:
    scenario: str
    nodes: int
    seconds: float
    calls: int
    by_action: dict[str, int]
    rate: float
    in_service: int
    duplicates: int
    failed: int

    @property
    def baseline(self) -> float:
        return self.calls / self.rate


def prepare(workdir: Path, rate: float, group: dict[str, Any]) -> tuple[Emulator, Path]:
    emulator = Emulator(workdir, rate)
    spec_path = write_spec(workdir / "specs", emulator.url, group)
    setup = cli(["apply", str(spec_path), "--auto-approve"], workdir)
    _, err = setup.communicate(timeout=300)
    if setup.returncode != 0:
        emulator.stop()
        raise RuntimeError(f"apply of the empty group failed: {err}")
    return emulator, spec_path


def register_burst(nodes: int, rate: float, workdir: Path, racks: int) -> Result:
    """``nodes`` concurrent registrations: ``racks`` processes of threads."""
    emulator, spec_path = prepare(workdir, rate, {"membership": "external"})
    try:
        ids = seed(emulator, nodes, {"role": "chat"})
        emulator.control("DELETE", "calls")
        started = time.monotonic()
        share = -(-nodes // racks)
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.membership.burst_worker",
                 str(spec_path), str(workdir / ".slbsync" / "locks"),
                 *ids[n * share : (n + 1) * share]],
                cwd=REPO, env=clean_env(), text=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            for n in range(racks)
        ]  # fmt: skip
        failed = 0
        for run in runs:
            out, err = run.communicate(timeout=1800)
            failed += sum(1 for line in out.splitlines() if not line.startswith("ok "))
            if run.returncode != 0:
                print(f"rack failed: {err.strip()[-400:]}", file=sys.stderr)
        seconds = time.monotonic() - started
        calls = emulator.control("GET", "calls")
        found = members(spec_path)
    finally:
        emulator.stop()
    return Result(
        f"register burst ({racks} processes of threads)", nodes, seconds,
        calls["total"], calls["by_action"], rate,
        len(set(found) & set(ids)), len(found) - len(set(found)), failed,
    )  # fmt: skip


def register_cli(nodes: int, rate: float, workdir: Path) -> Result:
    """``nodes`` concurrent ``slbsync register`` processes."""
    emulator, spec_path = prepare(workdir, rate, {"membership": "external"})
    try:
        ids = seed(emulator, nodes, {"role": "chat"})
        emulator.control("DELETE", "calls")
        started = time.monotonic()
        runs = [
            cli(["register", str(spec_path), "-l", LB, "-g", "ws-nodes",
                 "--server", server_id, "--port", "8080"], workdir)
            for server_id in ids
        ]  # fmt: skip
        failed = 0
        for run in runs:
            _, err = run.communicate(timeout=1800)
            if run.returncode != 0:
                failed += 1
                print(f"register failed: {err.strip()[-400:]}", file=sys.stderr)
        seconds = time.monotonic() - started
        calls = emulator.control("GET", "calls")
        found = members(spec_path)
    finally:
        emulator.stop()
    return Result(
        "register CLI processes", nodes, seconds, calls["total"],
        calls["by_action"], rate, len(set(found) & set(ids)),
        len(found) - len(set(found)), failed,
    )  # fmt: skip


def discovered(nodes: int, rate: float, workdir: Path) -> Result:
    """``nodes`` tagged instances, one ``slbsync apply``."""
    group = {
        "membership": "discovered",
        "discover": {"instance_tags": {"role": "chat"}, "port": 8080},
    }
    emulator, spec_path = prepare(workdir, rate, group)
    try:
        ids = seed(emulator, nodes, {"role": "chat"})
        emulator.control("DELETE", "calls")
        started = time.monotonic()
        run = cli(["apply", str(spec_path), "--auto-approve"], workdir)
        _, err = run.communicate(timeout=1800)
        seconds = time.monotonic() - started
        if run.returncode != 0:
            print(f"apply failed: {err.strip()[-400:]}", file=sys.stderr)
        calls = emulator.control("GET", "calls")
        found = members(spec_path)
    finally:
        emulator.stop()
    return Result(
        "discovered", nodes, seconds, calls["total"], calls["by_action"], rate,
        len(set(found) & set(ids)), len(found) - len(set(found)),
        int(run.returncode != 0),
    )  # fmt: skip


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | nodes | in service | duplicates | failed | API calls "
        "| calls / node | rate (calls/s) | baseline calls/rate | time to all in "
        "service | time / baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.nodes} | {r.in_service} | {r.duplicates} "
            f"| {r.failed} | {r.calls} | {r.calls / r.nodes:.2f} | {r.rate:g} "
            f"| {r.baseline:.1f}s | {r.seconds:.1f}s | {r.seconds / r.baseline:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--racks", type=int, default=4, help="processes of threads")
    parser.add_argument("--cli-nodes", type=int, default=40, help="0 to skip")
    parser.add_argument("--rate", type=float, default=100.0, help="calls/s, all")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="burst-") as root:
        runs = [
            (
                "register",
                lambda d: register_burst(args.nodes, args.rate, d, args.racks),
            ),
            ("cli", lambda d: register_cli(args.cli_nodes, args.rate, d)),
            ("discovered", lambda d: discovered(args.nodes, args.rate, d)),
        ]
        for name, run in runs:
            if name == "cli" and args.cli_nodes <= 0:
                continue
            folder = Path(root) / name
            folder.mkdir()
            results.append(run(folder))
    print(table(results))
    for r in results:
        print(f"\n{r.scenario} calls by action: {json.dumps(r.by_action)}")


if __name__ == "__main__":
    main()
