from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from slbsync.cli.app import app
from slbsync.spec.target_terms import declared_by
from slbsync.targets import registry
from tests.spec.helpers import FIXTURES, fixture

runner = CliRunner()


def test_valid_spec_prints_ok_and_exits_0():
    result = runner.invoke(app, ["validate", fixture("merge")])

    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 2 load balancers on 1 target\n"


def test_problems_go_to_stderr_and_exit_1():
    result = runner.invoke(app, ["validate", fixture("membership.yaml")])

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{FIXTURES}/membership.yaml:8:9 load_balancers.chat.server_groups.found: a "
        "discovered group needs discover: {instance_tags: ..., port: ...}"
    )
    assert lines[-1] == "4 problems found"


def test_several_paths_are_merged():
    result = runner.invoke(
        app,
        [
            "validate",
            fixture("duplicate_names/one.yaml"),
            fixture("merge/nested/b_balancers.yml"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 3 load balancers on 1 target\n"


def test_secret_value_is_never_printed():
    result = runner.invoke(app, ["validate", fixture("secret_in_spec.yaml")])

    assert result.exit_code == 1
    assert "do-not-print-this-secret" not in result.output
    assert "LTAI5tEXAMPLEID" not in result.output


def test_schema_command_prints_json_schema():
    result = runner.invoke(app, ["schema"])

    assert result.exit_code == 0
    assert '"$schema": "https://json-schema.org/draft/2020-12/schema"' in result.stdout


def test_json_format_lists_problems_for_programs():
    result = runner.invoke(
        app, ["validate", "--format", "json", fixture("duplicate_names")]
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": f"{FIXTURES}/duplicate_names/two.yaml",
            "line": 3,
            "column": 3,
            "path": "load_balancers.chat",
            "message": 'load balancer "chat" is defined twice: here and at '
            f"{FIXTURES}/duplicate_names/one.yaml:4:3",
        }
    ]


def test_json_format_of_a_valid_spec_is_an_empty_list():
    result = runner.invoke(app, ["validate", "--format", "json", fixture("merge")])

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


@pytest.fixture
def haproxy_without_its_dependency(monkeypatch):
    """The haproxy target's package fails to import, as with a broken install."""
    real_import = importlib.import_module

    def import_module(name: str, package: str | None = None) -> Any:
        if name == "slbsync.targets.haproxy.target":
            raise ModuleNotFoundError("No module named 'jinja2'", name="jinja2")
        return real_import(name, package)

    monkeypatch.setattr(registry.importlib, "import_module", import_module)
    declared_by.cache_clear()
    yield
    declared_by.cache_clear()


@pytest.mark.usefixtures("haproxy_without_its_dependency")
def test_target_that_does_not_import_fails_validate():
    result = runner.invoke(app, ["validate", fixture("valid_full.yaml")])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{FIXTURES}/valid_full.yaml:11:5 targets.edge: the haproxy target's code "
        "does not load (No module named 'jinja2'), so its checks cannot run and "
        "this spec is not validated; install the missing module jinja2 or "
        "reinstall slbsync (pip install --force-reinstall slbsync)",
        "1 problem found",
    ]
