"""slbsync validate, plan and apply from a YAML spec, against a real HAProxy."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from slbsync.cli.app import app
from tests.backends import Backend, free_port, http_get
from tests.targets.haproxy.conftest import RunningHaproxy
from tests.targets.haproxy.test_https import _get
from tests.targets.nginx.test_https import self_signed

runner = CliRunner()

SPEC = """\
targets:
  edge:
    type: haproxy
    config_path: {dir}/slbsync.cfg
    main_config: [{dir}/haproxy.cfg]
    runtime_socket: {dir}/admin.sock
    master_socket: {dir}/master.sock
    state_file: {dir}/server-state
    hard_stop_after: 5s
    bind_address: 127.0.0.1
load_balancers:
  chat-edge:
    target: edge
    server_groups:
      web:
        servers:
{servers}
    listeners:
      - protocol: http
        port: {port}
        server_group: web
        scheduler: weighted_round_robin
        health_check:
          {{type: http, path: /health, interval: 1s, healthy: 2, unhealthy: 2}}
"""


def _write_spec(
    path: Path, haproxy: RunningHaproxy, port: int, servers: list[tuple[int, int]]
) -> Path:
    lines = "\n".join(
        f"          - {{address: 127.0.0.1, port: {p}, weight: {w}}}"
        for p, w in servers
    )
    path.write_text(SPEC.format(dir=haproxy.root, port=port, servers=lines))
    return path


def _check_status(haproxy: RunningHaproxy, backend: str) -> str:
    """The first server's last check result, once there is one (3s at most)."""
    deadline = time.monotonic() + 3
    while True:
        lines = haproxy.admin.send(f"show stat {backend} 4 -1").splitlines()
        row = dict(zip(lines[0][2:].split(","), lines[1].split(","), strict=False))
        if row["check_status"] not in ("", "INI") or time.monotonic() > deadline:
            return row["check_status"]
        time.sleep(0.1)


def test_plan_apply_and_plan_again_through_the_cli(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    b1, b2, _ = http_backends
    port = free_port()
    spec = _write_spec(tmp_path / "edge.yaml", haproxy, port, [(b1.port, 100)])

    assert runner.invoke(app, ["validate", str(spec)]).exit_code == 0
    planned = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert planned.exit_code == 2, planned.output
    assert "+ load balancer chat-edge" in planned.output
    assert "config reload" in planned.output

    applied = runner.invoke(app, ["apply", str(spec), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert http_get(port) == "b1"
    assert _check_status(haproxy, "chat-edge:web") == "L7OK", "the HTTP check runs"
    again = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output

    # A saved plan with a join and a weight change, applied as reviewed.
    _write_spec(spec, haproxy, port, [(b1.port, 50), (b2.port, 100)])
    saved = tmp_path / "plan.json"
    made = runner.invoke(app, ["plan", str(spec), "--out", str(saved)])
    assert made.exit_code == 0, made.output
    workers = haproxy.worker_pids()
    actions = sorted(
        c["action"]
        for t in json.loads(saved.read_text())["targets"]
        for c in t["changes"]
    )
    assert actions == ["runtime add server", "runtime set weight"]

    applied = runner.invoke(app, ["apply", "--plan", str(saved), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert haproxy.worker_pids() == workers
    weights = {s.port: s.weight for s in haproxy.admin.servers_state("chat-edge:web")}
    assert weights == {b1.port: 50, b2.port: 100}


HTTPS_SPEC = """\
targets:
  edge:
    type: haproxy
    config_path: {dir}/slbsync.cfg
    main_config: [{dir}/haproxy.cfg]
    runtime_socket: {dir}/admin.sock
    master_socket: {dir}/master.sock
    state_file: {dir}/server-state
    hard_stop_after: 5s
    bind_address: 127.0.0.1
certificates:
  edge-cert:
    target: edge
    certificate: {cert}
    private_key: {key}
acls:
  loopback:
    target: edge
    entries: [{{cidr: 127.0.0.0/8, comment: this machine}}]
load_balancers:
  chat-edge:
    target: edge
    server_groups:
      web:
        servers:
          - {{address: 127.0.0.1, port: {backend}}}
    listeners:
      - {{protocol: https, port: {port}, server_group: web, certificate: edge-cert,
         http2: true, acl: {{name: loopback, type: white}}, health_check: false}}
      - {{protocol: http, port: {plain}, redirect_to_port: {port}}}
"""


def test_https_spec_from_yaml_applies_from_a_saved_plan(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    port, plain = free_port(), free_port()
    spec = tmp_path / "edge.yaml"
    spec.write_text(
        HTTPS_SPEC.format(
            dir=haproxy.root,
            cert=cert,
            key=key,
            backend=http_backends[0].port,
            port=port,
            plain=plain,
        )
    )
    saved = tmp_path / "plan.json"

    validated = runner.invoke(app, ["validate", str(spec)])
    assert validated.exit_code == 0, validated.output
    made = runner.invoke(app, ["plan", str(spec), "--out", str(saved)])
    assert made.exit_code == 0, made.output
    applied = runner.invoke(app, ["apply", "--plan", str(saved), "--auto-approve"])
    assert applied.exit_code == 0, applied.output

    assert _get(port, ca=cert)[:2] == (200, b"b1")
    again = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
    for text in (made.output, applied.output, saved.read_text()):
        assert "PRIVATE KEY" not in text
