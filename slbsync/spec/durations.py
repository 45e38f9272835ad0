"""Durations in a spec: ``300s``, ``5m``, ``1h``, ``1m30s`` or bare seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")

DURATION_PATTERN = r"^(\d+h)?(\d+m)?(\d+s)?$"
"""The text form, for the JSON Schema (an int of seconds is also accepted)."""


def parse_duration(value: object) -> int | None:
    """Whole seconds, or None when ``value`` is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    hours, minutes, seconds = (int(match[part] or 0) for part in ("h", "m", "s"))
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """``300`` -> ``5m``, ``90`` -> ``1m30s``: how messages show durations."""
    if seconds <= 0:
        return f"{seconds}s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)
