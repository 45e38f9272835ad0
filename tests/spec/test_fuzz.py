"""Fuzzed specs: every mutation of a valid spec loads or gives clear problems.

Never a traceback: whatever a user writes, ``load_spec`` returns a Spec or
raises SpecValidationError with at least one located problem. Validation
never reaches a target beyond its side-effect-free ``validate``.
"""

from __future__ import annotations

import copy
import socket
import subprocess
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slbsync.spec.load import load_spec, load_spec_documents
from slbsync.spec.model import Spec
from slbsync.spec.problems import SpecValidationError
from tests.spec.helpers import fixture

with open(fixture("valid_full.yaml"), encoding="utf-8") as _stream:
    VALID_TEXT = _stream.read()
VALID = yaml.safe_load(VALID_TEXT)

FAST = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, -1, 1, 65535, 65536, 100, 101, 5121, 86401]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["off", "5m", "1h", "300s", "10.0.0.0/8", "${X}", "tcp", "http"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


def paths_of(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += paths_of(value, (*path, i))
    return found


PATHS = [p for p in paths_of(VALID) if p]
KEYS = sorted({p[-1] for p in PATHS if isinstance(p[-1], str)})


def mutate(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Apply one to three random edits to a copy of ``document``."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in paths_of(document) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = data.draw(
            st.sampled_from(["drop", "rename", "replace", "nest", "number"])
        )
        if action == "drop":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            new_key = data.draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)))
            parent[new_key] = parent.pop(last)
        elif action == "nest":
            depth = data.draw(st.integers(1, 80))
            value = parent[last]
            for _ in range(depth):
                value = [value] if depth % 2 else {"x": value}
            parent[last] = value
        elif action == "number":
            parent[last] = data.draw(st.integers(-100000, 100000))
        else:
            parent[last] = data.draw(values)
    return document


def _no_io(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("validation reached the network or ran a program")


def assert_clear_outcome(load: Any) -> None:
    # Never a write: loading a spec opens no connection and runs no binary.
    try:
        with (
            mock.patch.object(socket.socket, "connect", _no_io),
            mock.patch.object(subprocess, "Popen", _no_io),
        ):
            result = load()
    except SpecValidationError as err:
        assert err.problems, "a SpecValidationError must list its problems"
        for problem in err.problems:
            assert problem.message
            assert "Traceback" not in str(problem)
        return
    assert isinstance(result, Spec)


@FAST
@given(data=st.data())
def test_mutated_documents_load_or_give_problems(data):
    document = mutate(VALID, data)

    assert_clear_outcome(lambda: load_spec_documents([("fuzz.yaml", document)]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_yaml_text_loads_or_gives_problems(tmp_path_factory, data):
    document = mutate(VALID, data)
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))

    assert_clear_outcome(lambda: load_spec([path], environ={"X": "1"}))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(0, len(VALID_TEXT)),
    cut=st.integers(0, 40),
    insert=st.text(alphabet=" \n\t:-{}[],'\"&*!|>#%@`$?0123456789abc", max_size=8),
)
def test_edited_yaml_text_loads_or_gives_problems(
    tmp_path_factory, position, cut, insert
):
    text = VALID_TEXT[:position] + insert + VALID_TEXT[position + cut :]
    path = tmp_path_factory.mktemp("edit") / "spec.yaml"
    path.write_text(text)

    assert_clear_outcome(lambda: load_spec([path], environ={}))


def test_deep_nesting_and_alias_bombs_are_problems(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("targets: " + "[" * 1200 + "]" * 1200 + "\n")
    bomb = tmp_path / "bomb.yaml"
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)
    ]
    bomb.write_text("\n".join(lines) + "\n")
    loop = tmp_path / "loop.yaml"
    loop.write_text("targets: &t\n  t: *t\n")

    for path in (deep, bomb, loop):
        with pytest.raises(SpecValidationError) as caught:
            load_spec([path], environ={})
        assert len(caught.value.problems) == 1, caught.value.problems


@pytest.fixture(scope="module")
def certificate_spec(tmp_path_factory):
    """A valid spec with a server and a CA certificate, PEMs made here."""
    from tests.spec.test_spec_certificates import SPEC, make_certificate, write_pair

    folder = tmp_path_factory.mktemp("certs")
    key, certificate = make_certificate()
    write_pair(folder, key, certificate)
    text = SPEC.replace(
        "certificates:\n",
        "certificates:\n"
        "  client-ca: {target: cloud, kind: ca, certificate: certs/chat.crt}\n",
    )
    return str(folder / "spec.yaml"), yaml.safe_load(text)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_certificate_specs_load_or_give_problems(certificate_spec, data):
    source, valid = certificate_spec
    document = mutate(valid, data)

    assert_clear_outcome(lambda: load_spec_documents([(source, document)]))
