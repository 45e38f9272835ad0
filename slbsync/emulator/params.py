"""Request parameters, read as leniently as the real gateway reads them.

The gateway accepts a parameter's name with either case of its first letter
(the SDK sends ``healthCheckInterval`` on TCP create and
``HealthCheckInterval`` on set), booleans in any case, JSON lists with
single quotes and numbers as strings. Every getter raises the cloud's own
error for a missing or malformed value.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter

_MISSING = object()


def _other_first_letter(name: str) -> str:
    if not name:
        return name
    first = name[0]
    swapped = first.lower() if first.isupper() else first.upper()
    return swapped + name[1:]


class Params:
    """The parameters of one request, from the query string and form body."""

    def __init__(self, values: Mapping[builtins.str, builtins.str]) -> None:
        self._values = dict(values)

    def __contains__(self, name: builtins.str) -> builtins.bool:
        return self.raw(name) is not None

    def names(self) -> list[builtins.str]:
        return list(self._values)

    def raw(self, name: builtins.str) -> builtins.str | None:
        """The value as sent, under either spelling of the first letter."""
        if name in self._values:
            return self._values[name]
        return self._values.get(_other_first_letter(name))

    def str(
        self,
        name: builtins.str,
        *,
        required: builtins.bool = False,
        default: builtins.str | None = None,
        choices: Iterable[builtins.str] | None = None,
        max_length: builtins.int | None = None,
        pattern: builtins.str | None = None,
    ) -> builtins.str | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise MissingParameter(name)
            return default
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                raise InvalidParameter(name, f"Valid values: {', '.join(allowed)}.")
        if max_length is not None and len(value) > max_length:
            raise ApiError(
                "InvalidParameterLength",
                f'The length of parameter "{name}" exceeds {max_length}.',
            )
        if pattern is not None and not re.fullmatch(pattern, value):
            raise InvalidParameter(name, "The format is not valid.")
        return value

    def require(self, name: builtins.str, **kwargs: Any) -> builtins.str:
        value = self.str(name, required=True, **kwargs)
        assert value is not None
        return value

    def int(
        self,
        name: builtins.str,
        *,
        required: builtins.bool = False,
        default: builtins.int | None = None,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise MissingParameter(name)
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameter(name, f'"{value}" is not an integer.') from None
        if (minimum is not None and number < minimum) or (
            maximum is not None and number > maximum
        ):
            raise InvalidParameter(
                name, f"The value should be in [{minimum}, {maximum}]."
            )
        return number

    def bool(
        self, name: builtins.str, *, default: builtins.bool | None = None
    ) -> builtins.bool | None:
        value = self.raw(name)
        if value is None or value == "":
            return default
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidParameter(name, f'"{value}" is not a boolean.')

    def switch(
        self,
        name: builtins.str,
        *,
        default: builtins.str | None = None,
        required: builtins.bool = False,
    ) -> builtins.str | None:
        """An ``on``/``off`` parameter, case-insensitive, returned lower-case."""
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise MissingParameter(name)
            return default
        lowered = value.lower()
        if lowered not in ("on", "off"):
            raise InvalidParameter(name, "Valid values: on, off.")
        return lowered

    def json(self, name: builtins.str, *, required: builtins.bool = False) -> Any:
        """A JSON parameter; single quotes and Python literals are accepted."""
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise MissingParameter(name)
            return None
        return parse_lenient_json(name, value)

    def indexed(self, name: builtins.str) -> list[builtins.str]:
        """``Name.1``, ``Name.2``, ... in index order."""
        found: list[tuple[builtins.int, builtins.str]] = []
        prefix = f"{name}."
        for key, value in self._values.items():
            for candidate in (key, _other_first_letter(key)):
                if candidate.startswith(prefix) and candidate[len(prefix) :].isdigit():
                    found.append((int(candidate[len(prefix) :]), value))
                    break
        return [value for _, value in sorted(found)]

    def indexed_objects(
        self, name: builtins.str
    ) -> list[dict[builtins.str, builtins.str]]:
        """``Tag.1.Key``, ``Tag.1.Value``, ... as a list of dicts, in index order."""
        objects: dict[builtins.int, dict[builtins.str, builtins.str]] = {}
        pattern = re.compile(rf"^{re.escape(name)}\.(\d+)\.(\w+)$", re.IGNORECASE)
        for key, value in self._values.items():
            match = pattern.match(key)
            if match:
                objects.setdefault(int(match.group(1)), {})[match.group(2)] = value
        return [objects[index] for index in sorted(objects)]

    def tags(
        self, name: builtins.str = "Tag"
    ) -> list[tuple[builtins.str, builtins.str]]:
        """``Tag.N.Key``/``Tag.N.Value`` pairs."""
        pairs = []
        for item in self.indexed_objects(name):
            key = item.get("Key") or item.get("key")
            if not key:
                raise InvalidParameter(f"{name}.N.Key", "A tag key is required.")
            pairs.append((key, item.get("Value") or item.get("value") or ""))
        return pairs


def parse_lenient_json(name: str, text: str) -> Any:
    """Parse JSON as the gateway does: strict JSON first, then Python literals."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise InvalidParameter(name, "The JSON is malformed.") from None


def as_int(name: str, value: Any, *, minimum: int, maximum: int) -> int:
    """An integer inside a JSON parameter, which may arrive as a string."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name, f'"{value}" is not an integer.') from None
    if not minimum <= number <= maximum:
        raise InvalidParameter(
            name, f"{name} value should be in [{minimum}, {maximum}]."
        )
    return number
