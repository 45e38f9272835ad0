"""The options a ``type: haproxy`` target takes, read without any I/O.

Defaults follow Debian's layout. ``main_config`` is the user's own
configuration, which slbsync never edits: it is read only to validate the
owned file in context (``haproxy -c -f main -f owned``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slbsync.spec.durations import parse_duration
from slbsync.spec.model import TargetSpec

DEFAULT_HARD_STOP_AFTER = 300
"""Seconds an old worker may keep long-lived connections after a reload."""

KNOWN_OPTIONS = frozenset(
    {
        "owner",
        "config_path",
        "main_config",
        "runtime_socket",
        "master_socket",
        "state_file",
        "binary",
        "hard_stop_after",
        "drain_timeout",
        "cut_after_drain",
        "bind_address",
        "reload_timeout",
        "certificate_dir",
    }
)


@dataclass(frozen=True)
class HaproxyOptions:
    """Where the owned file, the sockets and the binary are; drain bounds."""

    config_path: Path = Path("/etc/haproxy/conf.d/slbsync.cfg")
    main_config: tuple[Path, ...] = (Path("/etc/haproxy/haproxy.cfg"),)
    runtime_socket: Path = Path("/run/haproxy/admin.sock")
    master_socket: Path = Path("/run/haproxy/master.sock")
    state_file: Path = Path("/var/lib/haproxy/slbsync-server-state")
    binary: str = "haproxy"
    hard_stop_after: int | None = None  # None: from the listeners, else 300s
    drain_timeout: int | None = None  # None: the listener's connection_drain
    cut_after_drain: bool = True
    bind_address: str = "0.0.0.0"
    reload_timeout: float = 10.0
    certificate_dir: Path | None = None  # None: slbsync-certs beside config_path

    @property
    def previous_config_path(self) -> Path:
        """Where the file that was live before the last swap is kept."""
        return self.config_path.with_name(self.config_path.name + ".previous")

    @property
    def certificates_path(self) -> Path:
        """Where the PEM files HAProxy loads (certificate and key) are written.

        Its name does not end in ``.cfg``: a directory load skips it.
        """
        return self.certificate_dir or self.config_path.parent / "slbsync-certs"

    @property
    def pending_config_path(self) -> Path:
        """Where a rendered file waits for ``haproxy -c``.

        Its name does not end in ``.cfg``, so HAProxy loading a whole
        directory never picks it up.
        """
        return self.config_path.with_name(self.config_path.name + ".new")


def parse_options(target: TargetSpec) -> tuple[HaproxyOptions, list[str]]:
    """The options of ``target`` and the problems found reading them."""
    raw = dict(target.options)
    problems = [
        f'options.{key}: "{key}" is not an option of a haproxy target; '
        f"use one of {', '.join(sorted(KNOWN_OPTIONS))}"
        for key in sorted(raw.keys() - KNOWN_OPTIONS)
    ]
    values: dict[str, Any] = {}
    paths = ("config_path", "runtime_socket", "master_socket", "state_file")
    for key in (*paths, "certificate_dir"):
        if key in raw:
            values[key] = Path(str(raw[key]))
    if "main_config" in raw:
        files = raw["main_config"]
        files = [files] if isinstance(files, str) else list(files or [])
        values["main_config"] = tuple(Path(str(item)) for item in files)
    if "binary" in raw:
        values["binary"] = str(raw["binary"])
    if "bind_address" in raw:
        values["bind_address"] = str(raw["bind_address"])
    for key in ("hard_stop_after", "drain_timeout"):
        if key in raw:
            seconds = parse_duration(raw[key])
            if seconds is None or seconds < 0:
                problems.append(
                    f'options.{key}: "{raw[key]}" is not a duration; '
                    "write it as 300s, 5m or a number of seconds"
                )
            else:
                values[key] = seconds
    if "reload_timeout" in raw:
        seconds = parse_duration(raw["reload_timeout"])
        if not seconds:
            problems.append(
                f'options.reload_timeout: "{raw["reload_timeout"]}" is not a '
                "positive duration; write it as 10s"
            )
        else:
            values["reload_timeout"] = float(seconds)
    if "cut_after_drain" in raw:
        if not isinstance(raw["cut_after_drain"], bool):
            problems.append("options.cut_after_drain: use true or false")
        else:
            values["cut_after_drain"] = raw["cut_after_drain"]
    return HaproxyOptions(**values), problems
