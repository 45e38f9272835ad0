"""Invalid specs through the CLI as users run it: a clear error, never a call.

Each case breaks a spec that is aimed at a real ``slbsync emulator serve``
and would otherwise be applied, then runs ``plan`` and
``apply --auto-approve``. The emulator's own call log, not slbsync's, is
the proof that nothing reached the API: not even a read. Hypothesis then
mutates the load balancers of the same spec (as tests/spec/test_fuzz.py
does for ``load_spec``) and holds every refused mutant to the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slbsync.errors import SpecError
from tests.e2e.harness import cli_in_process, run_cli, small_load_balancer, write_spec
from tests.spec.test_fuzz import mutate

pytestmark = pytest.mark.slow

Mutation = Callable[[dict[str, Any]], None]


def _listener(document: dict[str, Any]) -> dict[str, Any]:
    listener: dict[str, Any] = document["load_balancers"]["chat"]["listeners"][0]
    return listener


def _server(document: dict[str, Any]) -> dict[str, Any]:
    group = document["load_balancers"]["chat"]["server_groups"]["ws-nodes"]
    server: dict[str, Any] = group["servers"][0]
    return server


def misspelt_field(document: dict[str, Any]) -> None:
    _listener(document)["shedulr"] = _listener(document).pop("scheduler")


def unknown_scheduler(document: dict[str, Any]) -> None:
    _listener(document)["scheduler"] = "fastest"


def weight_out_of_range(document: dict[str, Any]) -> None:
    _server(document)["weight"] = 101


def port_not_a_number(document: dict[str, Any]) -> None:
    _listener(document)["port"] = "https"


def missing_server_group(document: dict[str, Any]) -> None:
    _listener(document)["server_group"] = "ws-nodez"


def unknown_target_type(document: dict[str, Any]) -> None:
    document["targets"]["cloud"]["type"] = "alibaba-clb"


def secret_in_spec(document: dict[str, Any]) -> None:
    document["targets"]["cloud"]["access_key_secret"] = "spec-Secret-never-print"


def unset_variable(document: dict[str, Any]) -> None:
    _listener(document)["port"] = "${SLBSYNC_E2E_UNSET_PORT}"


# (mutation, text on the line the error must point at, words of the error)
CASES: list[tuple[Mutation, str, str]] = [
    (misspelt_field, "shedulr", 'did you mean "scheduler"'),
    (unknown_scheduler, "fastest", "is not a scheduler"),
    (weight_out_of_range, "weight: 101", "101 is out of range; use 0 to 100"),
    (port_not_a_number, "port: https", 'must be a whole number, not "https"'),
    (missing_server_group, "ws-nodez", 'there is no server group "ws-nodez"'),
    (unknown_target_type, "alibaba-clb", '"alibaba-clb" is not a type; use'),
    (secret_in_spec, "access_key_secret", "credentials never go in a spec"),
    (unset_variable, "SLBSYNC_E2E_UNSET_PORT", "SLBSYNC_E2E_UNSET_PORT is not set"),
]


def write_broken_spec(folder: Path, url: str, mutation: Mutation) -> Path:
    path = write_spec(folder, url, {"chat": small_load_balancer()})
    document = yaml.safe_load(path.read_text())
    mutation(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def line_of(path: Path, marker: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} is not in {path}")


def plan_and_apply(spec: Path) -> list[Any]:
    commands = [["plan", str(spec)], ["apply", str(spec), "--auto-approve"]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run_cli, commands))


def test_valid_spec_does_reach_the_emulator(emulator, spec_dir):
    # The baseline for the cases below: unbroken, the same spec is read.
    spec = write_spec(spec_dir, emulator.url, {"chat": small_load_balancer()})

    planned = run_cli(["plan", str(spec)])

    assert planned.returncode == 0, planned.stderr
    assert emulator.control("GET", "calls")["total"] > 0


@pytest.mark.parametrize(
    ("mutation", "marker", "words"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_invalid_spec_exits_1_with_file_line_and_makes_no_call(
    emulator, spec_dir, mutation, marker, words
):
    spec = write_broken_spec(spec_dir, emulator.url, mutation)
    where = f"{spec}:{line_of(spec, marker)}:"

    for run in plan_and_apply(spec):
        assert run.returncode == 1, run.stdout + run.stderr
        assert where in run.stderr, run.stderr
        assert words in run.stderr
        assert "Traceback" not in run.stderr
        assert "spec-Secret-never-print" not in run.stdout + run.stderr
    assert emulator.control("GET", "calls") == {"total": 0, "by_action": {}}


def test_yaml_syntax_error_exits_1_and_makes_no_call(emulator, spec_dir):
    spec = write_spec(spec_dir, emulator.url, {"chat": small_load_balancer()})
    text = spec.read_text().replace("connection_drain: 300s", "connection_drain: [300s")
    spec.write_text(text)

    for run in plan_and_apply(spec):
        assert run.returncode == 1, run.stdout + run.stderr
        assert f"{spec}:" in run.stderr
        assert "YAML syntax error" in run.stderr
    assert emulator.control("GET", "calls") == {"total": 0, "by_action": {}}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_specs_that_fail_validation_make_no_call(
    emulator_process, tmp_path_factory, data
):
    # Only the load balancers are mutated: the target keeps aiming at the
    # emulator, so a mutant that passes can never send traffic elsewhere.
    emulator, folder = emulator_process, tmp_path_factory.mktemp("fuzz")
    spec = write_spec(folder, emulator.url, {"chat": small_load_balancer()})
    document = yaml.safe_load(spec.read_text())
    document.update(mutate({"load_balancers": document["load_balancers"]}, data))
    spec.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    emulator.control("DELETE", "calls")

    planned = cli_in_process(["plan", str(spec)])

    event("valid" if planned.exit_code == 0 else "refused")
    if planned.exit_code == 0:
        return  # a valid mutant; it may read, and that is fine
    assert isinstance(planned.exception, SpecError), planned.exception
    located = re.compile(rf"^  {re.escape(str(spec))}:\d+:\d+[: ]", re.MULTILINE)
    assert located.search(str(planned.exception)), planned.exception
    applied = cli_in_process(["apply", str(spec), "--auto-approve"])
    assert applied.exit_code == 1
    assert str(applied.exception) == str(planned.exception)
    assert emulator.control("GET", "calls") == {"total": 0, "by_action": {}}
