"""Benchmark: reading and planning a fleet of load balancers on the emulator.

For fleets of 10 and 100 load balancers (500 with --large), each with 4
listeners and 4 server groups of 10 servers, on an emulator that adds 20 ms
to every call and throttles above 50 calls/s, this measures one plan with
nothing to do and reports, from the same run:

- read calls, against Terraform's refresh of the same fleet
  (2N + 2L + 2G + B, shared/reference/slb-api.md section 7) and against the
  lower bound of the alibaba-slb target (docs/targets/alibaba-slb.md);
- wall time, against the floor the rate limit sets (calls / 50 per s);
- CPU time of the diff (compare + changes_for) on in-memory states of 1k
  and 10k load balancers, a tenth of them changed.

The fleet is seeded through the API with the limits off, then the faults
are set for the measured plan. Run: python scripts/bench/plan_fleet.py
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

for _name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(_name, None)

from slbsync.apply.runner import PlanRunner  # noqa: E402
from slbsync.diff.compare import compare  # noqa: E402
from slbsync.plan.make import make_plan  # noqa: E402
from slbsync.ratelimit import AdaptiveRateLimiter  # noqa: E402
from slbsync.spec.model import (  # noqa: E402
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.targets.base import LiveLoadBalancer, LiveState  # noqa: E402
from slbsync.targets.registry import make_target  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    EmulatorProcess,
)

LISTENERS = 4
GROUPS = 4
SERVERS = 10
LATENCY_MS = 20
RATE_LIMIT = 50.0


def fleet(count: int, target: str = "cloud") -> tuple[LoadBalancer, ...]:
    """``count`` load balancers shaped like the issue's benchmark fleet."""
    lbs = []
    for n in range(count):
        groups = tuple(
            ServerGroup(
                name=f"group-{g}",
                servers=tuple(
                    Server(port=8080 + g, id=f"i-bench{n:05d}g{g}s{s:02d}")
                    for s in range(SERVERS)
                ),
            )
            for g in range(GROUPS)
        )
        listeners = tuple(
            Listener(
                protocol=Protocol.TCP,
                port=7000 + i,
                server_group=f"group-{i % GROUPS}",
                scheduler="least_connections",
                connection_drain=300,
            )
            for i in range(LISTENERS)
        )
        lbs.append(
            LoadBalancer(
                name=f"fleet-{n:05d}",
                target=target,
                tags=(("app", "chat"),),
                server_groups=groups,
                listeners=listeners,
            )
        )
    return tuple(lbs)


def cloud_target(url: str, rate: float, burst: int = 10) -> TargetSpec:
    return TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region="cn-hangzhou",
        endpoint=url,
        options=(("burst", burst), ("rate", rate)),
    )


def terraform_reads(n: int) -> int:
    listeners, groups, members = n * LISTENERS, n * GROUPS, n * GROUPS * SERVERS
    return 2 * n + 2 * listeners + 2 * groups + members


def lower_bound(n: int) -> int:
    # docs/targets/alibaba-slb.md: names, ownership tag, listeners, groups
    # per LB, members per group.
    return 2 * math.ceil(n / 10) + math.ceil(n / 100) + n + n * GROUPS


def measure_plan(size: int, state_dir: Path) -> dict[str, float]:
    # The configuring window off, as when the README's figures were taken.
    emulator = EmulatorProcess(
        state_dir / f"fleet-{size}.json", "--configuring-ms", "0"
    )
    try:
        os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] = ACCESS_KEY_ID
        os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = ACCESS_KEY_SECRET
        lbs = fleet(size)
        # The emulator keeps the documented default quota (60 per region).
        emulator.control("PUT", "quotas", {"load_balancers": size + 10})

        # Seed with the limits off: this is set-up, not what is measured.
        seed_spec = Spec(
            targets=(cloud_target(emulator.url, 5000),), load_balancers=lbs
        )
        seeder = make_target(seed_spec.targets[0])
        started = time.monotonic()
        seed_plan = make_plan(seed_spec, [seeder])
        report = PlanRunner(
            {"cloud": seeder}, parallelism=8, limiter=AdaptiveRateLimiter(5000)
        ).run(seed_plan)
        report.raise_for_failures()
        seeding = time.monotonic() - started

        # The measured plan: 20 ms a call, throttled above 50 calls/s.
        emulator.set_faults(latency_ms=LATENCY_MS, rate_limits={"*": RATE_LIMIT})
        spec = replace(seed_spec, targets=(cloud_target(emulator.url, RATE_LIMIT),))
        target = make_target(spec.targets[0])
        started = time.monotonic()
        plan = make_plan(spec, [target])
        wall = time.monotonic() - started
        if not plan.is_empty:
            raise SystemExit(f"fleet {size}: the plan is not empty: {plan.changes[:3]}")
        return {
            "size": size,
            "reads": plan.read_calls,
            "wall": wall,
            "seeding": seeding,
        }
    finally:
        emulator.stop()


