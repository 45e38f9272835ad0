"""The register and deregister commands as a boot script or hook runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from slbsync.cli.app import app
from slbsync.errors import SafetyError, SpecError
from tests.conftest import EmulatorHandle
from tests.membership.conftest import apply_spec, write_cloud_spec

GROUPS = {"ws-nodes": {"membership": "external"}}


@pytest.fixture
def spec_path(cloud_env: EmulatorHandle, tmp_path: Path) -> Path:
    path = write_cloud_spec(tmp_path / "specs", cloud_env.url, GROUPS, drain="10s")
    apply_spec(path)
    cloud_env.seed_instances(
        *({"id": f"i-chat{n}", "vpc_id": "vpc-chat"} for n in range(1, 4))
    )
    return path


def _run(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _node_args(path: Path, server: str) -> list[str]:
    return [str(path), "-l", "chat-gateway", "-g", "ws-nodes", "--server", server,
            "--port", "8080"]  # fmt: skip


def test_register_then_deregister_print_what_they_did(spec_path: Path) -> None:
    for server in ("i-chat1", "i-chat2"):
        joined = _run("register", *_node_args(spec_path, server))
        assert joined.exit_code == 0, joined.output
        assert joined.output == f"{server}:8080: added at weight 100\n"

    left = _run("deregister", *_node_args(spec_path, "i-chat1"), "--drain", "2s")
    assert left.exit_code == 0, left.output
    # --drain caps the listener's 10s connection drain.
    assert left.output == (
        "i-chat1:8080: weight 0: no new connections; drained after 2s; removed\n"
    )

    again = _run("deregister", *_node_args(spec_path, "i-chat1"))
    assert again.exit_code == 0
    assert again.output == "i-chat1:8080: not a member; nothing to do\n"


def test_deregister_refusal_changes_nothing(spec_path: Path) -> None:
    _run("register", *_node_args(spec_path, "i-chat1"))
    refused = _run("deregister", *_node_args(spec_path, "i-chat1"))
    assert isinstance(refused.exception, SafetyError)
    assert "without a healthy server (no other server takes traffic)" in str(
        refused.exception
    )
    assert "pass --force" in str(refused.exception)
    joined = _run("register", *_node_args(spec_path, "i-chat1"))
    assert joined.output == "i-chat1:8080: unchanged at weight 100\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-draining", "lots"], '--max-draining "lots": use a number of'),
        (["--max-draining", "0"], "at least one server must be able to drain"),
        (["--drain", "soon"], '--drain "soon" is not a duration'),
    ],
)
def test_bad_options_are_named(spec_path: Path, extra: list[str], message: str) -> None:
    result = _run("deregister", *_node_args(spec_path, "i-chat1"), *extra)
    assert isinstance(result.exception, SpecError)
    assert message in str(result.exception)


def test_unknown_group_lists_the_groups(spec_path: Path) -> None:
    result = _run(
        "register", str(spec_path), "-l", "chat-gateway", "-g", "nodes",
        "--server", "i-chat1", "--port", "8080",
    )  # fmt: skip
    assert isinstance(result.exception, SpecError)
    assert str(result.exception) == (
        "--group nodes: load balancer chat-gateway has no such server group; "
        "it has ws-nodes"
    )


def test_a_server_needs_a_name(spec_path: Path) -> None:
    result = _run("register", str(spec_path), "-l", "chat-gateway", "-g", "ws-nodes")
    assert isinstance(result.exception, SpecError)
    assert str(result.exception) == "name the server with --server ID or --address IP"
