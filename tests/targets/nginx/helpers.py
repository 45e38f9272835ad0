"""Helpers for the nginx target's tests: build specs, plan and apply them."""

from __future__ import annotations

from slbsync.diff.changes import Change
from slbsync.diff.compare import compare
from slbsync.diff.order import order_by_dependency
from slbsync.spec.model import LoadBalancer, Spec
from slbsync.targets.nginx.lab import LabNginx
from slbsync.targets.nginx.target import NginxTarget


def spec_for(lab: LabNginx, *lbs: LoadBalancer, **options: object) -> Spec:
    target = lab.target_spec("edge", **options)
    return Spec(targets=(target,), load_balancers=lbs)


def sync(spec: Spec, prune: bool = False) -> list[Change]:
    """plan then apply, as the CLI does: read, compare, changes, apply, commit."""
    target = NginxTarget(spec.targets[0])
    live = target.read_live_state(spec)
    differences = compare(spec, live, target, prune=prune).differences
    changes = order_by_dependency(target.changes_for(differences, live))
    for change in changes:
        target.apply_change(change)
    if changes:
        target.commit()
    return changes


def plan(spec: Spec, prune: bool = False) -> list[Change]:
    target = NginxTarget(spec.targets[0])
    live = target.read_live_state(spec)
    differences = compare(spec, live, target, prune=prune).differences
    return target.changes_for(differences, live)
