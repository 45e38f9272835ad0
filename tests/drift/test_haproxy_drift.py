"""Drift on an on-prem target: a weight changed over HAProxy's runtime API
shows as modified, and --remediate puts it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slbsync.importer.document import render_yaml, spec_document
from slbsync.spec.model import Protocol
from tests.backends import Backend, free_port
from tests.drift.conftest import invoke
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    haproxy,  # noqa: F401  (a fixture)
    http_backends,  # noqa: F401  (a fixture)
    spec_for,
)


def test_runtime_weight_change_is_drift_and_remediated(
    haproxy: RunningHaproxy,  # noqa: F811
    http_backends: list[Backend],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lb = chat_lb(free_port(), http_backends, protocol=Protocol.HTTP)
    target_spec = haproxy.target_spec()
    apply(spec_for(target_spec, lb), haproxy.target())
    path = tmp_path / "edge.yaml"
    path.write_text(render_yaml(spec_document(target_spec, [lb])))
    monkeypatch.chdir(tmp_path)

    assert invoke("drift", str(path)).exit_code == 0

    name = f"127.0.0.1:{http_backends[0].port}"
    haproxy.admin.set_weight("chat:nodes", name, 7)
    found = invoke("drift", str(path), "--format", "json")

    assert found.exit_code == 2, found.output
    (item,) = json.loads(found.output)["targets"][0]["drift"]
    assert (item["status"], item["kind"], item["name"]) == (
        "modified",
        "servers",
        f"nodes/{name}",
    )
    assert item["fields"] == [{"field": "weight", "spec": 100, "live": 7}]

    assert invoke("drift", str(path), "--remediate").exit_code == 2
    assert invoke("drift", str(path)).exit_code == 0
    weights = {s.name: s.weight for s in haproxy.admin.servers_state("chat:nodes")}
    assert weights[name] == 100
