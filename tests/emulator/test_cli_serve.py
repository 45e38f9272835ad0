"""``slbsync emulator serve``: bad flags are explained before anything starts,
and the server starts with a short configuring window unless told otherwise."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from typer.testing import CliRunner

from slbsync.cli.app import app
from slbsync.emulator.faults import SERVED_CONFIGURING_MS
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import call, make_load_balancer, make_tcp_listener
from tests.emulator.test_persistence import _serve, _Where


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate-limit", "CreateVServerGroup"], "ACTION=CALLS_PER_SECOND"),
        (["--rate-limit", "*=fast"], "ACTION=CALLS_PER_SECOND"),
        (["--access-key", "LTAIonly"], "ID:SECRET"),
        (["--throttle-rate", "2"], "between 0 and 1"),
        (["--latency-ms", "soon"], "MIN,MAX"),
    ],
)
def test_bad_flags_are_refused_with_the_reason(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve", "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_secret_given_on_the_command_line_is_never_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slbsync.cli import emulator as command
    from slbsync.emulator.server import EmulatorServer

    class _Served(Exception):
        pass

    def serve_forever(self: EmulatorServer) -> None:
        raise _Served

    printed: list[str] = []
    monkeypatch.setattr(EmulatorServer, "serve_forever", serve_forever)
    monkeypatch.setattr(command.signal, "signal", lambda *args: None)
    monkeypatch.setattr(
        command.typer, "echo", lambda message="", **_: printed.append(str(message))
    )
    with pytest.raises(_Served):
        command.serve(
            host="127.0.0.1",
            port=0,
            state=None,
            access_key=["LTAIteam:very-secret-value"],
            region="cn-hangzhou",
            strict_backends=False,
            throttle_rate=0.0,
            error_rate=0.0,
            timeout_rate=0.0,
            lost_response_rate=0.0,
            latency_ms=None,
            rate_limit=None,
            configuring_ms=0.0,
            seed=None,
            load_balancer_quota=60,
            backend_server_quota=200,
        )
    output = "\n".join(printed)
    assert "LTAIteam" in output
    assert "very-secret-value" not in output


def test_fault_flags_become_fault_settings() -> None:
    from slbsync.cli.emulator import _fault_settings
    from slbsync.emulator.faults import FaultSettings

    faults = _fault_settings(
        7,
        {"throttle_rate": 0.1, "error_rate": 0.0},
        "5,20",
        ["*=50", "CreateVServerGroup=1.5"],
        250.0,
    )
    settings = FaultSettings.from_json(faults)
    assert settings.seed == 7
    assert settings.throttle_rate == 0.1
    assert settings.latency_ms == [5.0, 20.0]
    assert settings.rate_limits == {"*": 50.0, "CreateVServerGroup": 1.5}
    assert settings.configuring_ms == 250.0


def _faults_of(endpoint: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{endpoint}/_emulator/faults", timeout=10) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def _listener_writer(endpoint: str) -> Any:
    """A write to one fresh listener, to be sent again and again."""
    client = make_slb_client(_Where(endpoint))  # type: ignore[arg-type]
    lb = make_load_balancer(client)
    make_tcp_listener(client, lb, 80)
    fields = {"load_balancer_id": lb, "listener_port": 80, "scheduler": "rr"}
    return lambda: call(client, "SetLoadBalancerTCPListenerAttribute", **fields)


def test_serve_starts_with_a_short_configuring_window(tmp_path: Path) -> None:
    process, endpoint, _ = _serve(tmp_path / "state.json")
    window = SERVED_CONFIGURING_MS / 1000
    try:
        assert _faults_of(endpoint)["configuring_ms"] == SERVED_CONFIGURING_MS
        write = _listener_writer(endpoint)
        started = time.monotonic()
        write()
        try:
            write()
        except AlibabaCloudException as busy:
            assert busy.code == "OperationFailed.ListenerStatusNotSupport"
            assert "Please try again later." in busy.message
        else:  # only a machine too loaded to answer within the window
            assert time.monotonic() - started >= window

        # The window is short: the same write passes once it has closed.
        time.sleep(window + 0.05)
        write()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_configuring_ms_0_turns_the_window_off(tmp_path: Path) -> None:
    process, endpoint, _ = _serve(tmp_path / "state.json", "--configuring-ms", "0")
    try:
        assert _faults_of(endpoint)["configuring_ms"] == 0
        write = _listener_writer(endpoint)
        write()
        write()  # at once, and not refused
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_negative_configuring_ms_is_refused() -> None:
    result = CliRunner().invoke(
        app, ["emulator", "serve", "--port", "0", "--configuring-ms", "-5"]
    )
    assert result.exit_code == 2
    assert "--configuring-ms" in result.output
