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


def test_ip_only_server_is_refused_with_what_to_use_instead(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  cloud: {type: alibaba-slb, region: cn-hangzhou}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: cloud\n"
        "    server_groups:\n"
        "      ws:\n"
        "        servers:\n"
        "          - {type: ip, address: 10.0.0.7, port: 80}\n"
        "          - {id: i-bp1ok, port: 80}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec([path])

    assert caught.value.problems and len(caught.value.problems) == 1
    message = str(caught.value)
    assert f"{path}:9:13 load_balancers.chat.server_groups.ws.servers[0]:" in message
    assert "SLB server groups take no IP-only servers" in message
    assert "give the ECS instance id (id: i-...)" in message
    assert "type: eni or type: eci" in message
    assert "belongs on an nginx or haproxy target" in message
