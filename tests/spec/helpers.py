"""Shared helpers for the spec tests: fixture paths and problem listings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from slbsync.spec.load import load_spec
from slbsync.spec.problems import SpecValidationError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "specs"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def problems_of(name: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Each problem of a fixture as printed, with the fixture folder cut off."""
    with pytest.raises(SpecValidationError) as caught:
        load_spec([fixture(name)], environ=environ or {})
    prefix = f"{FIXTURES}/"
    return [str(problem).replace(prefix, "") for problem in caught.value.problems]
