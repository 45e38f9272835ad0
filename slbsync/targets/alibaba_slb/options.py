"""The alibaba-slb target's own options, beside region and endpoint.

Options are read when the target is built, and the spec validator builds
targets before it knows their options are well formed; so reading a number
never raises: a malformed one falls back to its default, and
``validate.option_problems`` reports it.
"""

from __future__ import annotations

from slbsync.spec.model import TargetSpec

# Option name -> the smallest value a number may take (None: not a number).
OPTIONS: dict[str, float | None] = {
    "owner": None,
    "state_dir": None,
    "ecs_endpoint": None,
    "rate": 0.001,
    "burst": 1,
    "min_rate": 0.001,
    "read_concurrency": 1,
    "read_timeout_ms": 1,
    "connect_timeout_ms": 1,
    "read_retry_seconds": 0,
}


def is_valid_value(key: str, value: object) -> bool:
    """True for any text option, and for a number option at its minimum or above."""
    minimum = OPTIONS.get(key)
    if minimum is None:
        return True
    try:
        return float(str(value)) >= minimum
    except ValueError:
        return False


def option_number(spec: TargetSpec, key: str, default: float) -> float:
    """A numeric option, or ``default`` when it is unset or malformed."""
    value = spec.option(key)
    if value is None or not is_valid_value(key, value):
        return default
    return float(str(value))
