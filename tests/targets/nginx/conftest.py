"""Fixtures for the nginx target: a private nginx and real backends."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx
from tests.backends import Backend, start_http_backend, start_tcp_backend

if shutil.which("nginx") is None:
    pytest.skip(
        "nginx is not installed; run scripts/test.sh (installs it) or apt-get install "
        "nginx libnginx-mod-stream",
        allow_module_level=True,
    )


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabNginx]:
    nginx = start_lab_nginx(tmp_path / "nginx")
    yield nginx
    nginx.stop()


@pytest.fixture
def backends() -> Iterator[Callable[[str, str], Backend]]:
    started: list[Backend] = []

    def start(name: str, kind: str = "http") -> Backend:
        starter = start_http_backend if kind == "http" else start_tcp_backend
        backend = starter(name)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()
