"""Changes: one Create, Update or Delete of one resource.

A change is what a plan lists and what a target carries out. For the cloud
target one change is one API call (``action``); for on-prem targets it is
one operation (a runtime API command, or a step of a render and reload).
Changes are frozen and JSON-friendly so plans are deterministic and can be
saved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slbsync.spec.plain import to_plain


class ChangeOp(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ResourceKind(StrEnum):
    """What a change touches; also the dependency rank used for ordering."""

    LOAD_BALANCER = "load_balancer"
    CERTIFICATE = "certificate"
    ACL = "acl"
    SERVER_GROUP = "server_group"
    SERVERS = "servers"  # members of a server group, in batches
    LISTENER = "listener"
    RULE = "rule"
    LISTENER_STATE = "listener_state"  # start or stop a listener


@dataclass(frozen=True, order=True)
class ResourceAddress:
    """Names a resource within a target, e.g. ``chat-gateway listener tcp/443``."""

    target: str
    load_balancer: str  # "" for regional resources (ACLs, certificates)
    kind: ResourceKind
    name: str  # "tcp/443", "ws-nodes", "office-acl"

    def __str__(self) -> str:
        scope = f"{self.load_balancer} " if self.load_balancer else ""
        return f"{scope}{self.kind.replace('_', ' ')} {self.name}"


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value, in the spec's vocabulary."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One resource change and the call that carries it out.

    ``payload`` holds what the target needs to make the call, as plain
    JSON-compatible values (never a secret: a certificate's private key is
    read from its file at apply time). ``live_id`` is the cloud id when the
    resource exists already. ``replacement`` marks a delete or create that
    is half of a replacement the API forces (a listener's protocol).
    """

    op: ChangeOp
    address: ResourceAddress
    action: str
    fields: tuple[FieldChange, ...] = ()
    live_id: str | None = None
    payload: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    replacement: bool = False
    note: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.payload).get(key, default)

    @property
    def summary(self) -> str:
        return f"{self.op} {self.address} ({self.action})"

    def to_json(self) -> dict[str, Any]:
        """The change as the stable JSON shape of plans (see docs/plan-json.md)."""
        return {
            "op": str(self.op),
            "target": self.address.target,
            "load_balancer": self.address.load_balancer,
            "kind": str(self.address.kind),
            "name": self.address.name,
            "action": self.action,
            "live_id": self.live_id,
            "replacement": self.replacement,
            "note": self.note,
            "fields": [
                {"field": f.field, "old": f.old, "new": f.new} for f in self.fields
            ],
        }


def payload_of(**values: Any) -> tuple[tuple[str, Any], ...]:
    """Build a change payload from keyword arguments, sorted for stability."""
    return tuple(sorted(values.items()))


def call_change(
    op: ChangeOp,
    address: ResourceAddress,
    action: str,
    params: dict[str, Any],
    *,
    fields: Sequence[FieldChange] = (),
    live_id: str | None = None,
    replacement: bool = False,
    note: str = "",
    **extra: Any,
) -> Change:
    """A change that is one cloud call: its payload holds the call's
    parameters and whatever context the target needs to carry it out."""
    return Change(
        op=op,
        address=address,
        action=action,
        fields=tuple(fields),
        live_id=live_id,
        payload=payload_of(params=_json_plain(params), **_json_plain(extra)),
        replacement=replacement,
        note=note,
    )


def _json_plain(value: Any) -> Any:
    """JSON-compatible: the payload of a saved plan must round-trip."""
    return json.loads(json.dumps(to_plain(value)))
