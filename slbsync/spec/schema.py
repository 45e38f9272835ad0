"""The JSON Schema of a spec, generated from the loader's own field tables.

Editors that read ``specs/schema.json`` (VS Code's YAML extension, JetBrains
IDEs) complete field names and enum values and flag wrong types as you type.
The schema is generated, never written by hand, so it says what the loader
accepts; a test checks the committed file against this code.

Run ``python -m slbsync.spec.schema`` to print it, ``--write PATH`` to save it.
"""

from __future__ import annotations

import enum
import json
import sys
from typing import Any

from slbsync.spec import fields as f
from slbsync.spec.durations import DURATION_PATTERN
from slbsync.spec.target_terms import (
    description_of,
    field_protocols_by_type,
    values_of,
)

SCHEMA_PATH = "specs/schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def build_schema() -> dict[str, Any]:
    """The whole schema as a JSON-ready dict."""
    definitions: dict[str, Any] = {}
    properties = {}
    for section, shape in f.SECTIONS.items():
        properties[section] = {
            "type": ["object", "null"],
            "description": f.SECTION_DESCRIPTIONS[section],
            "propertyNames": {"pattern": f.NAME_PATTERN},
            "additionalProperties": _reference(shape, definitions),
        }
    return {
        "$schema": DRAFT,
        "title": "slbsync spec",
        "description": "Load balancers, their listeners and servers, and the "
        "targets they live on. Files and folders of these documents are merged.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "patternProperties": {f"^{f.EXTENSION_PREFIX}": {}},
        "$defs": dict(sorted(definitions.items())),
    }


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def _reference(shape: f.Shape, definitions: dict[str, Any]) -> dict[str, Any]:
    name = _definition_name(shape)
    if name not in definitions:
        definitions[name] = {}  # reserve first: shapes may refer to each other
        definitions[name] = _object(shape, definitions)
    return {"$ref": f"#/$defs/{name}"}


def _definition_name(shape: f.Shape) -> str:
    if shape.model is not None:
        return shape.model.__name__
    return "".join(word.capitalize() for word in shape.name.split())


def _object(shape: f.Shape, definitions: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": shape.description,
        "properties": {
            rule.key: _property(shape, rule, definitions) for rule in shape.fields
        },
        "additionalProperties": shape.open,
    }
    required = [rule.key for rule in shape.fields if rule.required]
    if required:
        schema["required"] = required
    if shape is f.LISTENER:
        schema["allOf"] = _protocol_knobs()
    if shape.shorthand is not None:
        short = {"type": "string" if shape.shorthand is f.Kind.TEXT else "boolean"}
        return {"description": shape.description, "anyOf": [short, schema]}
    return schema


def _protocol_knobs() -> list[dict[str, Any]]:
    """Per protocol, the listener knobs it does not take, so editors flag them.

    A knob some target takes on more protocols is let through on those for
    every target (a schema cannot follow a listener to its target's type);
    the loader then refuses it on the other targets.
    """
    rules = []
    for protocol in f.PROTOCOLS:
        refused = {
            rule.key: False
            for rule in f.LISTENER.fields
            if rule.protocols and protocol not in _any_target_takes(rule)
        }
        rules.append(
            {
                "if": {
                    "properties": {"protocol": {"const": protocol}},
                    "required": ["protocol"],
                },
                "then": {"properties": refused},
            }
        )
    return rules


def _any_target_takes(rule: f.Field) -> set[str]:
    extras = field_protocols_by_type(rule.key).values()
    return set(rule.protocols).union(*extras)


def _and(items: tuple[str, ...]) -> str:
    return " and ".join(filter(None, (", ".join(items[:-1]), items[-1])))


def _property(shape: f.Shape, rule: f.Field, definitions: dict[str, Any]) -> Any:
    schema = _value_schema(rule, definitions)
    description = description_of(rule, shape)
    if rule.protocols:
        extras = "".join(
            f"; on {kind} also {_and(protocols)}"
            for kind, protocols in field_protocols_by_type(rule.key).items()
        )
        description += f" ({' and '.join(rule.protocols)} listeners only{extras}.)"
    schema = {"description": description, **schema}
    default = _json_default(shape.default(rule))
    if default is not None:
        schema["default"] = default
    return schema


def _value_schema(rule: f.Field, definitions: dict[str, Any]) -> dict[str, Any]:
    kind = rule.kind
    if kind is f.Kind.TEXT and rule.pattern is not None:
        return {"anyOf": [_text(rule), _FROM_ENVIRONMENT]}
    if kind is f.Kind.TEXT:
        return _text(rule)
    if kind is f.Kind.INT:
        return {"anyOf": [_bounded({"type": "integer"}, rule), _FROM_ENVIRONMENT]}
    if kind is f.Kind.BOOL:
        return {"type": "boolean"}
    if kind is f.Kind.ENUM:
        return {"type": "string", "enum": list(values_of(rule))}
    if kind in (f.Kind.DURATION, f.Kind.DURATION_OR_OFF):
        return _duration(rule)
    if kind is f.Kind.TAGS:
        return {
            "type": "object",
            "maxProperties": 20,
            "propertyNames": {"minLength": 1, "maxLength": 64},
            "additionalProperties": {"type": ["string", "number", "null"]},
        }
    if kind is f.Kind.TEXT_LIST:
        items: dict[str, Any] = {"type": "string", "minLength": 1}
        if rule.enum:
            items = {"type": "string", "enum": list(rule.enum)}
        return {"anyOf": [{"type": "array", "items": items, "minItems": 1}, items]}
    assert rule.shape is not None
    inner = _reference(rule.shape, definitions)
    if kind is f.Kind.LIST:
        return {"type": "array", "items": inner}
    if kind is f.Kind.MAP:
        return {
            "type": "object",
            "propertyNames": {"pattern": f.NAME_PATTERN},
            "additionalProperties": inner,
        }
    return inner


# ``port: ${PORT}`` is a number once loaded; editors see the reference.
_FROM_ENVIRONMENT = {"type": "string", "pattern": f.ENV_REFERENCE_PATTERN}


def _text(rule: f.Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if rule.min_length is not None:
        schema["minLength"] = rule.min_length
    if rule.max_length is not None:
        schema["maxLength"] = rule.max_length
    if rule.pattern is not None:
        schema["pattern"] = rule.pattern
    return schema


def _bounded(schema: dict[str, Any], rule: f.Field) -> dict[str, Any]:
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.maximum is not None:
        schema["maximum"] = rule.maximum
    return schema


def _duration(rule: f.Field) -> dict[str, Any]:
    forms: list[dict[str, Any]] = [
        _bounded({"type": "integer"}, rule),
        {"type": "string", "pattern": DURATION_PATTERN},
        _FROM_ENVIRONMENT,
    ]
    if rule.kind is f.Kind.DURATION_OR_OFF:
        forms.append({"enum": ["off", False]})
    return {"anyOf": forms}


def _json_default(value: Any) -> Any:
    if value is f.NO_DEFAULT or value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return None  # nested objects: their own fields carry the defaults


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render_schema()
    if args[:1] == ["--write"]:
        path = args[1] if len(args) > 1 else SCHEMA_PATH
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        print(f"wrote {path}")
        return 0
    if args:
        print("usage: python -m slbsync.spec.schema [--write [PATH]]", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
