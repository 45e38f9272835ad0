"""Spec model objects as the YAML a person would write, defaults left out.

The spec's field tables (``spec.fields``) drive this, as they drive the
loader: each field is written under its spec key, only when its value is
not the model's default, with durations as ``5m`` and the shorthands the
loader accepts (``health_check: false``, ``acl: office``, a bare CIDR).
Keys keep the tables' order, so the same state always gives the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import yaml

from slbsync.spec import fields as f
from slbsync.spec.durations import format_duration
from slbsync.spec.model import (
    Acl,
    Certificate,
    HealthCheck,
    Listener,
    LoadBalancer,
    TargetSpec,
)


def spec_document(
    target: TargetSpec,
    load_balancers: Sequence[LoadBalancer],
    acls: Sequence[Acl] = (),
    certificates: Sequence[Certificate] = (),
) -> dict[str, Any]:
    """A whole spec document: the target, then what lives on it."""
    document: dict[str, Any] = {"targets": {target.name: target_document(target)}}
    if certificates:
        document["certificates"] = {
            c.name: object_document(f.CERTIFICATE, c) for c in certificates
        }
    if acls:
        document["acls"] = {acl.name: object_document(f.ACL, acl) for acl in acls}
    document["load_balancers"] = {
        lb.name: object_document(f.LOAD_BALANCER, lb)
        for lb in sorted(load_balancers, key=lambda lb: lb.name)
    }
    return document


def target_document(target: TargetSpec) -> dict[str, Any]:
    document: dict[str, Any] = {"type": target.type}
    for key in ("region", "endpoint", "profile", "lock"):
        value = getattr(target, key)
        if value is not None:
            document[key] = value
    document.update(dict(target.options))
    return _flow(document)


def object_document(shape: f.Shape, obj: Any) -> dict[str, Any]:
    """``obj`` under ``shape``'s keys, leaving out what equals the default."""
    document: dict[str, Any] = {}
    for field in shape.fields:
        value = getattr(obj, field.target_attr)
        if not field.required and _is_default(shape, field, obj, value):
            continue
        if shape is f.LISTENER and field.key == "health_check":
            document[field.key] = _health_check(obj)
        else:
            document[field.key] = _written(field, value)
    return document


def _health_check(listener: Listener) -> Any:
    """A listener's health check, its type left out where it is the protocol's."""
    check = listener.health_check
    if not check.enabled:
        return False
    document = object_document(f.HEALTH_CHECK, check)
    if document.get("type") == _default_check(listener).type:
        del document["type"]
    return _flow(document)


def render_yaml(document: dict[str, Any], header: str = "") -> str:
    """The document as YAML, small nested maps on one line."""
    body: str = yaml.dump(
        document,
        Dumper=_SpecDumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
    )
    return header + body


def _is_default(shape: f.Shape, field: f.Field, obj: Any, value: Any) -> bool:
    if value is None:
        return True
    if value == shape.default(field):
        return True
    # A health check's type defaults after its listener's protocol.
    if shape is f.LISTENER and field.key == "health_check":
        return bool(value == _default_check(obj))
    return False


def _default_check(listener: Listener) -> HealthCheck:
    kind = f.HEALTH_CHECK_TYPES_BY_PROTOCOL[str(listener.protocol)][0]
    return replace(HealthCheck(), type=kind)


def _written(field: f.Field, value: Any) -> Any:
    kind = field.kind
    if kind == f.Kind.DURATION:
        return format_duration(value) if isinstance(value, int) else value
    if kind == f.Kind.DURATION_OR_OFF:
        return "off" if value is None else format_duration(value)
    if kind == f.Kind.ENUM:
        return str(value)
    if kind == f.Kind.TAGS:
        return {str(k): str(v) for k, v in value}
    if kind == f.Kind.TEXT_LIST:
        return [str(item) for item in value]
    if kind == f.Kind.OBJECT:
        assert field.shape is not None
        return _nested(field.shape, value)
    if kind == f.Kind.LIST:
        assert field.shape is not None
        shape = field.shape
        return [_nested(shape, item) for item in value]
    if kind == f.Kind.MAP:
        assert field.shape is not None
        return {item.name: object_document(field.shape, item) for item in value}
    return value


def _nested(shape: f.Shape, value: Any) -> Any:
    """A nested object, as its shorthand where the loader takes one."""
    document = object_document(shape, value)
    if shape.shorthand is not None:
        key = shape.shorthand_key
        if set(document) <= {key}:
            if key in document:
                return document[key]
            return getattr(value, _attr(shape, key))
    if not document and shape.fields:
        # Everything default, but the object is there: say so with its
        # first field (``sticky_session: {type: insert}``).
        first = shape.fields[0]
        document[first.key] = _written(first, getattr(value, first.target_attr))
    return _flow(document)


def _attr(shape: f.Shape, key: str) -> str:
    field = shape.field(key)
    return field.target_attr if field is not None else key


class FlowMap(dict[str, Any]):
    """A small map written on one line: ``- {id: i-1, port: 8080}``."""


def _flow(document: dict[str, Any]) -> dict[str, Any]:
    leaf = 0 < len(document) <= 5 and all(
        isinstance(v, str | int | float | bool) for v in document.values()
    )
    return FlowMap(document) if leaf else document


class _SpecDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, ``FlowMap`` on one line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, data: FlowMap) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_SpecDumper.add_representer(FlowMap, _represent_flow)
