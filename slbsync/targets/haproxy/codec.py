"""Spec-model objects to and from the plain JSON a change's payload holds.

A saved plan must carry everything ``apply_change`` needs, so the proxy
changes hold the desired listener, group or server as plain data.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar

from slbsync.diff.compare import plain

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    return plain(value)


def from_plain(cls: type[T], data: Any) -> T:
    """Rebuild a frozen spec dataclass (nested ones too) from ``to_plain``."""
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
        item = args[0]
        if len(args) == 2 and args[1] is not Ellipsis:
            return tuple(
                _build(arg, value) for arg, value in zip(args, data, strict=True)
            )
        return tuple(_build(item, value) for value in data)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        values = {
            f.name: _build(hints[f.name], data[f.name])
            for f in dataclasses.fields(kind)
            if f.name in data
        }
        return kind(**values)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    return data
