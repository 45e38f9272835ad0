from __future__ import annotations

import re
from pathlib import Path

from slbsync.spec.load import load_spec
from slbsync.spec.reference import DOC_PATH, refresh

REPO = Path(__file__).resolve().parents[2]


def test_doc_field_tables_match_the_code():
    document = (REPO / DOC_PATH).read_text(encoding="utf-8")

    assert document == refresh(document), (
        "docs/spec.md is stale; run python -m slbsync.spec.reference --write"
    )


def test_doc_first_example_is_a_valid_spec(tmp_path):
    document = (REPO / DOC_PATH).read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", document, re.DOTALL)
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1))

    spec = load_spec([path], environ={})

    assert [lb.name for lb in spec.load_balancers] == ["chat-gateway"]
