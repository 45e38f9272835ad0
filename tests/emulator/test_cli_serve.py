"""``slbsync emulator serve``: bad flags are explained before anything starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from slbsync.cli.app import app


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
