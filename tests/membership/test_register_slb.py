"""register and deregister on the SLB emulator, through the official SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slbsync.errors import ApplyError, SafetyError, SpecError
from slbsync.membership.group import GroupHandle
from slbsync.membership.guard import DrainLimit
from slbsync.membership.register import Membership, slow_start_weights
from slbsync.spec.load import load_spec
from slbsync.spec.model import Server
from slbsync.targets.registry import make_target
from tests.conftest import EmulatorHandle
from tests.membership.conftest import apply_spec, write_cloud_spec

EXTERNAL = {"ws-nodes": {"membership": "external"}}
# The shipped policy, in the docs of the checkout these tests run from.
POLICY_FILE = Path(__file__).parents[2] / "docs" / "ram-policy-register.json"


class FakeTime:
    """A clock that the injected sleep moves on, so no test waits for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _membership(path: Path, tmp_path: Path, fake: FakeTime) -> Membership:
    spec = load_spec([path])
    target = make_target(spec.targets[0])
    group = GroupHandle(spec, target, "chat-gateway", "ws-nodes", sleep=fake.sleep)
    return Membership(
        group, lock_dir=tmp_path / "locks", sleep=fake.sleep, clock=fake.clock
    )


def _members(path: Path, tmp_path: Path) -> dict[str, int]:
    view = _membership(path, tmp_path, FakeTime()).group.read()
    return {server.label: server.weight for server in view.members}


@pytest.fixture
def external_spec(cloud_env: EmulatorHandle, tmp_path: Path) -> Path:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL)
    apply_spec(path)
    cloud_env.seed_instances(
        *({"id": f"i-chat{n}", "vpc_id": "vpc-chat"} for n in range(1, 6))
    )
    return path


def _node(n: int, weight: int = 100) -> Server:
    return Server(port=8080, id=f"i-chat{n}", weight=weight)


