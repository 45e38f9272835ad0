"""The plan and apply commands, on the in-memory fake target."""

import json

import pytest
from typer.testing import CliRunner

from slbsync.cli import common
from slbsync.cli.app import app
from slbsync.errors import SlbsyncError
from tests.fakes import FakeRejectedError, FakeTarget, make_lb, make_spec

runner = CliRunner()


@pytest.fixture
def world(monkeypatch):
    """One fake target; the spec is whatever ``world.spec`` holds."""

    class World:
        target = FakeTarget()
        spec = make_spec(make_lb(servers=3))

    for module in ("slbsync.cli.plan", "slbsync.cli.apply"):
        monkeypatch.setattr(f"{module}.read_spec", lambda paths: World.spec)
    monkeypatch.setattr("slbsync.cli.apply.read_spec_documents", lambda d: World.spec)
    monkeypatch.setattr(common, "make_target", lambda spec: World.target)
    return World


def _invoke(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin)


def test_plan_shows_changes_and_detailed_exit_code(world):
    result = _invoke("plan", "specs", "--detailed-exitcode")

    assert result.exit_code == 2, result.output
    assert "+ load balancer chat" in result.output
    assert "3 to add, 0 to change, 0 to delete; 5 API calls to write." in result.output


def test_plan_without_changes_exits_zero(world):
    world.target.seed(make_lb(servers=3))

    result = _invoke("plan", "specs", "--detailed-exitcode")

    assert result.exit_code == 0
    assert "No changes" in result.output


def test_plan_formats(world):
    as_json = json.loads(_invoke("plan", "specs", "--format", "json").output)
    markdown = _invoke("plan", "specs", "--format", "markdown").output

    assert as_json["summary"]["write_calls"] == 5
    assert markdown.startswith("### slbsync plan")


def test_apply_refuses_without_a_terminal(world):
    result = _invoke("apply", "specs")

    assert result.exit_code == 1
    assert isinstance(result.exception, SlbsyncError)
    assert "there is no terminal to ask" in str(result.exception)
    assert "pass --auto-approve" in str(result.exception)
    assert world.target.calls == []


def test_apply_asks_on_a_terminal(world, monkeypatch):
    monkeypatch.setattr("slbsync.cli.apply.is_terminal", lambda stream: True)

    declined = _invoke("apply", "specs", stdin="n\n")
    assert declined.exit_code == 1
    assert "Nothing applied." in declined.output
    assert world.target.calls == []

    accepted = _invoke("apply", "specs", stdin="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Apply these 5 API calls?" in accepted.output


def test_auto_approve_applies_then_plan_is_empty(world):
    result = _invoke("apply", "specs", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "Applied 5 of 5 changes." in result.output
    again = _invoke("plan", "specs", "--detailed-exitcode")
    assert again.exit_code == 0


def test_apply_with_nothing_to_do(world):
    world.target.seed(make_lb(servers=3))

    result = _invoke("apply", "specs")

    assert result.exit_code == 0
    assert "Nothing to do." in result.output


def test_apply_refuses_large_removals_without_force(world):
    world.target.seed(make_lb(servers=10))

    refused = _invoke("apply", "specs", "--auto-approve")
    assert refused.exit_code == 1
    assert "removes 7 of 10 servers (70%) from server group chat/ws" in str(
        refused.exception
    )
    assert world.target.calls == []

    forced = _invoke("apply", "specs", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output


def test_failed_apply_exits_one_and_says_what_to_do(world):
    world.target.fail("CreateListener", FakeRejectedError("CreateListener", "no"))

    result = _invoke("apply", "specs", "--auto-approve")

    assert result.exit_code == 1
    message = str(result.exception)
    assert "CreateListener failed with InvalidParameter (request id REQ-9)" in message
    assert "run slbsync plan to see what remains" in message


def test_saved_plan_applies_when_nothing_moved(world, tmp_path):
    path = tmp_path / "plan.json"
    saved = _invoke("plan", "specs", "--out", str(path))
    assert saved.exit_code == 0
    assert json.loads(path.read_text())["documents"] == []

    result = _invoke("apply", "--plan", str(path))

    assert result.exit_code == 0, result.output
    assert "Applied 5 of 5 changes." in result.output


def test_saved_plan_is_refused_when_live_state_moved(world, tmp_path):
    path = tmp_path / "plan.json"
    _invoke("plan", "specs", "--out", str(path))
    world.target.seed(make_lb("chat", servers=1))

    result = _invoke("apply", "--plan", str(path))

    assert result.exit_code == 1
    assert "the live state changed since this plan was made" in str(result.exception)
    assert world.target.calls == []


def test_unknown_target_name_is_a_clear_error(world):
    world.spec = make_spec(make_lb())

    result = _invoke("plan", "specs", "--target", "nope")

    assert "--target nope: not a target in the spec; the spec has fake" in str(
        result.exception
    )


def test_settled_changes_are_listed(world):
    from tests.fakes import FakeLostResponseError

    world.target.fail(
        "CreateLoadBalancer", FakeLostResponseError("timed out"), take_effect=True
    )

    result = _invoke("apply", "specs", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "settled: load balancer chat CreateLoadBalancer (the answer was lost" in (
        result.output
    )
    assert "Applied 5 of 5 changes (1 settled by reading back)." in result.output
    assert world.target.calls.count("CreateLoadBalancer") == 1


@pytest.fixture
def policies(monkeypatch):
    """The retry policies apply hands its runner."""
    from slbsync.cli import apply as apply_module

    seen = []
    real = apply_module.PlanRunner

    def recording(*args, **kwargs):
        seen.append(kwargs["policy"])
        return real(*args, **kwargs)

    monkeypatch.setattr(apply_module, "PlanRunner", recording)
    return seen


def test_retry_deadline_reaches_the_runner(world, policies):
    result = _invoke("apply", "specs", "--auto-approve", "--retry-deadline", "2m")

    assert result.exit_code == 0, result.output
    assert [policy.deadline for policy in policies] == [120.0]


def test_retry_deadline_defaults_to_five_minutes(world, policies):
    assert _invoke("apply", "specs", "--auto-approve").exit_code == 0
    assert [policy.deadline for policy in policies] == [300.0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", '--retry-deadline "soon" is not a duration; write it like 60s or 5m'),
        ("0s", '--retry-deadline "0s" is too short; give 1s or more'),
    ],
)
def test_bad_retry_deadline_is_refused_before_any_call(world, value, message):
    result = _invoke("apply", "specs", "--auto-approve", "--retry-deadline", value)

    assert result.exit_code == 1
    assert message in str(result.exception)
    assert world.target.calls == []
    assert world.target.reads_attempted == 0
