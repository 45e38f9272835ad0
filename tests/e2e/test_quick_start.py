"""The README's first command: apply the example on the embedded emulator,
then plan: nothing to do."""

import shutil
from pathlib import Path

import pytest

from tests.e2e.harness import run_cli

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"


def test_example_applies_then_plans_clean(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "specs" / "examples")

    applied = run_cli(["apply", "specs/examples", "--auto-approve"], cwd=tmp_path)
    plan = run_cli(["plan", "specs/examples", "--detailed-exitcode"], cwd=tmp_path)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "+ load balancer chat-gateway" in applied.stdout
    assert "CreateLoadBalancerHTTPSListener" in applied.stdout
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes: the live state matches the spec." in plan.stdout
    # The example's private key is read at apply time and never shown.
    key = (EXAMPLES / "certs" / "chat.example.com.EXAMPLE-ONLY.key.pem").read_text()
    body = key.splitlines()[1]
    assert body not in applied.stdout + applied.stderr
    assert (tmp_path / ".slbsync").is_dir()
