"""Spec-model values to plain JSON data and back.

A change's payload must be JSON-compatible (plans are saved and applied
later, possibly by another process), so targets carry the desired listener,
group or server as plain data and rebuild the model object when they apply
it. Locations are left out: they say where a value was written, not what it
is.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """A model class's field names, without ``location``."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if f.name != "location"
        )
    return names


def is_model_value(value: Any) -> bool:
    """True for an instance (not a class) of a model dataclass."""
    return hasattr(type(value), "__dataclass_fields__")


def to_plain(value: Any) -> Any:
    """A model value as dicts, lists and scalars (enums become their value)."""
    if is_model_value(value):
        return {
            name: to_plain(getattr(value, name)) for name in field_names(type(value))
        }
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def from_plain(cls: type[T], data: Any) -> T:
    """Rebuild a model dataclass, nested ones too, from ``to_plain``'s output."""
    return typing.cast(T, _build(cls, data))


def _build(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _build(options[0], data)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], item) for item in data)
        return tuple(_build(arg, item) for arg, item in zip(args, data, strict=True))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        values = {
            name: _build(hints[name], data[name])
            for name in field_names(kind)
            if name in data
        }
        return kind(**values)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    return data
