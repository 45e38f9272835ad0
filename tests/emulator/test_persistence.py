"""State persisted with --state: across a clean restart and a SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from slbsync.emulator.server import EmulatorServer
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from slbsync.errors import EmulatorError
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import call

REGION = "cn-hangzhou"


class _Where:
    """Enough of the emulator fixture for make_slb_client."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.access_key_id = DEFAULT_ACCESS_KEY_ID
        self.access_key_secret = DEFAULT_ACCESS_KEY_SECRET


def lb_names(endpoint: str) -> list[str]:
    client = make_slb_client(_Where(endpoint))  # type: ignore[arg-type]
    body = call(client, "DescribeLoadBalancers", region_id=REGION, page_size=100)
    return sorted(lb.load_balancer_name for lb in body.load_balancers.load_balancer)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    server = EmulatorServer(state_path=state).start()
    client = make_slb_client(_Where(server.endpoint))  # type: ignore[arg-type]
    lb = call(client, "CreateLoadBalancer", region_id=REGION, load_balancer_name="kept")
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb.load_balancer_id,
        listener_port=80,
        backend_server_port=80,
        bandwidth=-1,
    )
    server.stop()

    again = EmulatorServer(state_path=state).start()
    try:
        assert lb_names(again.endpoint) == ["kept"]
        client = make_slb_client(_Where(again.endpoint))  # type: ignore[arg-type]
        attribute = call(
            client,
            "DescribeLoadBalancerAttribute",
            load_balancer_id=lb.load_balancer_id,
        )
        assert attribute.listener_ports.listener_port == [80]
        # New ids never repeat ids made before the restart.
        other = call(client, "CreateLoadBalancer", region_id=REGION)
        assert other.load_balancer_id != lb.load_balancer_id
    finally:
        again.stop()


def test_writes_are_journalled_then_folded_into_the_snapshot(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    journal = tmp_path / "state.json.journal"
    server = EmulatorServer(state_path=state).start()
    try:
        client = make_slb_client(_Where(server.endpoint))  # type: ignore[arg-type]
        lb = call(client, "CreateLoadBalancer", region_id=REGION)
        [line] = journal.read_text().splitlines()
        entry = json.loads(line)
        assert entry["action"] == "CreateLoadBalancer"
        assert "Signature" not in entry["params"]
    finally:
        server.stop()
    document = json.loads(state.read_text())
    assert list(document["tables"]["load_balancers"]) == [lb.load_balancer_id]
    assert journal.read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [state.name, journal.name]
    assert state.stat().st_mode & 0o077 == 0  # private keys may be inside


def test_a_torn_last_journal_line_is_dropped(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    server = EmulatorServer(state_path=state).start()
    client = make_slb_client(_Where(server.endpoint))  # type: ignore[arg-type]
    call(client, "CreateLoadBalancer", region_id=REGION, load_balancer_name="kept")
    journal_text = (tmp_path / "state.json.journal").read_text()
    server.stop()

    # As if killed while writing a second, never answered, line.
    (tmp_path / "state.json").unlink()
    (tmp_path / "state.json.journal").write_text(journal_text + '{"seq": 2, "act')
    again = EmulatorServer(state_path=state).start()
    try:
        assert lb_names(again.endpoint) == ["kept"]
    finally:
        again.stop()


def test_the_journal_is_compacted_every_so_many_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("slbsync.emulator.state.store.COMPACT_EVERY", 3)
    state = tmp_path / "state.json"
    server = EmulatorServer(state_path=state).start()
    try:
        client = make_slb_client(_Where(server.endpoint))  # type: ignore[arg-type]
        for n in range(4):
            call(
                client,
                "CreateLoadBalancer",
                region_id=REGION,
                load_balancer_name=f"lb{n}",
            )
        document = json.loads(state.read_text())
        assert document["sequence"] == 3
        assert len(document["tables"]["load_balancers"]) == 3
        assert len((tmp_path / "state.json.journal").read_text().splitlines()) == 1
    finally:
        server.stop()


def _serve(state: Path, *flags: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from slbsync.cli.app import main; main()",
            "emulator",
            "serve",
            "--port",
            "0",
            "--state",
            str(state),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"http://(127\.0\.0\.1:\d+)", first)
    if match is None:
        process.kill()
        pytest.fail(f"emulator did not start: {first}{process.stdout.read()}")
    return process, match.group(1), first


def test_sigkilled_emulator_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process, endpoint, _ = _serve(state)
    try:
        client = make_slb_client(_Where(endpoint))  # type: ignore[arg-type]
        for n in range(12):
            call(
                client,
                "CreateLoadBalancer",
                region_id=REGION,
                load_balancer_name=f"lb{n:02}",
            )
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    process, endpoint, first = _serve(state)
    try:
        assert lb_names(endpoint) == [f"lb{n:02}" for n in range(12)]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        output = first + process.stdout.read()
    assert DEFAULT_ACCESS_KEY_SECRET in output  # the public pair is shown
    assert "stopping" in output


def test_unreadable_state_file_is_explained(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from slbsync.cli.app import app

    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = CliRunner().invoke(
        app, ["emulator", "serve", "--port", "0", "--state", str(state)]
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, EmulatorError)
    assert "move it away to start with an empty emulator" in str(result.exception)
    assert state.read_text() == "{not json"
