"""What the alibaba-slb target refuses before any call."""

from __future__ import annotations

from pathlib import Path

import pytest

from slbsync.errors import SpecError
from slbsync.spec.load import load_spec


def test_unknown_target_option_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  cloud: {type: alibaba-slb, region: cn-hangzhou,\n"
        "          rat: 5, burst: x, owner: im}\n"
        "load_balancers:\n"
        "  chat: {target: cloud}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec([path])
    message = str(caught.value)
    assert (
        'targets.cloud.rat: "rat" is not an alibaba-slb option; did you mean "rate"?'
        in message
    )
    assert 'targets.cloud.burst: "x" is not a number of at least 1' in message
    assert "targets.cloud.owner" not in message  # a text option takes any text
    assert caught.value.problems and len(caught.value.problems) == 2
