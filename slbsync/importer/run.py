"""Import: find load balancers, read them whole, write them as a spec.

What is written is checked the way a user would: the file is loaded as a
spec and planned against the same live state. A plan with changes means
the file is not a faithful copy, which import treats as its own bug and
refuses rather than writes. With ``adopt``, load balancers slbsync does not
own yet are tagged as owned through the plan and apply path (the only
changes such a plan may hold), so later applies may change them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slbsync.apply.runner import PlanRunner
from slbsync.diff.changes import Change, ResourceKind
from slbsync.diff.compare import compare
from slbsync.errors import SlbsyncError
from slbsync.importer.document import render_yaml, spec_document
from slbsync.membership.locks import lock_factory
from slbsync.plan.make import make_plan, read_with_retries
from slbsync.plan.model import Plan
from slbsync.spec.load import load_spec_documents
from slbsync.spec.model import Spec, TargetSpec
from slbsync.targets.base import Target
from slbsync.targets.registry import make_target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportFilters:
    names: tuple[str, ...] = ()  # globs
    tags: tuple[tuple[str, str], ...] = ()
    ids: tuple[str, ...] = ()


@dataclass
class ImportResult:
    text: str  # the spec, as YAML
    load_balancers: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    not_owned: list[str] = field(default_factory=list)
    read_calls: int = 0


def import_spec(
    target_spec: TargetSpec,
    filters: ImportFilters,
    *,
    adopt: bool = False,
    lock_dir: Path | None = None,
    header: str = "",
) -> ImportResult:
    """The spec of the live load balancers ``filters`` match, checked."""
    target = make_target(target_spec)
    hooks = _import_hooks(target)
    found = hooks.find_load_balancers(
        target, names=filters.names, tags=filters.tags, ids=filters.ids
    )
    if not found:
        where = target_spec.region or "the default region"
        raise SlbsyncError(f"no load balancer in {where} matches {_said(filters)}")
    live = hooks.read_for_import(target, found, Spec(targets=(target_spec,)))
    lbs = [item.spec for item in live.load_balancers]
    hooks.check_importable(live.load_balancers)
    acls = [item.acl for item in live.acls]
    unowned = sorted(item.spec.name for item in live.load_balancers if not item.owned)

    result = ImportResult(
        text="",
        load_balancers=sorted(lb.name for lb in lbs),
        read_calls=live.read_calls,
    )
    if adopt and unowned:
        adopting = [replace(lb, adopt=lb.name in unowned) for lb in lbs]
        document = spec_document(target_spec, adopting, acls)
        _adopt(document, target, lock_dir)
        result.adopted = unowned
    else:
        result.not_owned = unowned
    document = spec_document(target_spec, lbs, acls)
    _check_round_trip(document, target)
    result.text = render_yaml(document, header)
    return result


def _import_hooks(target: Target) -> Any:
    """The module that lists and reads load balancers for ``target``'s type."""
    own = target.importer()
    if own is None:
        raise SlbsyncError(f"import cannot read {target.type_name} targets")
    return own


def _adopt(document: dict[str, object], target: Target, lock_dir: Path | None) -> None:
    """Tag the load balancers the document adopts, through plan and apply."""
    plan = _plan(document, target)
    others = [c for c in plan.changes if not _is_adoption(c)]
    if others:
        raise SlbsyncError(_not_faithful(others))

    locks = lock_factory(lock_dir)
    report = PlanRunner({target.name: target}, locks=locks).run(plan)
    report.raise_for_failures()
    for change in plan.changes:
        log.info("import: adopted=%s", change.address.load_balancer)


def _check_round_trip(document: dict[str, object], target: Target) -> None:
    # The plan's own steps, without its log lines about load balancers left
    # alone: the summary says that once.
    spec = _spec_of(document)
    live = read_with_retries(target, spec)
    differences = compare(spec, live, target).differences
    changes = target.changes_for(differences, live)
    if changes:
        raise SlbsyncError(_not_faithful(changes))


def _plan(document: dict[str, object], target: Target) -> Plan:
    return make_plan(_spec_of(document), [target])


def _spec_of(document: dict[str, object]) -> Spec:
    return load_spec_documents([("<imported spec>", dict(document))])


def _is_adoption(change: Change) -> bool:
    return change.address.kind == ResourceKind.LOAD_BALANCER and [
        f.field for f in change.fields
    ] == ["owned"]


def _not_faithful(changes: Sequence[Change]) -> str:
    listed = "\n  ".join(
        f"{c.summary}: "
        + ", ".join(f"{f.field} {f.old!r} -> {f.new!r}" for f in c.fields)
        for c in changes[:10]
    )
    return (
        "the imported spec would not plan clean, so it was not written "
        f"(a bug in import; please report it with these changes):\n  {listed}"
    )


def _said(filters: ImportFilters) -> str:
    parts = [f"--name {g}" for g in filters.names]
    parts += [f"--tag {k}={v}" for k, v in filters.tags]
    parts += [f"--id {i}" for i in filters.ids]
    return " ".join(parts) or "(no filter: the region has none)"
