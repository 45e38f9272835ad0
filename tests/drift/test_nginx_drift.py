"""Drift on nginx: a hand edit of the rendered file shows as modified drift
through the CLI, and --remediate renders it back and reloads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slbsync.importer.document import render_yaml, spec_document
from slbsync.spec.model import Listener, LoadBalancer, Protocol, Server, ServerGroup
from slbsync.targets.nginx.lab import start_lab_nginx
from tests.backends import free_port, start_http_backend
from tests.drift.conftest import invoke

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed"
)


def test_hand_edited_nginx_file_is_drift_and_remediated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = start_http_backend("b1")
    lab = start_lab_nginx(tmp_path / "nginx")
    try:
        target = lab.target_spec("edge")
        lb = LoadBalancer(
            name="chat-edge",
            target="edge",
            server_groups=(
                ServerGroup(
                    "web",
                    servers=(
                        Server(port=backend.port, address="127.0.0.1", weight=50),
                    ),
                ),
            ),
            listeners=(Listener(Protocol.HTTP, free_port(), "web"),),
        )
        path = tmp_path / "edge.yaml"
        path.write_text(render_yaml(spec_document(target, [lb])))
        monkeypatch.chdir(tmp_path)
        assert invoke("apply", str(path), "--auto-approve").exit_code == 0
        assert invoke("drift", str(path)).exit_code == 0

        text = lab.owned_conf.read_text()
        lab.owned_conf.write_text(text.replace("weight=50", "weight=5"))
        found = invoke("drift", str(path), "--format", "json")

        assert found.exit_code == 2, found.output
        (item,) = json.loads(found.output)["targets"][0]["drift"]
        assert (item["status"], item["kind"]) == ("modified", "servers")
        assert item["fields"] == [{"field": "weight", "spec": 50, "live": 5}]
        assert invoke("drift", str(path), "--remediate").exit_code == 2
        assert lab.owned_conf.read_text() == text
        assert invoke("drift", str(path)).exit_code == 0
    finally:
        lab.stop()
        backend.stop()
