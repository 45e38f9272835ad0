"""End-to-end helpers: an emulator process, spec files, and the CLI as users run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ACCESS_KEY_ID = "LTAI5tE2eTestKey"
# Distinctive, so a test can prove it never shows up in any output.
ACCESS_KEY_SECRET = "e2e-Secret-ZQX7-never-print-me"
REGION = "cn-hangzhou"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI run: our credentials, no proxy."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = ACCESS_KEY_ID
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = ACCESS_KEY_SECRET
    env.update(extra)
    return env


class EmulatorProcess:
    """``slbsync emulator serve`` on a free loopback port, stopped by pid."""

    def __init__(self, state_file: Path, *flags: str) -> None:
        command = [
            sys.executable, "-m", "slbsync", "emulator", "serve",
            "--port", "0",
            "--state", str(state_file),
            "--access-key", f"{ACCESS_KEY_ID}:{ACCESS_KEY_SECRET}",
            *flags,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        first = self.process.stdout.readline() if self.process.stdout else ""
        if "listening on" not in first:
            self.stop()
            raise RuntimeError(f"emulator did not start: {first!r}")
        self.url = first.split("listening on ", 1)[1].split()[0]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        with _NO_PROXY.open(request, timeout=10) as response:
            return json.loads(response.read())

    def set_faults(self, **faults: Any) -> None:
        self.control("PUT", "faults", faults)

    def reset(self) -> None:
        self.control("POST", "reset")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def write_spec(
    folder: Path, url: str, load_balancers: dict[str, Any], **sections: Any
) -> Path:
    """A spec file aiming ``load_balancers`` at the emulator at ``url``."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "targets": {
            "cloud": {"type": "alibaba-slb", "region": REGION, "endpoint": url}
        },
        "load_balancers": load_balancers,
        **sections,
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def small_load_balancer(servers: int = 3, port: int = 443) -> dict[str, Any]:
    return {
        "target": "cloud",
        "tags": {"app": "chat"},
        "server_groups": {
            "ws-nodes": {
                "servers": [
                    {"id": f"i-bp1e2e{n:03d}", "port": 8080} for n in range(servers)
                ]
            }
        },
        "listeners": [
            {
                "protocol": "tcp",
                "port": port,
                "server_group": "ws-nodes",
                "scheduler": "least_connections",
                "connection_drain": "300s",
            }
        ],
    }


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``slbsync ARGS`` as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "slbsync", *args],
        capture_output=True,
        text=True,
        env=clean_env(**(env or {})),
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def load_balancers_named(emulator: EmulatorProcess) -> dict[str, int]:
    """How many load balancers of each name the emulator holds."""
    from alibabacloud_slb20140515 import models
    from alibabacloud_slb20140515.client import Client
    from alibabacloud_tea_openapi.models import Config

    host = emulator.url.split("//", 1)[1]
    client = Client(
        Config(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            region_id=REGION,
            endpoint=host,
            protocol="http",
        )
    )
    emulator.set_faults()  # counting must not be throttled itself
    request = models.DescribeLoadBalancersRequest(
        region_id=REGION, page_size=100, page_number=1
    )
    body = client.describe_load_balancers(request).body.to_map()
    counts: dict[str, int] = {}
    for lb in body.get("LoadBalancers", {}).get("LoadBalancer", []):
        name = lb.get("LoadBalancerName", "")
        counts[name] = counts.get(name, 0) + 1
    return counts


def plan_in_process(spec_path: Path, *, prune: bool = False) -> Any:
    """A plan made in this process (faster than a CLI run, same code)."""
    from slbsync.cli.common import build_targets, read_spec
    from slbsync.plan.make import make_plan

    spec = read_spec([spec_path])
    targets = build_targets(spec)
    return make_plan(spec, targets, prune=prune), targets


def apply_in_process(spec_path: Path, *, prune: bool = False) -> Any:
    """Apply in this process; returns the report (failures listed in it)."""
    from slbsync.apply.runner import PlanRunner

    plan, targets = plan_in_process(spec_path, prune=prune)
    return PlanRunner({t.name: t for t in targets}).run(plan)


def server_group_names(emulator: EmulatorProcess) -> list[str]:
    """Every VServer group name of every load balancer, duplicates kept."""
    from alibabacloud_slb20140515 import models

    client = slb_client(emulator)
    names = []
    body = client.describe_load_balancers(
        models.DescribeLoadBalancersRequest(
            region_id=REGION, page_size=100, page_number=1
        )
    ).body.to_map()
    for lb in body.get("LoadBalancers", {}).get("LoadBalancer", []):
        groups = client.describe_vserver_groups(
            models.DescribeVServerGroupsRequest(
                region_id=REGION, load_balancer_id=lb["LoadBalancerId"]
            )
        ).body.to_map()
        for group in groups.get("VServerGroups", {}).get("VServerGroup", []):
            names.append(f"{lb['LoadBalancerName']}/{group['VServerGroupName']}")
    return sorted(names)


def slb_client(emulator: EmulatorProcess) -> Any:
    """An official SLB SDK client for the emulator process, as scripts use."""
    from alibabacloud_slb20140515.client import Client
    from alibabacloud_tea_openapi.models import Config

    return Client(
        Config(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            region_id=REGION,
            endpoint=emulator.url.split("//", 1)[1],
            protocol="http",
        )
    )


def cli_in_process(args: Sequence[str]) -> Any:
    """Run the CLI in this process (typer's runner): no cold start per run."""
    from typer.testing import CliRunner

    from slbsync.cli.app import app

    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "HTTP_PROXY": None,
        "HTTPS_PROXY": None,
        "http_proxy": None,
        "https_proxy": None,
    }
    return CliRunner(env=env).invoke(app, list(args))


def refused_writes(emulator: EmulatorProcess) -> dict[str, dict[str, int]]:
    """Writes the emulator answered with anything but success, by action."""
    outcomes = emulator.control("GET", "calls/outcomes")["by_action"]
    return {
        action: {k: n for k, n in counts.items() if k != "ok"}
        for action, counts in outcomes.items()
        if not action.startswith(("Describe", "List"))
        and any(k != "ok" for k in counts)
    }


def writes_made(emulator: EmulatorProcess) -> list[str]:
    """Write actions the emulator was called with since its call log was cleared."""
    outcomes = emulator.control("GET", "calls/outcomes")["by_action"]
    return sorted(a for a in outcomes if not a.startswith(("Describe", "List")))
