"""Drift on an on-prem target: servers changed over HAProxy's runtime API
behind slbsync's back show as modified, missing or unexpected, and
--remediate puts a weight back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slbsync.importer.document import render_yaml, spec_document
from slbsync.spec.model import Protocol
from tests.backends import Backend, free_port, start_http_backend
from tests.drift.conftest import invoke
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    haproxy,  # noqa: F401  (a fixture)
    http_backends,  # noqa: F401  (a fixture)
    spec_for,
)

BACKEND = "chat:nodes"  # HAProxy's name for group nodes of load balancer chat


@pytest.fixture
def edge(
    haproxy: RunningHaproxy,  # noqa: F811
    http_backends: list[Backend],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The spec file of load balancer chat, applied and without drift."""
    lb = chat_lb(free_port(), http_backends, protocol=Protocol.HTTP)
    target_spec = haproxy.target_spec()
    apply(spec_for(target_spec, lb), haproxy.target())
    path = tmp_path / "edge.yaml"
    path.write_text(render_yaml(spec_document(target_spec, [lb])))
    monkeypatch.chdir(tmp_path)
    assert invoke("drift", str(path)).exit_code == 0
    return path


def _only_item(spec: Path) -> dict[str, Any]:
    found = invoke("drift", str(spec), "--format", "json")
    assert found.exit_code == 2, found.output
    (item,) = json.loads(found.output)["targets"][0]["drift"]
    return dict(item)


def test_runtime_weight_change_is_drift_and_remediated(
    edge: Path,
    haproxy: RunningHaproxy,  # noqa: F811
    http_backends: list[Backend],  # noqa: F811
) -> None:
    name = f"127.0.0.1:{http_backends[0].port}"
    haproxy.admin.set_weight(BACKEND, name, 7)

    item = _only_item(edge)

    assert (item["status"], item["kind"], item["name"]) == (
        "modified",
        "servers",
        f"nodes/{name}",
    )
    assert item["fields"] == [{"field": "weight", "spec": 100, "live": 7}]
    assert invoke("drift", str(edge), "--remediate").exit_code == 2
    assert invoke("drift", str(edge)).exit_code == 0
    weights = {s.name: s.weight for s in haproxy.admin.servers_state(BACKEND)}
    assert weights[name] == 100


def test_server_deleted_over_runtime_api_is_missing(
    edge: Path,
    haproxy: RunningHaproxy,  # noqa: F811
    http_backends: list[Backend],  # noqa: F811
) -> None:
    name = f"127.0.0.1:{http_backends[1].port}"
    # HAProxy deletes a server only once it is in maintenance.
    haproxy.admin.set_state(BACKEND, name, "maint")
    haproxy.admin.delete_server(BACKEND, name)

    item = _only_item(edge)

    assert (item["status"], item["kind"], item["name"]) == (
        "missing",
        "servers",
        f"nodes/{name}",
    )
    assert item["load_balancer"] == "chat"


def test_server_added_over_runtime_api_is_unexpected(
    edge: Path,
    haproxy: RunningHaproxy,  # noqa: F811
) -> None:
    stranger = start_http_backend("stranger")
    try:
        endpoint = f"127.0.0.1:{stranger.port}"
        haproxy.admin.add_server(BACKEND, "by-hand", endpoint, ["weight", "30"])
        haproxy.admin.set_state(BACKEND, "by-hand", "ready")

        item = _only_item(edge)

        assert (item["status"], item["kind"], item["name"]) == (
            "unexpected",
            "servers",
            f"nodes/{endpoint}",
        )
    finally:
        stranger.stop()
