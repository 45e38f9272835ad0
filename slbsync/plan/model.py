"""The plan: ordered changes per target, and what they were computed from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from slbsync.diff.changes import Change, ChangeOp, ResourceKind


@dataclass(frozen=True)
class ServerRemoval:
    """How many of a group's live servers a plan removes."""

    group: str  # "<load balancer>/<group>"
    removed: int
    total: int

    @property
    def share(self) -> float:
        return self.removed / self.total if self.total else 0.0


@dataclass(frozen=True)
class SafetyFacts:
    """What the safety check weighs: removals, listener and protected deletes."""

    server_removals: tuple[ServerRemoval, ...] = ()
    listener_deletes: tuple[str, ...] = ()  # "<load balancer> <protocol>/<port>"
    protected_deletes: tuple[str, ...] = ()  # load balancers with delete protection


@dataclass(frozen=True)
class TargetPlan:
    """The changes for one target and the live state they were made against."""

    target: str
    facts: tuple[tuple[str, Any], ...]  # Target.describe(): type, region, ...
    changes: tuple[Change, ...]
    reads: tuple[tuple[str, int], ...]
    live_fingerprint: str
    skipped: tuple[str, ...] = ()
    safety: SafetyFacts = SafetyFacts()
    # Live ids of the load balancers the changes touch, for people reading.
    load_balancer_ids: tuple[tuple[str, str], ...] = ()

    @property
    def read_calls(self) -> int:
        return sum(count for _, count in self.reads)


@dataclass(frozen=True)
class Plan:
    """Every target's changes, in the order they will be applied."""

    targets: tuple[TargetPlan, ...]
    created: str  # ISO 8601, UTC
    version: str  # the slbsync version that made it
    prune: bool = False
    sources: tuple[str, ...] = ()
    # The spec documents it was made from, as (source file, data), for saved plans.
    documents: tuple[tuple[str, dict[str, Any]], ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(change for part in self.targets for change in part.changes)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def target(self, name: str) -> TargetPlan | None:
        return next((part for part in self.targets if part.target == name), None)

    @property
    def write_calls(self) -> int:
        return len(self.changes)

    @property
    def read_calls(self) -> int:
        return sum(part.read_calls for part in self.targets)

    def reads_by_action(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for part in self.targets:
            for action, count in part.reads:
                total[action] += count
        return dict(total)

    def counts(self) -> dict[str, int]:
        """Resources to add, change and delete, as people count them.

        A listener's start and a group's servers belong to the listener or
        group: creating a group with servers is one add, and adding servers
        to a group is one change of it. A replacement is one add and one
        delete.
        """
        created: set[tuple[str, ...]] = set()
        deleted: set[tuple[str, ...]] = set()
        touched: set[tuple[str, ...]] = set()
        for change in self.changes:
            key, own = resource_of(change)
            touched.add(key)
            if own and change.op == ChangeOp.CREATE:
                created.add(key)
            elif own and change.op == ChangeOp.DELETE:
                deleted.add(key)
        changed = touched - created - deleted
        return {"add": len(created), "change": len(changed), "delete": len(deleted)}


def resource_of(change: Change) -> tuple[tuple[str, ...], bool]:
    """The resource a change belongs to, and whether it is that resource itself."""
    address = change.address
    kind, name = address.kind, address.name
    if kind == ResourceKind.SERVERS:
        return (
            address.target,
            address.load_balancer,
            "server_group",
            _group(name),
        ), False
    if kind == ResourceKind.LISTENER_STATE:
        return (address.target, address.load_balancer, "listener", name), False
    return (address.target, address.load_balancer, str(kind), name), True


def _group(name: str) -> str:
    return name.split("/", 1)[0]
