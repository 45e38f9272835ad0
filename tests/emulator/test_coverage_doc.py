"""The coverage list in docs/emulator.md matches the action registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slbsync.emulator.coverage import END, START, coverage_markdown
from tests.emulator.slb_helpers import refused

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"


def test_coverage_list_is_up_to_date() -> None:
    document = DOC.read_text()
    block = document.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == coverage_markdown().strip(), (
        "docs/emulator.md is out of date: run "
        "python -m slbsync.emulator.coverage docs/emulator.md"
    )


def test_an_slb_action_outside_the_coverage_is_not_emulated(slb_client: Any) -> None:
    error = refused(slb_client, "DescribeAvailableResource", region_id="cn-hangzhou")
    assert error.code == "NotEmulated"
    assert "Action DescribeAvailableResource" in error.message
