from __future__ import annotations

import pytest

from slbsync.spec.envsubst import substitute
from slbsync.spec.load import load_spec
from slbsync.spec.problems import SpecValidationError
from tests.spec.helpers import fixture, problems_of


def test_variables_and_defaults_are_filled():
    environ = {"REGION": "cn-shanghai", "PORT": "8080", "STAGE": "prod"}

    spec = load_spec([fixture("env_substitution.yaml")], environ=environ)

    target = spec.targets[0]
    assert (target.region, target.endpoint) == ("cn-shanghai", "local")
    lb = spec.load_balancers[0]
    assert dict(lb.tags) == {"literal": "${NOT_A_VARIABLE}", "mixed": "chat-prod"}
    # A plain scalar takes the type of its value once filled in.
    assert lb.server_groups[0].servers[0].port == 8080
    assert lb.listeners[0].port == 443


def test_documents_keep_the_substituted_values():
    environ = {"REGION": "cn-shanghai", "PORT": "8080"}

    spec = load_spec([fixture("env_substitution.yaml")], environ=environ)

    document = spec.documents[0]
    assert document["targets"]["cloud"]["region"] == "cn-shanghai"
    assert document["load_balancers"]["chat"]["tags"]["literal"] == "${NOT_A_VARIABLE}"


def test_unset_variable_without_default_is_located():
    assert problems_of("env_unset.yaml") == [
        "env_unset.yaml:3:5 targets.cloud: an alibaba-slb target needs a region, "
        "e.g. cn-hangzhou",
        "env_unset.yaml:4:16 targets.cloud.region: environment variable "
        "MISSING_REGION is not set; set it or give a default with "
        "${MISSING_REGION:-value}",
        "env_unset.yaml:5:16 targets.cloud.endpoint: environment variable "
        "ALSO_MISSING is not set; set it or give a default with ${ALSO_MISSING:-value}",
    ]


def test_empty_variable_takes_the_default():
    assert substitute("${A:-x}", {"A": ""}) == ("x", [])
    assert substitute("${A}", {"A": ""}) == ("", [])


def test_escape_and_malformed_references():
    text, problems = substitute("$${A} and ${1BAD}", {})

    assert text == "${A} and ${1BAD}"
    assert [p.message for p in problems] == [
        '"${1BAD}" is not a variable reference; write ${NAME} or ${NAME:-default}, '
        "or $${ for a literal ${"
    ]
    assert problems[0].offset == 10


def test_secret_variables_are_never_filled_in(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  cloud:\n"
        "    type: alibaba-slb\n"
        "    region: cn-hangzhou\n"
        "    profile: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}\n"
    )
    environ = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "do-not-leak"}

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ=environ)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:5:14 targets.cloud.profile: a secret may not be filled into a spec "
        "(saved plans keep its values); targets read credentials from the "
        "environment themselves"
    ]
    assert "do-not-leak" not in str(caught.value)
