"""Fixtures shared by the emulator's contract tests.

Besides the ``client`` fixture, this records every action the official SDK
answered without an error during the run, so that
``test_sdk_coverage.py`` can check each emulated action has a contract test
through the SDK (the only way to catch a response shape the SDK cannot parse).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alibabacloud_tea_openapi.client import Client as OpenApiClient

from tests.emulator.sdk_answers import SDK_ANSWERED

HERE = Path(__file__).resolve().parent
COVERAGE_TEST = "test_sdk_coverage.py"
_PARTIAL = pytest.StashKey[bool]()


@pytest.fixture(params=["v3", "v2"])
def client(request: pytest.FixtureRequest) -> Any:
    """The official SDK client, in each signature mode (ACS3 and RPC v2)."""
    name = "slb_client" if request.param == "v3" else "slb_client_v2"
    return request.getfixturevalue(name)


@pytest.fixture(autouse=True)
def _record_sdk_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap the SDK's one entry point for every action, in both signature modes.

    Per test, so that only the emulator's own tests count, not the other
    suites calling the emulator later in the same run.
    """
    original = OpenApiClient.call_api

    def recording(self: Any, params: Any, request: Any, runtime: Any) -> Any:
        answer = original(self, params, request, runtime)
        SDK_ANSWERED.add((params.version, params.action))
        return answer

    monkeypatch.setattr(OpenApiClient, "call_api", recording)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(HERE in item.path.parents for item in items):
        items[0].config.stash[_PARTIAL] = True


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    # The coverage check reads what every other test called, so it runs last.
    items.sort(key=lambda item: item.path.name == COVERAGE_TEST)


@pytest.fixture
def whole_directory_run(request: pytest.FixtureRequest) -> bool:
    """Whether every emulator test was collected (no -k, no single file)."""
    session = request.session
    if session.config.stash.get(_PARTIAL, False):
        return False
    if any("::" in arg for arg in session.config.args):
        return False
    collected = {item.path for item in session.items}
    return set(HERE.glob("test_*.py")) <= collected
