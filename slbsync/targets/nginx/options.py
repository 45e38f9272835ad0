"""The options of an nginx target (``TargetSpec.options``), parsed and checked.

See docs/targets/nginx.md for what each one means. Parsing does no I/O: the
spec validator builds targets with no nginx on the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slbsync.spec.model import TargetSpec

DEFAULT_WORKER_SHUTDOWN_TIMEOUT = 300
"""Seconds old workers may keep long-lived connections after a reload."""

DEFAULT_RELOAD_TIMEOUT = 10
"""Seconds to wait for a reload to show; nginx retries a busy port for ~2.5s."""

KNOWN_OPTIONS = (
    "binary",
    "config_path",
    "error_log",
    "http_include",
    "listen_address",
    "nginx_conf",
    "owner",
    "pid_file",
    "prefix",
    "reload_timeout",
    "stream_include",
    "stream_module",
    "worker_shutdown_timeout",
)

_DURATION = re.compile(r"^(\d+)\s*(ms|s|m|h)?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_seconds(value: object) -> int | None:
    """Seconds from ``300``, ``"300s"``, ``"5m"`` or ``"1h"``; None if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _DURATION.match(str(value).strip())
    if not match or match.group(2) == "ms":
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


@dataclass(frozen=True)
class NginxOptions:
    config_path: str
    nginx_conf: str | None = None
    prefix: str | None = None
    pid_file: str | None = None
    binary: str = "nginx"
    worker_shutdown_timeout: int = DEFAULT_WORKER_SHUTDOWN_TIMEOUT
    stream_module: str | None = None
    listen_address: str | None = None
    http_include: str | None = None
    stream_include: str | None = None
    error_log: str | None = None
    reload_timeout: int = DEFAULT_RELOAD_TIMEOUT


def option_problems(spec: TargetSpec) -> list[str]:
    """What is wrong with a target's options, each naming the option."""
    where = f"{spec.location} " if spec.location else ""
    prefix = f"{where}targets.{spec.name}"
    problems = []
    if not spec.option("config_path"):
        problems.append(
            f"{prefix}.config_path: an nginx target needs config_path, the one file "
            "slbsync owns (included at the main level of nginx_conf)"
        )
    for key in ("worker_shutdown_timeout", "reload_timeout"):
        value = spec.option(key)
        if value is not None and parse_seconds(value) is None:
            problems.append(
                f'{prefix}.{key}: "{value}" is not a duration; use seconds such as '
                "300, 300s, 5m or 1h"
            )
    for key, _ in spec.options:
        if key not in KNOWN_OPTIONS:
            known = ", ".join(KNOWN_OPTIONS)
            problems.append(
                f'{prefix}.{key}: "{key}" is not an nginx target option; use {known}'
            )
    return problems


def parse_options(spec: TargetSpec) -> NginxOptions:
    """The options with defaults filled in (call ``option_problems`` first)."""

    def text(key: str) -> str | None:
        value = spec.option(key)
        return None if value in (None, "") else str(value)

    return NginxOptions(
        config_path=text("config_path") or "",
        nginx_conf=text("nginx_conf"),
        prefix=text("prefix"),
        pid_file=text("pid_file"),
        binary=text("binary") or "nginx",
        worker_shutdown_timeout=parse_seconds(
            spec.option("worker_shutdown_timeout", DEFAULT_WORKER_SHUTDOWN_TIMEOUT)
        )
        or DEFAULT_WORKER_SHUTDOWN_TIMEOUT,
        stream_module=text("stream_module"),
        listen_address=text("listen_address"),
        http_include=text("http_include"),
        stream_include=text("stream_include"),
        error_log=text("error_log"),
        reload_timeout=parse_seconds(
            spec.option("reload_timeout", DEFAULT_RELOAD_TIMEOUT)
        )
        or DEFAULT_RELOAD_TIMEOUT,
    )
