"""slbsync validate, plan and apply from a YAML spec, against a real nginx."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from slbsync.cli.app import app
from slbsync.targets.nginx.lab import LabNginx
from tests.backends import free_port, http_get, wait_for_port

runner = CliRunner()

SPEC = """\
targets:
  edge:
    type: nginx
    config_path: {root}/slbsync.conf
    nginx_conf: {root}/nginx.conf
    prefix: {root}
    pid_file: {root}/nginx.pid
    error_log: {root}/error.log
    http_include: {root}/http-common.conf
    listen_address: 127.0.0.1
    worker_shutdown_timeout: 30s
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
        health_check: {{type: http, interval: 2s, unhealthy: 3}}
"""


def write_spec(path: Path, lab: LabNginx, port: int, servers: list[tuple[int, int]]):
    lines = "\n".join(
        f"          - {{address: 127.0.0.1, port: {p}, weight: {w}}}"
        for p, w in servers
    )
    path.write_text(SPEC.format(root=lab.root, port=port, servers=lines))
    return path


def test_plan_apply_and_plan_again(lab: LabNginx, backends, tmp_path: Path) -> None:
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    spec = write_spec(tmp_path / "edge.yaml", lab, port, [(b1.port, 100)])

    assert runner.invoke(app, ["validate", str(spec)]).exit_code == 0
    planned = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert planned.exit_code == 2, planned.output
    assert "chat-edge" in planned.output
    assert "render+reload" in planned.output

    applied = runner.invoke(app, ["apply", str(spec), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    wait_for_port(port)
    assert http_get(port) == "b1"
    again = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output

    # A saved plan: b2 joins, applied exactly as reviewed.
    write_spec(spec, lab, port, [(b1.port, 100), (b2.port, 100)])
    saved = tmp_path / "plan.json"
    made = runner.invoke(app, ["plan", str(spec), "--out", str(saved)])
    assert made.exit_code == 0, made.output
    applied = runner.invoke(app, ["apply", "--plan", str(saved), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert {http_get(port) for _ in range(8)} == {"b1", "b2"}
    again = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output


def test_validate_names_file_line_and_field(lab: LabNginx, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "edge.yaml", lab, free_port(), [(8080, 100)])
    spec.write_text(
        spec.read_text().replace(
            "{type: http, interval: 2s, unhealthy: 3}",
            "{type: http, path: /healthz}",
        )
    )

    result = runner.invoke(app, ["validate", str(spec)])

    assert result.exit_code == 1
    assert f"{spec}:" in result.output
    assert "listeners[0].health_check.path" in result.output
    assert "nginx cannot send active health check requests" in result.output
    assert not (lab.root / "slbsync.conf").read_text()  # nothing written


EXTERNAL = """\
targets:
  edge:
    type: nginx
    config_path: {root}/slbsync.conf
    nginx_conf: {root}/nginx.conf
    pid_file: {root}/nginx.pid
    error_log: {root}/error.log
    http_include: {root}/http-common.conf
    listen_address: 127.0.0.1
load_balancers:
  chat-edge:
    target: edge
    server_groups:
      nodes:
        membership: external
    listeners:
      - {{protocol: http, port: {port}, server_group: nodes}}
"""


def test_external_group_filled_by_register_and_deregister(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    b1, b2 = backends("b1"), backends("b2")
    port = free_port()
    spec = tmp_path / "edge.yaml"
    spec.write_text(EXTERNAL.format(root=lab.root, port=port))
    locks = ["--lock-dir", str(tmp_path / "locks")]

    def member(command: str, backend, *extra: str):
        where = ["-l", "chat-edge", "-g", "nodes", "--address", "127.0.0.1"]
        args = [command, str(spec), *where, "--port", str(backend.port)]
        result = runner.invoke(app, [*args, *locks, *extra])
        assert result.exit_code == 0, result.output
        return result

    # No server yet: the listener waits in the file instead of failing apply.
    applied = runner.invoke(app, ["apply", str(spec), "--auto-approve"])
    assert applied.exit_code == 0, applied.output

    member("register", b1)
    wait_for_port(port)
    assert http_get(port) == "b1"
    member("register", b2)
    assert {http_get(port) for _ in range(8)} == {"b1", "b2"}

    member("deregister", b1, "--drain", "1s", "--force")
    assert {http_get(port) for _ in range(8)} == {"b2"}
    again = runner.invoke(app, ["plan", str(spec), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output


def test_drift_reports_a_hand_edited_weight(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    b1 = backends("b1")
    spec = write_spec(tmp_path / "edge.yaml", lab, free_port(), [(b1.port, 50)])
    assert runner.invoke(app, ["apply", str(spec), "--auto-approve"]).exit_code == 0
    text = lab.owned_conf.read_text()
    lab.owned_conf.write_text(text.replace("weight=50", "weight=9"))

    result = runner.invoke(app, ["drift", str(spec)])

    assert result.exit_code == 2, result.output
    assert f"web/127.0.0.1:{b1.port}: modified" in result.output
    assert "weight: spec 50, live 9" in result.output
