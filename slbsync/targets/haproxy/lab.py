"""A private master-worker HAProxy for tests and benchmarks, on 127.0.0.1.

Everything lives under one directory: the main config (a stats socket at
admin level, nothing else), the owned file, both sockets, the server-state
file and HAProxy's output. It runs in the foreground as a child process
(``-W`` without ``-D``), so it is stopped by its own pid. Unix socket paths
are limited to 108 bytes: keep the directory short (``/tmp/...``).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slbsync.spec.model import TargetSpec
from slbsync.targets.haproxy.runtime_api import MasterApi, RuntimeApi

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

MAIN_CONFIG = """\
# A private HAProxy for slbsync's tests: everything under {root}.
global
    stats socket {root}/admin.sock mode 600 level admin
    stats timeout 30s
"""


@dataclass
class LabHaproxy:
    """A running private HAProxy master and where its files are."""

    root: Path
    process: subprocess.Popen[bytes]

    @property
    def main_config(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def owned(self) -> Path:
        return self.root / "slbsync.cfg"

    @property
    def admin(self) -> RuntimeApi:
        return RuntimeApi(self.root / "admin.sock")

    @property
    def master(self) -> MasterApi:
        return MasterApi(self.root / "master.sock")

    def target_spec(self, name: str = "edge", **options: Any) -> TargetSpec:
        """A TargetSpec that drives this HAProxy (extra options override)."""
        values: dict[str, Any] = {
            "config_path": str(self.owned),
            "main_config": [str(self.main_config)],
            "runtime_socket": str(self.root / "admin.sock"),
            "master_socket": str(self.root / "master.sock"),
            "state_file": str(self.root / "server-state"),
            "binary": HAPROXY,
            "bind_address": "127.0.0.1",
        }
        values.update(options)
        return TargetSpec(name=name, type="haproxy", options=tuple(values.items()))

    def worker_pids(self) -> tuple[int, ...]:
        return self.master.show_proc().workers

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the master (it stops its workers), SIGKILL after a bound."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def write_main_config(root: Path) -> None:
    """The lab's own configuration: a stats socket at admin level."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "haproxy.cfg").write_text(MAIN_CONFIG.format(root=root))


def start_lab_haproxy(root: Path) -> LabHaproxy:
    """Start HAProxy in master-worker mode in ``root``.

    An owned file already there (rendered by an apply while HAProxy was
    stopped) is kept; otherwise it starts empty.
    """
    write_main_config(root)
    owned = root / "slbsync.cfg"
    if not owned.exists():
        owned.write_text("# empty until slbsync renders it\n")
    command = [
        HAPROXY,
        "-W",
        "-S",
        f"{root / 'master.sock'},mode,600",
        "-f",
        str(root / "haproxy.cfg"),
        "-f",
        str(root / "slbsync.cfg"),
    ]
    with (root / "haproxy.log").open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    lab = LabHaproxy(root, process)
    deadline = time.monotonic() + 10
    while not (lab.admin.is_reachable() and lab.master.is_reachable()):
        if process.poll() is not None or time.monotonic() > deadline:
            lab.stop()
            text = (root / "haproxy.log").read_text()
            raise RuntimeError(f"HAProxy in {root} did not start:\n{text}")
        time.sleep(0.05)
    return lab
