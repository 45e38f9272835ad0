"""Rule order is drift only where it is behaviour (aws-elbv2, tested in
test_aws_drift.py). On alibaba-slb rules carry no order and on nginx the most
specific rule wins whatever the order, so a spec listing its rules in another
order than they were applied in is no drift there.

Neither target can be reordered behind slbsync's back (SLB's API gives rules
no priority; nginx's rendering orders them itself), so the swap is made in
the spec. Both targets (and haproxy) also put rules in name order on both
sides when they normalise, so order never reaches the comparison there;
``rule_order_matters`` stays False to say so (tests/diff/test_compare.py
shows what it changes).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from slbsync.importer.document import render_yaml, spec_document
from slbsync.spec.model import (
    ForwardingRule,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from slbsync.targets.nginx.lab import start_lab_nginx
from slbsync.targets.nginx.target import NginxTarget
from tests.backends import free_port, start_http_backend
from tests.conftest import EmulatorHandle
from tests.drift.conftest import invoke, write_spec

ZETA = {"name": "zeta", "url": "/zeta", "server_group": "ws"}
ALPHA = {"name": "alpha", "domain": "alpha.example.com", "server_group": "ws"}


def _routed(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "target": "cloud",
        "server_groups": {"ws": {"servers": [{"id": "i-node001", "port": 8080}]}},
        "listeners": [
            {"protocol": "http", "port": 80, "server_group": "ws", "rules": rules}
        ],
    }


def _swap_rules_in_spec(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    for lb in document["load_balancers"].values():
        for listener in lb["listeners"]:
            listener["rules"].reverse()
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_slb_rules_in_another_order_are_no_drift(
    credentials: EmulatorHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path, credentials, {"routed": _routed([ZETA, ALPHA])})
    assert invoke("apply", str(spec), "--auto-approve").exit_code == 0

    _swap_rules_in_spec(spec)
    found = invoke("drift", str(spec))

    assert found.exit_code == 0, found.output
    assert AlibabaSlbTarget.rule_order_matters is False


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_rules_in_another_order_are_no_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = start_http_backend("b1")
    lab = start_lab_nginx(tmp_path / "nginx")
    try:
        group = ServerGroup(
            "web", servers=(Server(port=backend.port, address="127.0.0.1"),)
        )
        rules = (
            ForwardingRule(name="zeta", server_group="web", url="/zeta"),
            ForwardingRule(name="alpha", server_group="web", domain="alpha.example"),
        )
        listener = Listener(Protocol.HTTP, free_port(), "web", rules=rules)
        lb = LoadBalancer(
            name="edge-lb",
            target="edge",
            server_groups=(group,),
            listeners=(listener,),
        )
        spec = tmp_path / "edge.yaml"
        spec.write_text(render_yaml(spec_document(lab.target_spec("edge"), [lb])))
        monkeypatch.chdir(tmp_path)
        applied = invoke("apply", str(spec), "--auto-approve")
        assert applied.exit_code == 0, applied.output

        _swap_rules_in_spec(spec)
        found = invoke("drift", str(spec))

        assert found.exit_code == 0, found.output
        assert NginxTarget.rule_order_matters is False
    finally:
        lab.stop()
        backend.stop()
