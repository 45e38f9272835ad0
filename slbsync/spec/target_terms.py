"""What a target type takes beyond the spec's own field tables, asked of its class.

The tables in ``fields.py`` say what every target takes. A protocol only
some targets have, a listener field a target takes on more protocols, and
a certificate given by the cloud's own reference are declared by the
target class (``Target.extra_protocols``, ``extra_field_protocols``,
``native_certificate_prefix``), so the spec checks name no target.
"""

from __future__ import annotations

import functools

from slbsync.errors import SpecError
from slbsync.targets.base import Target
from slbsync.targets.registry import known_target_types, target_class


@functools.cache
def declared_by(kind: str | None) -> type[Target]:
    """The class of target type ``kind``; the base class (declaring nothing
    further) when the type is unknown or its package does not import."""
    if kind is None:
        return Target
    try:
        return target_class(kind)
    except SpecError:
        return Target  # an unknown type is reported by the field check
    except (ImportError, AttributeError):
        # check_targets reports the package that does not import; here the
        # spec is checked by the tables alone.
        return Target


def types_taking_protocol(protocol: str) -> tuple[str, ...]:
    """The target types that declare ``protocol`` as one of their extras."""
    return tuple(
        kind
        for kind in known_target_types()
        if protocol in declared_by(kind).extra_protocols
    )


def field_protocols_by_type(key: str) -> dict[str, tuple[str, ...]]:
    """Target type -> the further protocols it takes listener field ``key`` on."""
    found = {
        kind: declared_by(kind).extra_field_protocols.get(key, ())
        for kind in known_target_types()
    }
    return {kind: protocols for kind, protocols in found.items() if protocols}
