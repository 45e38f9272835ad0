"""Tags on every kind of SLB resource, as ``TagResources`` sees them.

A listener's resource id is ``<lbId>_<protocol>_<port>`` (``lb-xxx_http_80``),
as the SDK's TagResources documentation spells it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import ApiError
from slbsync.emulator.state.store import Store

TABLE = "tags"
RESOURCE_TYPES = (
    "instance",
    "certificate",
    "acl",
    "listener",
    "vservergroup",
    "masterslaveservergroup",
)
MAX_TAGS_PER_RESOURCE = 20
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 128
_RESERVED_PREFIXES = ("aliyun", "acs:")
_FORBIDDEN_PARTS = ("http://", "https://")


@dataclass
class TagRecord:
    resource_type: str
    resource_id: str
    tags: dict[str, str] = field(default_factory=dict)


def _table(store: Store) -> dict[str, TagRecord]:
    return store.table(TABLE, TagRecord)


def _key(resource_type: str, resource_id: str) -> str:
    return f"{resource_type}:{resource_id}"


def check_tags(pairs: list[tuple[str, str]]) -> None:
    """Refuse tags the cloud refuses: too many, bad keys or values, repeats."""
    if len(pairs) > MAX_TAGS_PER_RESOURCE:
        raise ApiError(
            "TagCountLimit",
            f"The number of tags exceeds the limit of {MAX_TAGS_PER_RESOURCE}.",
        )
    seen: set[str] = set()
    for key, value in pairs:
        _check_text("TagKey", key, 1, MAX_KEY_LENGTH)
        _check_text("TagValue", value, 0, MAX_VALUE_LENGTH)
        if key in seen:
            raise ApiError("InvalidParameter", f"The tag key {key} is repeated.")
        seen.add(key)


def _check_text(name: str, text: str, shortest: int, longest: int) -> None:
    code = f"Invalid{name}.Malformed"
    if not shortest <= len(text) <= longest:
        raise ApiError(
            code, f"The {name} {text!r} must be {shortest}-{longest} characters long."
        )
    lowered = text.lower()
    if lowered.startswith(_RESERVED_PREFIXES):
        raise ApiError(code, f"The {name} {text!r} must not start with aliyun or acs:.")
    if any(part in lowered for part in _FORBIDDEN_PARTS):
        raise ApiError(
            code, f"The {name} {text!r} must not contain http:// or https://."
        )


def check_resource_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_TYPES:
        raise ApiError(
            "InvalidParameter",
            f"The specified parameter ResourceType {resource_type!r} is not valid. "
            f"Valid values: {', '.join(RESOURCE_TYPES)}.",
        )


def set_tags(
    store: Store, resource_type: str, resource_id: str, pairs: list[tuple[str, str]]
) -> None:
    """Add or overwrite tags; the resource may hold at most 20."""
    if not pairs:
        return
    check_tags(pairs)
    record = _table(store).get(_key(resource_type, resource_id))
    current = dict(record.tags) if record else {}
    current.update(pairs)
    if len(current) > MAX_TAGS_PER_RESOURCE:
        raise ApiError(
            "TagCountLimit",
            f"The resource {resource_id} would hold {len(current)} tags; "
            f"at most {MAX_TAGS_PER_RESOURCE} are allowed.",
        )
    _table(store)[_key(resource_type, resource_id)] = TagRecord(
        resource_type, resource_id, current
    )


def remove_tags(
    store: Store, resource_type: str, resource_id: str, keys: list[str]
) -> None:
    record = _table(store).get(_key(resource_type, resource_id))
    if record is None:
        return
    for key in keys:
        record.tags.pop(key, None)
    if not record.tags:
        del _table(store)[_key(resource_type, resource_id)]


def remove_all_tags(store: Store, resource_type: str, resource_id: str) -> None:
    _table(store).pop(_key(resource_type, resource_id), None)


def remove_tags_where(
    store: Store, resource_type: str, doomed: Callable[[str], bool]
) -> None:
    """Drop the tags of every resource of a type whose id ``doomed`` picks."""
    table = _table(store)
    for key in [
        key
        for key, record in table.items()
        if record.resource_type == resource_type and doomed(record.resource_id)
    ]:
        del table[key]


def tags_of(
    store: Store, resource_type: str, resource_id: str
) -> list[tuple[str, str]]:
    record = _table(store).get(_key(resource_type, resource_id))
    return sorted(record.tags.items()) if record else []


def tagged_resources(store: Store, resource_type: str) -> list[TagRecord]:
    """Every resource of a type holding at least one tag, sorted by id."""
    records = [r for r in _table(store).values() if r.resource_type == resource_type]
    return sorted(records, key=lambda record: record.resource_id)


def has_tags(
    store: Store,
    resource_type: str,
    resource_id: str,
    wanted: list[tuple[str, str | None]],
) -> bool:
    """Whether the resource carries every wanted tag (value None: any value)."""
    record = _table(store).get(_key(resource_type, resource_id))
    held = record.tags if record else {}
    return all(
        key in held and (value is None or held[key] == value) for key, value in wanted
    )


def tags_body(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"Tag": [{"TagKey": key, "TagValue": value} for key, value in pairs]}
