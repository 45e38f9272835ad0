"""Fixtures for drift tests: a spec on disk, applied to the test emulator.

Drift is then made the way it happens, behind slbsync's back: with the
official SDK (``slb_client``) straight against the emulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from alibabacloud_slb20140515 import models as slb_models
from typer.testing import CliRunner

from slbsync.cli.app import app
from tests.conftest import REGION, EmulatorHandle
from tests.importer.handmade import servers_json

__all__ = ["servers_json"]  # the drift tests' hand edits use it too

CHAT_LB: dict[str, Any] = {
    "target": "cloud",
    "server_groups": {
        "ws": {
            "servers": [
                {"id": "i-node001", "port": 8080},
                {"id": "i-node002", "port": 8080, "weight": 50},
                {"id": "i-node003", "port": 8080},
            ]
        },
        "ext": {"membership": "external"},
    },
    "listeners": [
        {"protocol": "tcp", "port": 443, "server_group": "ws"},
        {"protocol": "tcp", "port": 80, "server_group": "ws"},
        {"protocol": "tcp", "port": 8443, "server_group": "ext"},
    ],
}


def write_spec(
    folder: Path, emulator: EmulatorHandle, load_balancers: dict[str, Any]
) -> Path:
    """A spec file aimed at the test emulator."""
    document = {
        "targets": {
            "cloud": {
                "type": "alibaba-slb",
                "region": REGION,
                "endpoint": f"http://{emulator.endpoint}",
                "rate": 1000,
                "burst": 100,
                # A failing cloud must fail a run within the tests' patience.
                "read_retry_seconds": 1,
            }
        },
        "load_balancers": load_balancers,
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def invoke(*args: str) -> Any:
    """The CLI as users run it, in-process (a usage error fails the test:
    its exit code 2 would pass for drift)."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    assert "Usage:" not in result.output, result.output
    return result


@pytest.fixture
def credentials(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> EmulatorHandle:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    return emulator


@pytest.fixture
def chat(credentials: EmulatorHandle, tmp_path: Path, monkeypatch: Any) -> Path:
    """The chat load balancer applied from its spec; returns the spec path."""
    monkeypatch.chdir(tmp_path)  # locks and alert state under tmp_path/.slbsync
    path = write_spec(tmp_path, credentials, {"chat": CHAT_LB})
    applied = invoke("apply", str(path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return path


def lb_id(client: Any, name: str) -> str:
    body = client.describe_load_balancers(
        slb_models.DescribeLoadBalancersRequest(
            region_id=REGION, load_balancer_name=name
        )
    ).body
    return str(body.load_balancers.load_balancer[0].load_balancer_id)


def group_id(client: Any, lb: str, name: str) -> str:
    body = client.describe_vserver_groups(
        slb_models.DescribeVServerGroupsRequest(region_id=REGION, load_balancer_id=lb)
    ).body
    found = [
        g for g in body.vserver_groups.vserver_group if g.vserver_group_name == name
    ]
    return str(found[0].vserver_group_id)
