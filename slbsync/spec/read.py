"""Read one YAML mapping by its field table: types, enums, ranges, unknown keys.

``read_fields`` turns a raw mapping into model attribute values and reports,
without stopping, every key it does not know (with "did you mean"), every
value of the wrong type or out of range, every knob the listener's protocol
does not take, and every required field left out. A value with a problem is
left out of the result, so the model falls back to its default and the rest
of the spec is still checked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slbsync.spec.credentials import SECRET_HINT, looks_secret
from slbsync.spec.durations import format_duration, parse_duration
from slbsync.spec.fields import Field, Kind, Shape
from slbsync.spec.model import Location, Scheduler
from slbsync.spec.problems import Path, SpecProblem, format_path
from slbsync.spec.source import LocationIndex
from slbsync.spec.target_terms import choices_of
from slbsync.targets.base import OWNER_TAG

MAX_TAGS = 20
PORTABLE = frozenset(s.value for s in Scheduler)


@dataclass
class Context:
    """What a read needs besides the data: where to report and locate."""

    problems: list[SpecProblem]
    index: LocationIndex
    base_dir: str = "."
    paths: dict[int, Path] = field(default_factory=dict)
    target_types: dict[str, str] = field(default_factory=dict)  # name -> type

    def report(self, location: Location, path: Path, message: str) -> None:
        self.problems.append(SpecProblem(location, format_path(path), message))

    def at_value(self, path: Path, message: str) -> None:
        self.report(self.index.value(path), path, message)

    def at_key(self, path: Path, message: str) -> None:
        self.report(self.index.key(path), path, message)

    def remember(self, obj: Any, path: Path) -> Any:
        """Note where a built object came from, for the cross-checks."""
        self.paths[id(obj)] = path
        return obj


@dataclass
class Read:
    """The attribute values read from one mapping, and what was given."""

    values: dict[str, Any]
    given: set[str]  # keys present with a value, valid or not
    complete: bool  # every required field is present and valid
    extra: dict[str, Any] = field(default_factory=dict)  # open shapes' other keys


class _Invalid:
    """A value with a problem already reported."""


INVALID = _Invalid()


def read_fields(
    shape: Shape,
    raw: Any,
    path: Path,
    ctx: Context,
    *,
    protocol: str | None = None,
    extra_protocols: Mapping[str, tuple[str, ...]] | None = None,
    nested: Callable[[Field, Any, Path], Any] | None = None,
) -> Read | None:
    """Read ``raw`` as a ``shape``; None when it is not a mapping at all.

    ``extra_protocols`` names, per key, the protocols a listener's target
    takes that key on beyond the table's own (``Target.extra_field_protocols``).
    """
    if shape.shorthand is not None and _is_kind(shape.shorthand, raw):
        raw = {shape.shorthand_key: raw}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        forms = {Kind.TEXT: "text or ", Kind.BOOL: "true, false or "}
        form = forms.get(shape.shorthand, "") if shape.shorthand else ""
        ctx.at_value(path, f"must be {form}a map of fields, not {_what(raw)}")
        return None

    read = Read({}, set(), True)
    for key, value in raw.items():
        spot = (*path, key)
        rule = shape.field(key)
        if rule is None:
            _unknown_key(shape, key, value, spot, ctx, read)
            continue
        if value is None:
            continue  # an empty value is the same as leaving the field out
        read.given.add(key)
        if protocol is not None and not _takes(rule, protocol, extra_protocols):
            ctx.at_key(spot, _knob_message(rule, protocol))
            continue
        if rule.kind in (Kind.OBJECT, Kind.LIST, Kind.MAP) and nested is not None:
            converted = nested(rule, value, spot)
        else:
            converted = convert_value(rule, value, spot, ctx)
        if converted is INVALID:
            if rule.required:
                read.complete = False
            continue
        read.values[rule.target_attr] = converted

    for rule in shape.fields:
        if rule.required and rule.key not in read.given:
            ctx.at_value(path, f'this {shape.name} needs "{rule.key}"')
            read.complete = False
    return read


def _unknown_key(
    shape: Shape, key: str, value: Any, spot: Path, ctx: Context, read: Read
) -> None:
    if looks_secret(key):
        ctx.at_key(spot, SECRET_HINT)
        return
    known = [f.key for f in shape.fields]
    if shape.open:
        # Other keys are the target type's own options; only a near miss of
        # a common field is surely a typo.
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        if close:
            ctx.at_key(spot, f'unknown field "{key}"; did you mean "{close[0]}"?')
        else:
            read.extra[key] = _option_value(value, spot, ctx)
        return
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        ctx.at_key(spot, f'unknown field "{key}"; did you mean "{close[0]}"?')
    else:
        ctx.at_key(
            spot, f'unknown field "{key}"; a {shape.name} takes {_listing(known)}'
        )


def _option_value(value: Any, path: Path, ctx: Context) -> Any:
    """A target option as a hashable value, with no secret inside it."""
    if isinstance(value, dict):
        items = []
        for key, item in sorted(value.items()):
            if looks_secret(key):
                ctx.at_key((*path, key), SECRET_HINT)
                continue
            items.append((key, _option_value(item, (*path, key), ctx)))
        return tuple(items)
    if isinstance(value, list):
        return tuple(
            _option_value(item, (*path, i), ctx) for i, item in enumerate(value)
        )
    return value


def _takes(
    rule: Field, protocol: str, extra: Mapping[str, tuple[str, ...]] | None
) -> bool:
    if not rule.protocols or protocol in rule.protocols:
        return True
    return protocol in (extra or {}).get(rule.key, ())


def _knob_message(rule: Field, protocol: str) -> str:
    takers = " and ".join(rule.protocols)
    return f"{takers} listeners take {rule.key}; this listener is {protocol}"


# -- scalar values ---------------------------------------------------------------


def convert_value(rule: Field, value: Any, path: Path, ctx: Context) -> Any:
    """``value`` checked and converted for ``rule``, or INVALID (reported)."""
    message = _CONVERTERS[rule.kind](rule, value)
    if isinstance(message, _Problem):
        ctx.at_value(path, message.text)
        return INVALID
    return message


@dataclass(frozen=True)
class _Problem:
    text: str


def _text(rule: Field, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return _Problem(f"must be text, not {_what(value)}")
    if not isinstance(value, str):
        return _Problem(f'must be text; write it in quotes: "{value}"')
    if rule.min_length is not None and len(value) < rule.min_length:
        return _Problem("must not be empty")
    if rule.max_length is not None and len(value) > rule.max_length:
        return _Problem(
            f"must be at most {rule.max_length} characters; it has {len(value)}"
        )
    if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
        return _Problem(f'"{_short(value)}" is not valid here; use {rule.pattern_hint}')
    return value


def _int(rule: Field, value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return _Problem(f"must be a whole number; write {value.strip()} without quotes")
    if isinstance(value, bool) or not isinstance(value, int):
        return _Problem(f"must be a whole number, not {_what(value)}")
    return _in_range(rule, value)


def _in_range(rule: Field, value: int, seconds: bool = False) -> Any:
    low, high = rule.minimum, rule.maximum
    if rule.key == "bandwidth" and low == -1 and value == 0:
        low = 1  # -1 means no limit; 0 is not a bandwidth
    if (low is not None and value < low) or (high is not None and value > high):
        show = _show_seconds if seconds else str
        if rule.key == "bandwidth" and rule.minimum == -1:
            span = f"-1 (no limit) or 1 to {high}"
        elif high is None:
            span = f"{show(low or 0)} or more"
        else:
            span = f"{show(low or 0)} to {show(high)}"
        shown = f"{value}s" if seconds else str(value)
        if rule.kind is Kind.DURATION_OR_OFF:
            span += ", or off"
        return _Problem(f"{shown} is out of range; use {span}")
    return value


def _bool(rule: Field, value: Any) -> Any:
    if not isinstance(value, bool):
        return _Problem(f"must be true or false, not {_what(value)}")
    return value


def _duration(rule: Field, value: Any) -> Any:
    seconds = parse_duration(value)
    if seconds is None:
        return _Problem(
            f"{_what(value)} is not a duration; write 300s, 5m, 1h or a number "
            "of seconds"
        )
    return _in_range(rule, seconds, seconds=True)


def _show_seconds(seconds: int) -> str:
    return format_duration(seconds) if seconds > 0 else f"{seconds}s"


def _duration_or_off(rule: Field, value: Any) -> Any:
    if value is False or value == "off":
        return None
    if value is True:
        return _Problem("give a duration such as 300s, or off")
    return _duration(rule, value)


def _enum(rule: Field, value: Any) -> Any:
    if isinstance(value, str) and value in rule.enum:
        if rule.coerce is not None:
            return rule.coerce(value)
        if rule.key == "scheduler" and value in PORTABLE:
            return Scheduler(value)
        return value
    noun = rule.key.replace("_", " ")
    article = "an" if noun[0] in "aeiou" else "a"
    if isinstance(value, str):
        folded = {choice.lower(): choice for choice in rule.enum}
        if value.lower() in folded:
            return _Problem(
                f'"{value}" is not {article} {noun}; did you mean '
                f'"{folded[value.lower()]}"?'
            )
        if rule.target_values:
            return value  # perhaps a target's own: validate.py asks the target
    allowed = rule.enum_hint or choices_of(rule)
    if isinstance(value, str):
        return _Problem(f'"{_short(value)}" is not {article} {noun}; use {allowed}')
    return _Problem(f"{_what(value)} is not {article} {noun}; use {allowed}")


def _tags(rule: Field, value: Any) -> Any:
    if not isinstance(value, dict):
        return _Problem(f"tags are a map of key: value, not {_what(value)}")
    if len(value) > MAX_TAGS:
        return _Problem(f"at most {MAX_TAGS} tags are allowed; there are {len(value)}")
    pairs = []
    for key, raw in value.items():
        if isinstance(raw, bool | dict | list):
            return _Problem(f'the value of tag "{key}" must be text; put it in quotes')
        text = "" if raw is None else str(raw)
        problem = _tag_problem(key, text)
        if problem:
            return _Problem(problem)
        pairs.append((key, text))
    return tuple(sorted(pairs))


def _tag_problem(key: str, value: str) -> str:
    if key == OWNER_TAG:
        return f'the tag "{OWNER_TAG}" is slbsync\'s own ownership mark; choose another'
    if not key or len(key) > 64:
        return f'tag key "{_short(key)}" must have 1 to 64 characters'
    if len(value) > 128:
        return f'the value of tag "{key}" must have at most 128 characters'
    for text in (key, value):
        if text.startswith(("aliyun", "acs:")) or re.search(r"https?://", text):
            return (
                f'tag "{_short(text)}" may not start with aliyun or acs: nor '
                "contain http:// or https://"
            )
    return ""


def _text_list(rule: Field, value: Any) -> Any:
    items = value.split(",") if isinstance(value, str) else value
    kinds = _listing(rule.enum) if rule.enum else "text"
    if items == []:
        return _Problem(f"must list at least one item; leave {rule.key} out for none")
    if not isinstance(items, list):
        return _Problem(f"must be a list of {kinds}, not {_what(value)}")
    result = []
    for item in items:
        item = item.strip() if isinstance(item, str) else item
        if not rule.enum:
            # A list of free text (ids such as subnets): any non-empty text.
            if not isinstance(item, str) or not item:
                return _Problem(f"must be a list of text, not {_what(value)}")
        elif item not in rule.enum:
            return _Problem(f"{_what(item)} is not allowed; use {_listing(rule.enum)}")
        result.append(item)
    return tuple(sorted(set(result)))


_CONVERTERS: dict[Kind, Callable[[Field, Any], Any]] = {
    Kind.TEXT: _text,
    Kind.INT: _int,
    Kind.BOOL: _bool,
    Kind.DURATION: _duration,
    Kind.DURATION_OR_OFF: _duration_or_off,
    Kind.ENUM: _enum,
    Kind.TAGS: _tags,
    Kind.TEXT_LIST: _text_list,
}


def _is_kind(kind: Kind, value: Any) -> bool:
    if kind is Kind.BOOL:
        return isinstance(value, bool)
    return isinstance(value, str)


# -- wording ---------------------------------------------------------------------


def _listing(choices: Any) -> str:
    items = [str(choice) for choice in choices]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _what(value: Any) -> str:
    """How a wrong value is named in a message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f'"{_short(value)}"'
    return str(value)


def listing(choices: Any) -> str:
    """``a, b or c``: how messages list allowed values."""
    return _listing(choices)
