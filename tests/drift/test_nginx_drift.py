"""Drift on nginx: hand edits of the rendered file show through the CLI as
modified, missing or unexpected, and --remediate renders it back and reloads."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slbsync.importer.document import render_yaml, spec_document
from slbsync.spec.model import Listener, LoadBalancer, Protocol, Server, ServerGroup
from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx
from tests.backends import Backend, free_port, start_http_backend
from tests.drift.conftest import invoke

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed"
)


@dataclass
class Edge:
    """An applied spec: load balancer chat-edge, group web of two backends."""

    lab: LabNginx
    spec: Path
    backends: list[Backend]
    listener_port: int

    def drift(self) -> Any:
        return invoke("drift", str(self.spec), "--format", "json")


@pytest.fixture
def edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    backends = [start_http_backend("b1"), start_http_backend("b2")]
    lab = start_lab_nginx(tmp_path / "nginx")
    try:
        servers = (
            Server(port=backends[0].port, address="127.0.0.1", weight=50),
            Server(port=backends[1].port, address="127.0.0.1"),
        )
        port = free_port()
        lb = LoadBalancer(
            name="chat-edge",
            target="edge",
            server_groups=(ServerGroup("web", servers=servers),),
            listeners=(Listener(Protocol.HTTP, port, "web"),),
        )
        path = tmp_path / "edge.yaml"
        path.write_text(render_yaml(spec_document(lab.target_spec("edge"), [lb])))
        monkeypatch.chdir(tmp_path)
        assert invoke("apply", str(path), "--auto-approve").exit_code == 0
        assert invoke("drift", str(path)).exit_code == 0
        yield Edge(lab, path, backends, port)
    finally:
        lab.stop()
        for backend in backends:
            backend.stop()


def _only_item(result: Any) -> dict[str, Any]:
    assert result.exit_code == 2, result.output
    (item,) = json.loads(result.output)["targets"][0]["drift"]
    return dict(item)


def test_hand_edited_nginx_file_is_drift_and_remediated(edge: Edge) -> None:
    text = edge.lab.owned_conf.read_text()
    edge.lab.owned_conf.write_text(text.replace("weight=50", "weight=5"))

    item = _only_item(edge.drift())

    assert (item["status"], item["kind"]) == ("modified", "servers")
    assert item["fields"] == [{"field": "weight", "spec": 50, "live": 5}]
    assert invoke("drift", str(edge.spec), "--remediate").exit_code == 2
    assert edge.lab.owned_conf.read_text() == text
    assert invoke("drift", str(edge.spec)).exit_code == 0


def test_server_deleted_from_nginx_file_is_missing(edge: Edge) -> None:
    text = edge.lab.owned_conf.read_text()
    line = re.compile(rf"\n        server 127\.0\.0\.1:{edge.backends[1].port} [^\n]*;")
    edited, count = line.subn("", text)
    assert count == 1, text
    edge.lab.owned_conf.write_text(edited)

    item = _only_item(edge.drift())

    assert (item["status"], item["kind"], item["name"]) == (
        "missing",
        "servers",
        f"web/127.0.0.1:{edge.backends[1].port}",
    )
    assert item["load_balancer"] == "chat-edge"


def test_server_added_to_nginx_file_is_unexpected(edge: Edge) -> None:
    text = edge.lab.owned_conf.read_text()
    known = f"        server 127.0.0.1:{edge.backends[1].port} "
    assert known in text
    extra = "        server 127.0.0.1:9 weight=100 max_fails=3 fail_timeout=6s;\n"
    edge.lab.owned_conf.write_text(text.replace(known, extra + known, 1))

    item = _only_item(edge.drift())

    assert (item["status"], item["kind"], item["name"]) == (
        "unexpected",
        "servers",
        "web/127.0.0.1:9",
    )


def test_listener_block_deleted_from_nginx_file_is_missing_alone(edge: Edge) -> None:
    text = edge.lab.owned_conf.read_text()
    port = edge.listener_port
    # The listener's server block, up to its closing brace; its upstream stays.
    server_block = rf"\n    server {{\n        listen [\d.]+:{port};\n.*?\n    }}"
    edited, count = re.subn(server_block, "", text, flags=re.S)
    assert count == 1, text
    assert f"server 127.0.0.1:{edge.backends[1].port} " in edited  # upstream kept
    edge.lab.owned_conf.write_text(edited)

    item = _only_item(edge.drift())

    assert (item["status"], item["kind"], item["name"]) == (
        "missing",
        "listener",
        f"http/{port}",
    )
    assert invoke("apply", str(edge.spec), "--auto-approve").exit_code == 0
    assert edge.lab.owned_conf.read_text() == text
    planned = invoke("plan", str(edge.spec), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
