"""With HAProxy stopped, apply writes the checked file for its next start."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from slbsync.spec.model import Protocol
from slbsync.targets.haproxy.lab import (
    HAPROXY,
    LabHaproxy,
    start_lab_haproxy,
    write_main_config,
)
from slbsync.targets.haproxy.target import HaproxyTarget
from tests.backends import Backend, free_port, http_get
from tests.targets.haproxy.conftest import apply, chat_lb, plan, spec_for


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hap-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_apply_while_stopped_writes_the_file_for_the_next_start(
    root: Path, http_backends: list[Backend], caplog: pytest.LogCaptureFixture
) -> None:
    write_main_config(root)
    port = free_port()
    lab = LabHaproxy(root, process=None)  # type: ignore[arg-type]
    target_spec = lab.target_spec(binary=HAPROXY)
    lb = chat_lb(port, http_backends[:1], protocol=Protocol.HTTP)

    apply(spec_for(target_spec, lb), HaproxyTarget(target_spec))

    assert f"bind 127.0.0.1:{port}" in lab.owned.read_text()
    assert "takes effect when HAProxy starts" in caplog.text
    running = start_lab_haproxy(root)
    try:
        assert http_get(port) == "b1"
        clean = plan(spec_for(target_spec, lb), HaproxyTarget(target_spec))
        assert clean.targets[0].changes == ()
    finally:
        running.stop()


def test_a_config_directory_is_checked_without_the_old_owned_file(
    root: Path, http_backends: list[Backend]
) -> None:
    conf_d = root / "conf.d"
    conf_d.mkdir()
    write_main_config(root)
    (root / "haproxy.cfg").rename(conf_d / "00-main.cfg")
    lab = LabHaproxy(root, process=None)  # type: ignore[arg-type]
    target_spec = lab.target_spec(
        main_config=str(conf_d), config_path=str(conf_d / "zz-slbsync.cfg")
    )
    lb = chat_lb(free_port(), http_backends[:1], protocol=Protocol.HTTP)

    # Twice: the second check must not load the first file next to the new one.
    apply(spec_for(target_spec, lb), HaproxyTarget(target_spec))
    lb = chat_lb(free_port(), http_backends[:2], protocol=Protocol.HTTP)
    apply(spec_for(target_spec, lb), HaproxyTarget(target_spec))

    assert "frontend chat:http:" in (conf_d / "zz-slbsync.cfg").read_text()
    assert sorted(p.name for p in conf_d.glob("*.cfg")) == [
        "00-main.cfg",
        "zz-slbsync.cfg",
    ]
