"""Fixtures shared by the whole suite: the SLB emulator and SDK clients for it.

One emulator serves the test session on a free loopback port; the
``emulator`` fixture resets it (resources, call log, faults) before each
test that asks for it.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

# The SDK sends even loopback calls through a configured proxy (it ignores
# NO_PROXY), so no test may run with one.
for _name in (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
):
    os.environ.pop(_name, None)

# With no credentials in the environment, the credentials chain would ask the
# ECS metadata service (100.100.100.200), off loopback. Tests never may; the
# library reads this switch when it is first imported, so set it before that.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

from alibabacloud_ecs20140526.client import Client as EcsClient  # noqa: E402
from alibabacloud_slb20140515.client import Client as SlbClient  # noqa: E402
from alibabacloud_tea_openapi.models import Config  # noqa: E402

from slbsync.emulator.server import EmulatorServer  # noqa: E402
from slbsync.emulator.signature import (  # noqa: E402
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
)

REGION = "cn-hangzhou"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorHandle:
    """A running emulator as tests see it: where it is, and its control API."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.endpoint = server.endpoint
        self.url = server.url
        self.access_key_id = DEFAULT_ACCESS_KEY_ID
        self.access_key_secret = DEFAULT_ACCESS_KEY_SECRET
        self.region = REGION

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API; ``path`` is relative to ``/_emulator/``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path.lstrip('/')}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        with _NO_PROXY.open(request, timeout=10) as response:
            return json.loads(response.read())

    def calls(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "calls")
        return result

    def clear_calls(self) -> None:
        self.control("DELETE", "calls")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("PUT", "faults", faults)
        return result

    def seed_instances(self, *instances: dict[str, Any]) -> None:
        self.control("POST", "ecs/instances", list(instances))

    def reset(self) -> None:
        self.control("POST", "reset")


def make_slb_client(
    emulator: EmulatorHandle, signature: str = "v3", **config: Any
) -> SlbClient:
    """An official SLB SDK client for the emulator (``v3``: ACS3, ``v2``: SHA1)."""
    return SlbClient(_config(emulator, signature, **config))


def make_ecs_client(
    emulator: EmulatorHandle, signature: str = "v3", **config: Any
) -> EcsClient:
    return EcsClient(_config(emulator, signature, **config))


def _config(emulator: EmulatorHandle, signature: str, **config: Any) -> Config:
    settings: dict[str, Any] = {
        "access_key_id": emulator.access_key_id,
        "access_key_secret": emulator.access_key_secret,
        "region_id": REGION,
        "endpoint": emulator.endpoint,
        "protocol": "http",
        **config,
    }
    if signature == "v2":
        settings["signature_algorithm"] = "v2"
    elif signature != "v3":
        raise ValueError(f"signature must be v3 or v2, got {signature!r}")
    return Config(**settings)


@pytest.fixture(autouse=True)
def _private_lock_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test's file locks in a directory of its own.

    The default lock directory is host-wide (/var/lib/slbsync/locks); tests
    of several people on one machine must not wait for each other's locks.
    Commands that tests start in subprocesses inherit the variable.
    """
    monkeypatch.setenv("SLBSYNC_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer(region=REGION).start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorHandle:
    handle = EmulatorHandle(emulator_server)
    handle.reset()
    return handle


@pytest.fixture
def slb_client(emulator: EmulatorHandle) -> SlbClient:
    return make_slb_client(emulator, "v3")


@pytest.fixture
def slb_client_v2(emulator: EmulatorHandle) -> SlbClient:
    return make_slb_client(emulator, "v2")


@pytest.fixture(params=["v3", "v2"])
def slb_clients(request: pytest.FixtureRequest, emulator: EmulatorHandle) -> SlbClient:
    """The SLB client in each signature mode, for tests that run under both."""
    return make_slb_client(emulator, request.param)


@pytest.fixture
def ecs_client(emulator: EmulatorHandle) -> EcsClient:
    return make_ecs_client(emulator, "v3")


@pytest.fixture(autouse=True)
def _logging_levels_reset() -> Iterator[None]:
    """Undo the level a CLI run set on the slbsync logger, so caplog sees DEBUG.

    ``slbsync.cli.logs.setup_logging`` sets the ``slbsync`` logger's level
    for the life of a process; CliRunner runs many commands in one process.
    """
    import logging

    yield
    logging.getLogger("slbsync").setLevel(logging.NOTSET)
