"""Classify a comparison's differences as drift: modified, missing, unexpected.

Drift is what changed live behind slbsync's back, so it is read from the
same comparison a plan makes, with ``prune`` on (an unexpected listener or
group on an owned load balancer is drift even when apply would not delete
it), and then narrowed to what a person should hear about:

- unexpected *top-level* resources (an owned load balancer, ACL or
  certificate that the spec does not name) are left out: they are
  resources the spec stopped naming, or that another spec file names,
  not hand edits; ``plan --prune`` is where they show;
- a difference under a missing parent (the listeners of a deleted load
  balancer, the servers of a deleted group) folds into that parent, so a
  deleted load balancer is one missing item, not fifty.

Membership churn of ``discovered`` and ``external`` groups never reaches
here: ``diff.compare`` gives their servers no differences without a
discovery hook, and drift passes none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus

TOP_LEVEL = (ResourceKind.LOAD_BALANCER, ResourceKind.ACL, ResourceKind.CERTIFICATE)


@dataclass(frozen=True, order=True)
class DriftItem:
    """One resource that is not live as the spec says.

    ``fields`` hold ``old`` as live and ``new`` as the spec has it.
    """

    address: ResourceAddress
    status: DifferenceStatus
    fields: tuple[FieldChange, ...] = ()
    live_id: str | None = None

    @property
    def kind(self) -> ResourceKind:
        return self.address.kind

    def to_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "target": self.address.target,
            "load_balancer": self.address.load_balancer,
            "kind": str(self.address.kind),
            "name": self.address.name,
            "live_id": self.live_id,
            "fields": [
                {"field": f.field, "spec": _plain(f.new), "live": _plain(f.old)}
                for f in self.fields
            ],
        }


def classify(differences: Iterable[Difference]) -> tuple[DriftItem, ...]:
    """The drift in ``differences`` (a ``compare(..., prune=True)``), sorted."""
    differences = list(differences)
    missing = {
        _scope(diff.address)
        for diff in differences
        if diff.status == DifferenceStatus.MISSING
    }
    items = []
    for diff in differences:
        if diff.status == DifferenceStatus.UNEXPECTED and diff.kind in TOP_LEVEL:
            continue
        if any(parent in missing for parent in _parents(diff.address)):
            continue
        items.append(DriftItem(diff.address, diff.status, diff.fields, diff.live_id))
    return tuple(sorted(items))


def _scope(address: ResourceAddress) -> tuple[str, ...]:
    """A resource as a path: (target, load balancer, kind, name)."""
    return (address.target, address.load_balancer, str(address.kind), address.name)


def _parents(address: ResourceAddress) -> list[tuple[str, ...]]:
    """The resources whose absence takes ``address`` along."""
    target, lb, kind = address.target, address.load_balancer, address.kind
    if not lb or kind == ResourceKind.LOAD_BALANCER:
        return []
    parents: list[tuple[str, ...]] = [(target, lb, str(ResourceKind.LOAD_BALANCER), lb)]
    if kind == ResourceKind.SERVERS:
        group = address.name.split("/", 1)[0]
        parents.append((target, lb, str(ResourceKind.SERVER_GROUP), group))
    if kind == ResourceKind.RULE:
        listener = "/".join(address.name.split("/")[:2])
        parents.append((target, lb, str(ResourceKind.LISTENER), listener))
    return parents


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
