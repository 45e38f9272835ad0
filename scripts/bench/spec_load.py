"""How much loading a spec costs over parsing its YAML alone.

``load_spec`` composes nodes to keep every value's file:line:col, fills
``${VAR}``, builds the model and runs every check. The baseline is the same
file read by PyYAML's ``safe_load`` with the same parser (libyaml when
present), in the same run; the ratio is the figure to watch.

    python scripts/bench/spec_load.py [--sizes 10,100,500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from slbsync.spec.load import load_spec

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fleet_spec(balancers: int) -> dict[str, object]:
    """N load balancers, each with 4 listeners and 4 groups of 10 servers."""
    lbs = {}
    for n in range(balancers):
        groups = {
            f"group-{g}": {
                "servers": [
                    {"id": f"i-{n:04d}{g}{s:02d}", "port": 8080, "weight": 100}
                    for s in range(10)
                ]
            }
            for g in range(4)
        }
        listeners = [
            {
                "protocol": "tcp",
                "port": 8000 + g,
                "server_group": f"group-{g}",
                "scheduler": "least_connections",
                "connection_drain": "300s",
                "health_check": {"interval": "2s", "healthy": 3, "unhealthy": 3},
            }
            for g in range(4)
        ]
        lbs[f"lb-{n:04d}"] = {
            "target": "cloud",
            "tags": {"app": "chat"},
            "server_groups": groups,
            "listeners": listeners,
        }
    target = {"type": "alibaba-slb", "region": "cn-hangzhou", "endpoint": "local"}
    return {"targets": {"cloud": target}, "load_balancers": lbs}


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print("| load balancers | safe_load s | load_spec s | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"fleet-{size}.yaml"
            path.write_text(yaml.safe_dump(fleet_spec(size)))
            text = path.read_text()
            parse = best_of(args.runs, lambda t=text: yaml.load(t, Loader=LOADER))
            full = best_of(args.runs, lambda p=path: load_spec([p], environ={}))
            print(f"| {size} | {parse:.3f} | {full:.3f} | {full / parse:.2f} |")


if __name__ == "__main__":
    main()
