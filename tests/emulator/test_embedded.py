"""The embedded emulator behind ``endpoint: local``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from slbsync.emulator.embedded import LOCK_FILE, STATE_FILE, local_emulator
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID
from slbsync.errors import EmulatorError
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import call
from tests.emulator.test_persistence import _Where


def test_embedded_emulator_starts_once_and_persists(tmp_path: Path) -> None:
    endpoint, key_id, _ = local_emulator(tmp_path / ".slbsync")
    assert endpoint.startswith("127.0.0.1:")
    assert key_id == DEFAULT_ACCESS_KEY_ID
    assert local_emulator(tmp_path / ".slbsync")[0] == endpoint

    where = _Where(endpoint)
    call(make_slb_client(where), "CreateLoadBalancer", region_id="cn-hangzhou")  # type: ignore[arg-type]
    assert (tmp_path / ".slbsync" / f"{STATE_FILE}.journal").read_text()

    # The lock is held while it serves: a second holder would have to wait.
    with pytest.raises(Timeout):
        FileLock(str(tmp_path / ".slbsync" / LOCK_FILE)).acquire(timeout=0.1)


def test_a_held_lock_gives_a_clear_error(tmp_path: Path) -> None:
    held = FileLock(str(tmp_path / LOCK_FILE))
    with held, pytest.raises(EmulatorError, match="held by another slbsync process"):
        local_emulator(tmp_path, lock_wait_seconds=0.1)


_INVOCATION = """
import os, sys
for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(name, None)
from alibabacloud_slb20140515.client import Client
from alibabacloud_slb20140515 import models
from alibabacloud_tea_openapi.models import Config
import pytest
from filelock import FileLock, Timeout

from slbsync.errors import EmulatorError
from slbsync.emulator.embedded import local_emulator
endpoint, key_id, secret = local_emulator(sys.argv[1])
client = Client(Config(access_key_id=key_id, access_key_secret=secret,
                       endpoint=endpoint, protocol="http", region_id="cn-hangzhou"))
if sys.argv[2] == "create":
    client.create_load_balancer(models.CreateLoadBalancerRequest(
        region_id="cn-hangzhou", load_balancer_name="offline"))
body = client.describe_load_balancers(
    models.DescribeLoadBalancersRequest(region_id="cn-hangzhou")).body
print(",".join(lb.load_balancer_name for lb in body.load_balancers.load_balancer))
"""


def test_state_carries_over_between_invocations(tmp_path: Path) -> None:
    def invoke(what: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _INVOCATION, str(tmp_path / ".slbsync"), what],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert invoke("create") == "offline"
    assert invoke("read") == "offline"


def test_embedded_emulator_has_the_served_configuring_window(tmp_path: Path) -> None:
    import json
    import urllib.request

    from slbsync.emulator.faults import SERVED_CONFIGURING_MS

    endpoint, _, _ = local_emulator(tmp_path / ".slbsync")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{endpoint}/_emulator/faults", timeout=10) as answer:
        faults = json.loads(answer.read())
    assert faults["configuring_ms"] == SERVED_CONFIGURING_MS > 0
