"""The deployment examples under scripts/deploy/ parse, and run valid commands."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from slbsync.cli.app import app
from slbsync.spec.load import load_spec

DEPLOY = Path(__file__).resolve().parents[2] / "scripts" / "deploy"


def _drift_args(words: list[str]) -> list[str]:
    """The arguments of the ``slbsync drift`` in a command line."""
    start = next(
        i
        for i, word in enumerate(words)
        if word.endswith("slbsync") and i + 1 < len(words) and words[i + 1] == "drift"
    )
    args = []
    for word in words[start + 2 :]:
        if word in (";", "&&", "||", "|") or word.startswith((">", "2>")):
            break
        args.append(word.rstrip(";"))
        if word.endswith(";"):
            break
    return args


def _check_drift_command(args: list[str]) -> Any:
    """Parse ``args`` as ``slbsync drift`` does; a bad option raises."""
    group: Any = typer.main.get_command(app)
    command = group.commands["drift"]
    return command.make_context("drift", list(args))


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_systemd_service_is_oneshot_and_drift_is_success() -> None:
    unit = _unit("slbsync-drift.service")

    service = unit["Service"]
    assert service["Type"] == "oneshot"
    assert "2" in service["SuccessExitStatus"].split()
    context = _check_drift_command(_drift_args(shlex.split(service["ExecStart"])))
    assert context.params["every"] is None
    assert context.params["metrics_textfile"] is not None


def test_systemd_timer_starts_the_service() -> None:
    timer = _unit("slbsync-drift.timer")

    assert timer["Timer"]["Unit"] == "slbsync-drift.service"
    assert timer["Timer"]["OnUnitActiveSec"] == "5min"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_loop_service_runs_every_interval() -> None:
    service = _unit("slbsync-drift-loop.service")["Service"]

    context = _check_drift_command(_drift_args(shlex.split(service["ExecStart"])))
    assert context.params["every"] == "5m"
    assert context.params["metrics_port"] == 9464


def test_cron_line_runs_drift_under_flock() -> None:
    lines = [
        line
        for line in (DEPLOY / "cron" / "slbsync-drift.cron").read_text().splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    assert fields[5] == "slbsync"  # the user, in /etc/cron.d format
    words = shlex.split(fields[6])
    assert words[words.index("flock") + 1] == "-n"
    _check_drift_command(_drift_args(words))


def test_kubernetes_cronjob_forbids_overlap_and_reads_secrets() -> None:
    documents = list(
        yaml.safe_load_all((DEPLOY / "kubernetes" / "drift-cronjob.yaml").read_text())
    )
    kinds = {doc["kind"]: doc for doc in documents}
    assert set(kinds) == {"Secret", "ConfigMap", "PersistentVolumeClaim", "CronJob"}

    cronjob = kinds["CronJob"]["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    container = cronjob["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    secret_env = {
        item["name"]
        for item in container["env"]
        if item["valueFrom"]["secretKeyRef"]["name"] == "slbsync-credentials"
    }
    assert {
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    } <= secret_env
    assert secret_env <= set(kinds["Secret"]["stringData"])
    script = " ".join(container["args"])
    _check_drift_command(_drift_args(shlex.split(script)))


def test_kubernetes_example_spec_is_valid(tmp_path: Path) -> None:
    documents = list(
        yaml.safe_load_all((DEPLOY / "kubernetes" / "drift-cronjob.yaml").read_text())
    )
    config_map = next(doc for doc in documents if doc["kind"] == "ConfigMap")
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)

    spec = load_spec([tmp_path])

    assert [lb.name for lb in spec.load_balancers] == ["chat-gateway"]


def test_a_bad_option_is_caught_by_the_check() -> None:
    # typer carries its own click; its usage errors say what is wrong.
    with pytest.raises(Exception, match="No such option: --evry"):
        _check_drift_command(["specs", "--evry", "5m"])
