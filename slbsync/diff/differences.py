"""Differences: how one resource's live state differs from its spec.

``diff.compare`` finds differences in a target-neutral way; the target then
turns them into changes (calls) with ``Target.changes_for``, and drift
detection reports them as they are. A difference is one of:

- ``missing``: in the spec, not live (a create);
- ``modified``: both, with field differences (an update, or a replacement
  where the target's API allows no update);
- ``unexpected``: live and owned, not in the spec (a delete, with --prune).

A rule whose place in its listener differs, where the target says rule
order matters, is ``modified`` with a ``position`` field.

Servers are compared one by one (kind ``SERVERS``, name
``"<group>/<server label>"``); the target batches them into calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind

RULE_POSITION = "position"
"""The field of a rule out of the spec's order, on a target where order is
behaviour: its 1-based place among the rules both sides have (live -> spec)."""


class DifferenceStatus(StrEnum):
    MISSING = "missing"
    MODIFIED = "modified"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class Difference:
    """One resource whose live state is not what the spec says.

    ``desired`` and ``live`` are spec-model objects (``LoadBalancer``,
    ``Listener``, ``ServerGroup``, ``Server``, ``ForwardingRule``, ``Acl``,
    ``Certificate``), ``None`` where the resource is absent on that side.
    For a load balancer, ``fields`` covers only its own attributes, never
    its listeners or groups, which get differences of their own.
    """

    status: DifferenceStatus
    address: ResourceAddress
    desired: Any = None
    live: Any = None
    fields: tuple[FieldChange, ...] = ()
    live_id: str | None = None

    @property
    def kind(self) -> ResourceKind:
        return self.address.kind

    def field_names(self) -> tuple[str, ...]:
        return tuple(change.field for change in self.fields)
