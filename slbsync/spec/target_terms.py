"""What a target type takes beyond the spec's own field tables, asked of its class.

The tables in ``fields.py`` say what every target takes. The rest is
declared by the target class, so the spec checks name no target:
protocols only some targets have (``Target.extra_protocols``), listener
fields taken on more protocols (``extra_field_protocols``), certificates
by the cloud's own reference (``native_certificate_prefix``), scheduler
values of a target's own (``native_schedulers``), the load balancer
settings only some targets take (``load_balancer_settings``, with what to
do instead on the others in ``instead_of``), the portable fields a target
has nowhere to keep and so refuses (``unkept_fields``) and whether a spec
must give a region (``region_needed``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from slbsync.errors import SpecError
from slbsync.spec.fields import Field, Shape
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
        # check_target_packages reports the package that does not import;
        # here the spec is checked by the tables alone.
        return Target


def types_taking_protocol(protocol: str) -> tuple[str, ...]:
    """The target types that declare ``protocol`` as one of their extras."""
    return tuple(
        kind
        for kind in known_target_types()
        if protocol in declared_by(kind).extra_protocols
    )


def types_taking_setting(key: str) -> tuple[str, ...]:
    """The target types that take load balancer setting ``key``."""
    return tuple(
        kind
        for kind in known_target_types()
        if key in declared_by(kind).load_balancer_settings
    )


def types_not_keeping(shape: Shape, key: str) -> tuple[str, ...]:
    """The target types that refuse field ``key`` of ``shape``, keeping none."""
    return tuple(
        kind
        for kind in known_target_types()
        if key in declared_by(kind).unkept_fields.get(shape.name, {})
    )


def is_declared(kind: str) -> bool:
    """True when target type ``kind`` is known and its package imports."""
    return declared_by(kind) is not Target


def field_protocols_by_type(key: str) -> dict[str, tuple[str, ...]]:
    """Target type -> the further protocols it takes listener field ``key`` on."""
    found = {
        kind: declared_by(kind).extra_field_protocols.get(key, ())
        for kind in known_target_types()
    }
    return {kind: protocols for kind, protocols in found.items() if protocols}


def native_schedulers() -> dict[str, Mapping[str, tuple[str, ...]]]:
    """Target type -> its own scheduler values and the protocols each works on."""
    found = {kind: declared_by(kind).native_schedulers for kind in known_target_types()}
    return {kind: values for kind, values in found.items() if values}


def values_of(rule: Field) -> tuple[str, ...]:
    """The values an ENUM field takes on some target: its own, then the targets'."""
    if not rule.target_values:
        return rule.enum
    natives = {value for values in native_schedulers().values() for value in values}
    return rule.enum + tuple(sorted(natives - set(rule.enum)))


def choices_of(rule: Field) -> str:
    """How messages list the values of ``rule``, each target's own in brackets."""
    text = _either(rule.enum)
    if rule.target_values:
        for kind, values in native_schedulers().items():
            text += f" (on {kind} targets also {_either(tuple(values))})"
    return text


def description_of(rule: Field, shape: Shape | None = None) -> str:
    """``rule``'s description, and what targets add or refuse, for the
    references; ``shape`` is the one ``rule`` belongs to."""
    text = rule.description
    if rule.per_target:
        text += f" On {every_one_of(types_taking_setting(rule.key))} targets only."
    refusing = types_not_keeping(shape, rule.key) if shape is not None else ()
    if refusing:
        text += f" Not taken by {every_one_of(refusing)} targets: refused there."
    if rule.target_values:
        for kind, values in native_schedulers().items():
            named = tuple(
                f"{value} ({', '.join(protocols)})" if protocols else value
                for value, protocols in values.items()
            )
            text += f" On {kind} targets also the native {_joined(named, 'and')}."
    return text


def every_one_of(values: tuple[str, ...]) -> str:
    """``a, b and c``."""
    return _joined(values, "and")


def _either(values: tuple[str, ...]) -> str:
    return _joined(values, "or")


def _joined(values: tuple[str, ...], last: str) -> str:
    """``a, b or c`` (``last`` the word before the final value)."""
    return f" {last} ".join(filter(None, (", ".join(values[:-1]), values[-1])))
