"""Fixtures shared by the emulator's contract tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["v3", "v2"])
def client(request: pytest.FixtureRequest) -> Any:
    """The official SDK client, in each signature mode (ACS3 and RPC v2)."""
    name = "slb_client" if request.param == "v3" else "slb_client_v2"
    return request.getfixturevalue(name)
