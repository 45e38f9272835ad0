"""A private nginx for tests and benchmarks, on 127.0.0.1 only.

Everything lives under one directory: the main config, the owned file,
the pid file, the error log and all five ``*_temp_path`` directories (the
Debian package's compiled-in ones are under /var/lib/nginx). The stream
module is loaded by the main config, as Debian's own nginx.conf does.
Stopped by pid with SIGTERM (nginx's fast shutdown: a graceful SIGQUIT
would wait for open UDP sessions and chat connections), SIGKILL after a
bound.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slbsync.spec.model import TargetSpec
from slbsync.targets.nginx.reload import live_workers, read_master_pid

STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

MAIN_CONF = """\
# A private nginx for slbsync's tests: everything under {root}.
{load_module}
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log info;
# Before events: the owned file may carry load_module (option stream_module).
include {owned};
events {{ worker_connections 1024; }}
"""


@dataclass
class LabNginx:
    """A running private nginx and where its files are."""

    root: Path
    master_pid: int

    @property
    def main_conf(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def owned_conf(self) -> Path:
        return self.root / "slbsync.conf"

    @property
    def error_log(self) -> Path:
        return self.root / "error.log"

    def target_spec(self, name: str = "edge", **options: Any) -> TargetSpec:
        """A TargetSpec that drives this nginx (extra options override)."""
        settings: dict[str, Any] = {
            "config_path": str(self.owned_conf),
            "nginx_conf": str(self.main_conf),
            "prefix": str(self.root),
            "pid_file": str(self.root / "nginx.pid"),
            "error_log": str(self.error_log),
            "http_include": str(self.root / "http-common.conf"),
            "listen_address": "127.0.0.1",
        }
        settings.update(options)
        options_pairs = tuple(sorted(settings.items()))
        return TargetSpec(name=name, type="nginx", options=options_pairs)

    def workers(self) -> set[int]:
        return live_workers(self.master_pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Fast stop (SIGTERM), then SIGKILL if it outlives ``timeout``."""
        children = _children(self.master_pid)
        _signal(self.master_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(self.master_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(self.master_pid):
            _signal(self.master_pid, signal.SIGKILL)
        # A killed master leaves its workers behind; they are ours to end.
        for pid in children:
            if _alive(pid) and _is_nginx(pid):
                _signal(pid, signal.SIGKILL)


def start_lab_nginx(
    root: Path, workers: int = 2, owned_text: str = "", load_stream: bool = True
) -> LabNginx:
    """Start nginx in ``root``; the owned file holds ``owned_text`` to begin.

    ``load_stream=False`` leaves loading the stream module to the owned file
    (the target option ``stream_module``).
    """
    root.mkdir(parents=True, exist_ok=True)
    for name in TEMP_PATHS:
        (root / "temp" / name).mkdir(parents=True, exist_ok=True)
    temp_paths = "".join(
        f"{name}_temp_path {root}/temp/{name};\n" for name in TEMP_PATHS
    )
    (root / "http-common.conf").write_text(f"{temp_paths}access_log off;\n")
    owned = root / "slbsync.conf"
    owned.write_text(owned_text)
    has_stream = load_stream and os.path.exists(STREAM_MODULE)
    load_module = f"load_module {STREAM_MODULE};" if has_stream else ""
    main = MAIN_CONF.format(
        root=root, workers=workers, owned=owned, load_module=load_module
    )
    (root / "nginx.conf").write_text(main)

    result = subprocess.run(
        ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nginx did not start: {result.stderr.strip()}")

    # The master daemonises; wait for its pid file and its first workers.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        master = read_master_pid(str(root / "nginx.pid"))
        if master and len(live_workers(master)) == workers:
            return LabNginx(root=root, master_pid=master)
        time.sleep(0.05)
    raise RuntimeError(f"nginx in {root} did not come up within 10s")


def _children(master: int) -> list[int]:
    """Every process whose parent is ``master`` (workers of all generations)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == master:
            children.append(int(entry))
    return children


def _is_nginx(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().startswith(b"nginx:")
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