def test_register_adds_once_and_repeats_harmlessly(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    fake = FakeTime()
    first = _membership(external_spec, tmp_path, fake).register(_node(1))
    cloud_env.clear_calls()
    again = _membership(external_spec, tmp_path, fake).register(_node(1))

    assert first.steps == ["added at weight 100"]
    assert again.steps == ["unchanged at weight 100"]
    assert "AddVServerGroupBackendServers" not in cloud_env.calls()["by_action"]
    assert _members(external_spec, tmp_path) == {"i-chat1:8080": 100}


def test_register_calls_only_what_the_ram_policy_allows(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    cloud_env.clear_calls()
    _membership(external_spec, tmp_path, FakeTime()).register(
        _node(1), wait_healthy=True
    )
    _membership(external_spec, tmp_path, FakeTime()).register(_node(1, weight=50))
    _membership(external_spec, tmp_path, FakeTime()).deregister(_node(1), force=True)

    policy = json.loads(POLICY_FILE.read_text())
    allowed = {
        action.split(":", 1)[1]
        for statement in policy["Statement"]
        for action in statement["Action"]
    }
    assert set(cloud_env.calls()["by_action"]) <= allowed


def test_register_with_slow_start_ramps_weight_in_steps(
    external_spec: Path, tmp_path: Path
) -> None:
    fake = FakeTime()
    outcome = _membership(external_spec, tmp_path, fake).register(
        _node(1), slow_start=60
    )

    assert slow_start_weights(100, 60) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert outcome.steps[0] == "added at weight 10"
    assert outcome.steps[-1] == "slow start: weight 100"
    assert sum(fake.slept) == pytest.approx(54.0)  # nine waits of 6s
    assert _members(external_spec, tmp_path) == {"i-chat1:8080": 100}


def test_register_of_a_serving_node_skips_slow_start(
    external_spec: Path, tmp_path: Path
) -> None:
    fake = FakeTime()
    _membership(external_spec, tmp_path, fake).register(_node(1, weight=40))
    outcome = _membership(external_spec, tmp_path, fake).register(
        _node(1), slow_start=60
    )
    assert outcome.steps == ["updated at weight 100"]


def test_wait_healthy_returns_once_slb_reports_normal(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    cloud_env.control("PUT", "health", {"server_id": "i-chat1", "status": "abnormal"})
    fake = FakeTime()
    membership = _membership(external_spec, tmp_path, fake)
    polls = 0

    def sleep_then_heal(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 3:
            cloud_env.control(
                "PUT", "health", {"server_id": "i-chat1", "status": "normal"}
            )
        fake.sleep(seconds)

    membership.sleep = sleep_then_heal
    outcome = membership.register(_node(1), wait_healthy=True)
    assert outcome.steps == ["added at weight 100", "healthy"]
    assert polls == 3


def test_wait_healthy_gives_up_with_a_clear_message(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    cloud_env.control("PUT", "health", {"server_id": "i-chat1", "status": "abnormal"})
    membership = _membership(external_spec, tmp_path, FakeTime())
    message = (
        r"i-chat1:8080 is still unhealthy on cloud/chat-gateway/ws-nodes after 30s; "
        r"it stays registered"
    )
    with pytest.raises(ApplyError, match=message):
        membership.register(_node(1), wait_healthy=True, health_timeout=30)
    assert _members(external_spec, tmp_path) == {"i-chat1:8080": 100}


def test_deregister_waits_the_listener_drain_then_removes(
    external_spec: Path, tmp_path: Path
) -> None:
    for n in (1, 2):
        _membership(external_spec, tmp_path, FakeTime()).register(_node(n))
    fake = FakeTime()
    seen: list[tuple[float, float, int | None]] = []
    outcome = _membership(external_spec, tmp_path, fake).deregister(
        _node(1), drain=300, progress=lambda *args: seen.append(args)
    )

    # The listener drains for 10s: that, not --drain 300s, is the wait.
    assert outcome.steps == [
        "weight 0: no new connections",
        "drained after 10s",
        "removed",
    ]
    assert seen[-1] == (10.0, 10.0, None)
    assert _members(external_spec, tmp_path) == {"i-chat2:8080": 100}
    again = _membership(external_spec, tmp_path, fake).deregister(_node(1))
    assert again.steps == ["not a member; nothing to do"]


def test_deregister_without_listener_drain_waits_the_whole_budget(
    cloud_env: EmulatorHandle, tmp_path: Path
) -> None:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL, drain=None)
    apply_spec(path)
    for n in (1, 2):
        _membership(path, tmp_path, FakeTime()).register(_node(n))
    fake = FakeTime()
    _membership(path, tmp_path, fake).deregister(_node(1), drain=45)
    assert fake.now == 45.0


def test_capacity_guard_refuses_a_second_drain(
    external_spec: Path, tmp_path: Path
) -> None:
    for n in (1, 2, 3, 4):
        _membership(external_spec, tmp_path, FakeTime()).register(_node(n))
    # A drain in progress: weight 0, not yet removed.
    _membership(external_spec, tmp_path, FakeTime()).register(_node(1, weight=100))
    membership = _membership(external_spec, tmp_path, FakeTime())
    membership.group.put(membership.group.read(), _node(1, weight=0))

    with pytest.raises(SafetyError) as refused:
        _membership(external_spec, tmp_path, FakeTime()).deregister(_node(2))
    assert str(refused.value) == (
        "deregister i-chat2:8080 refused: 1 of 4 servers of "
        "cloud/chat-gateway/ws-nodes are already draining (i-chat1:8080) and at "
        "most 1 (--max-draining 25%) may drain at once; retry once a drain has "
        "finished, or pass --force"
    )
    assert _members(external_spec, tmp_path)["i-chat2:8080"] == 100

    # A wider limit, or --force, lets it through.
    _membership(external_spec, tmp_path, FakeTime()).deregister(
        _node(2), limit=DrainLimit(count=2, share=None)
    )
    assert "i-chat2:8080" not in _members(external_spec, tmp_path)


def test_capacity_guard_keeps_a_healthy_server(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    for n in (1, 2):
        _membership(external_spec, tmp_path, FakeTime()).register(_node(n))
    cloud_env.control("PUT", "health", {"server_id": "i-chat2", "status": "abnormal"})
    wide = DrainLimit(count=5, share=None)

    with pytest.raises(SafetyError) as refused:
        _membership(external_spec, tmp_path, FakeTime()).deregister(
            _node(1), limit=wide
        )
    assert str(refused.value) == (
        "deregister i-chat1:8080 refused: it would leave cloud/chat-gateway/ws-nodes "
        "without a healthy server (the others taking traffic are unhealthy "
        "(i-chat2:8080)); add a server first, or pass --force"
    )
    outcome = _membership(external_spec, tmp_path, FakeTime()).deregister(
        _node(1), limit=wide, force=True
    )
    assert outcome.steps[-1] == "removed"


def test_register_refuses_a_static_group(
    cloud_env: EmulatorHandle, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from slbsync.cli.app import app

    servers = {"ws-nodes": {"servers": [{"id": "i-chat1", "port": 8080}]}}
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, servers)
    result = CliRunner().invoke(
        app,
        ["register", str(path), "-l", "chat-gateway", "-g", "ws-nodes",
         "--server", "i-chat9", "--port", "8080"],
    )  # fmt: skip
    assert isinstance(result.exception, SpecError)
    assert "group ws-nodes of chat-gateway is static" in str(result.exception)


def test_wait_healthy_does_not_wait_when_no_listener_checks(
    cloud_env: EmulatorHandle, tmp_path: Path
) -> None:
    import yaml

    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, EXTERNAL)
    document = yaml.safe_load(path.read_text())
    listener = document["load_balancers"]["chat-gateway"]["listeners"][0]
    listener["health_check"] = {"enabled": False}
    path.write_text(yaml.safe_dump(document))
    apply_spec(path)
    cloud_env.seed_instances({"id": "i-chat1", "vpc_id": "vpc-chat"})

    outcome = _membership(path, tmp_path, FakeTime()).register(
        _node(1), wait_healthy=True
    )
    assert outcome.steps == [
        "added at weight 100",
        "healthy: assumed, no listener of the group checks health",
    ]


def test_deregister_reads_only_the_members_after_its_drain(
    external_spec: Path, tmp_path: Path, cloud_env: EmulatorHandle
) -> None:
    for n in (1, 2):
        _membership(external_spec, tmp_path, FakeTime()).register(_node(n))
    cloud_env.clear_calls()
    _membership(external_spec, tmp_path, FakeTime()).deregister(_node(1))

    assert cloud_env.calls()["by_action"] == {
        # A full read, the guard's health, weight 0 ...
        "DescribeLoadBalancers": 2,
        "DescribeLoadBalancerListeners": 1,
        "DescribeVServerGroups": 1,
        "DescribeHealthStatus": 1,
        "SetVServerGroupAttribute": 1,
        # ... and after the drain, the members alone, then the removal.
        "DescribeVServerGroupAttribute": 2,
        "RemoveVServerGroupBackendServers": 1,
    }
