from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from slbsync.spec import fields
from slbsync.spec.schema import SCHEMA_PATH, build_schema, main, render_schema
from tests.spec.helpers import fixture

REPO = Path(__file__).resolve().parents[2]


def test_committed_schema_is_what_the_code_generates():
    committed = (REPO / SCHEMA_PATH).read_text(encoding="utf-8")

    assert committed == render_schema(), (
        "specs/schema.json is stale; run python -m slbsync.spec.schema --write"
    )


def test_schema_lists_every_field_of_the_tables():
    schema = build_schema()

    listener = schema["$defs"]["Listener"]
    assert [key for key in listener["properties"]] == [
        rule.key for rule in fields.LISTENER.fields
    ]
    assert listener["properties"]["scheduler"]["enum"][:4] == [
        "round_robin",
        "weighted_round_robin",
        "least_connections",
        "source_hash",
    ]
    assert listener["properties"]["port"]["anyOf"][0]["maximum"] == 65535
    assert listener["properties"]["bandwidth"]["default"] == -1
    assert listener["properties"]["sticky_session"]["description"].endswith(
        "(http and https listeners only.)"
    )
    assert (
        schema["$defs"]["LoadBalancer"]["properties"]["instance_charge_type"]["default"]
        == "PayByCLCU"
    )


def test_schema_accepts_a_valid_spec_and_flags_knobs_per_protocol():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(build_schema())
    jsonschema.Draft202012Validator.check_schema(validator.schema)

    with open(fixture("valid_full.yaml")) as stream:
        assert list(validator.iter_errors(yaml.safe_load(stream))) == []
    with open(fixture("protocol_knobs.yaml")) as stream:
        errors = list(validator.iter_errors(yaml.safe_load(stream)))
    # sticky_session on tcp and http2 on http; connection_drain on http is
    # let through, as aws-elbv2 takes it there (the loader refuses it on SLB).
    refused = [error.instance for error in errors]  # the values flagged
    assert refused == [{"type": "insert", "cookie_timeout": "1h"}, True]


def test_module_prints_and_writes_the_schema(tmp_path, capsys):
    assert main([]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "slbsync spec"

    target = tmp_path / "schema.json"
    assert main(["--write", str(target)]) == 0
    assert target.read_text() == render_schema()


def test_schema_takes_environment_references_in_number_fields():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(build_schema())
    with open(fixture("env_substitution.yaml")) as stream:
        document = yaml.safe_load(stream)

    assert list(validator.iter_errors(document)) == []