def diff_cpu(size: int) -> tuple[float, float]:
    """CPU seconds of compare, and of changes_for, in memory, 10% changed."""
    target = make_target(cloud_target("http://127.0.0.1:9", RATE_LIMIT))
    desired = fleet(size)
    live_lbs = []
    for n, lb in enumerate(desired):
        live = target.normalise(lb)
        if n % 10 == 0:
            # A changed weight and a changed scheduler on one in ten.
            group = live.server_groups[0]
            servers = (replace(group.servers[0], weight=50), *group.servers[1:])
            live = replace(
                live,
                server_groups=(
                    replace(group, servers=servers),
                    *live.server_groups[1:],
                ),
                listeners=(
                    replace(live.listeners[0], scheduler="round_robin"),
                    *live.listeners[1:],
                ),
            )
        ids = [("lb", f"lb-{n}")]
        ids += [(f"group:{g.name}", f"rsp-{n}-{g.name}") for g in live.server_groups]
        ids += [(f"listener:{x.label}", f"lb-{n}-{x.label}") for x in live.listeners]
        live_lbs.append(
            LiveLoadBalancer(
                spec=live,
                id=f"lb-{n}",
                owned=True,
                running=tuple(x.key for x in live.listeners),
                ids=tuple(ids),
            )
        )
    spec = Spec(targets=(target.spec,), load_balancers=desired)
    live_state = LiveState(target="cloud", load_balancers=tuple(live_lbs))

    started = time.process_time()
    comparison = compare(spec, live_state, target)
    compared = time.process_time()
    changes = target.changes_for(comparison.differences, live_state)
    done = time.process_time()
    expected = math.ceil(size / 10) * 2
    if len(changes) != expected:
        raise SystemExit(f"diff {size}: {len(changes)} changes, expected {expected}")
    return compared - started, done - compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--large", action="store_true", help="Also the 500 load balancer fleet."
    )
    parser.add_argument(
        "--sizes", default="10,100", help="Fleet sizes, comma separated."
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([500] if args.large else [])

    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            rows.append(measure_plan(size, Path(folder)))
            print(
                f"measured fleet of {size} (seeded in {rows[-1]['seeding']:.0f}s)",
                file=sys.stderr,
            )

    print(
        f"Plan with nothing to do; emulator at {LATENCY_MS} ms a call, "
        f"{RATE_LIMIT:.0f} calls/s.\n"
    )
    print(
        "| LBs | read calls | Terraform refresh | Terraform / ours "
        "| lower bound | ours / bound | wall s | calls / limit s | wall / floor |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        n, reads = int(row["size"]), int(row["reads"])
        terraform, bound = terraform_reads(n), lower_bound(n)
        floor = reads / RATE_LIMIT
        print(
            f"| {n} | {reads} | {terraform} | {terraform / reads:.1f}x | {bound} "
            f"| {reads / bound:.2f} | {row['wall']:.1f} | {floor:.1f} "
            f"| {row['wall'] / floor:.2f} |"
        )

    print("\nDiff CPU time, in memory, a tenth of the load balancers changed:\n")
    print("| LBs | compare s | changes_for s | total µs per LB |")
    print("|---:|---:|---:|---:|")
    totals = {}
    for size in (1000, 10000):
        compared, planned = diff_cpu(size)
        totals[size] = compared + planned
        per_lb = totals[size] / size * 1e6
        print(f"| {size} | {compared:.2f} | {planned:.2f} | {per_lb:.0f} |")
    ratio = totals[10000] / totals[1000]
    print(f"\n10k / 1k CPU: {ratio:.1f}x for 10x the load balancers.")


if __name__ == "__main__":
    main()
