"""Saved plans: apply exactly what was reviewed, or refuse.

A saved plan holds the spec documents it was made from and a fingerprint of
each target's live state. ``apply --plan`` reads the live state again; if a
fingerprint moved, the plan is stale. Otherwise it plans again from the
saved documents and refuses if the changes are not the saved ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slbsync.errors import PlanError, StalePlanError
from slbsync.plan.document import FORMAT_VERSION, change_document, plan_document
from slbsync.plan.model import Plan
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file, as plain data."""

    path: str
    document: dict[str, Any]

    @property
    def documents(self) -> list[tuple[str, dict[str, Any]]]:
        """The spec documents, as ``load_spec_documents`` takes them."""
        return [(d["source"], d["data"]) for d in self.document["documents"]]

    @property
    def prune(self) -> bool:
        return bool(self.document.get("prune", False))

    def fingerprints(self) -> dict[str, str]:
        return {t["target"]: t["live_fingerprint"] for t in self.document["targets"]}

    def changes(self) -> dict[str, list[dict[str, Any]]]:
        return {t["target"]: t["changes"] for t in self.document["targets"]}


def save_plan(
    plan: Plan, path: str | Path, *, max_removal: float = DEFAULT_MAX_REMOVAL
) -> None:
    """Write ``plan`` to ``path`` atomically (a reader never sees half a plan)."""
    document = plan_document(plan, saved=True, max_removal=max_removal)
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent or ".", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
    os.replace(temporary, target)


def load_saved_plan(path: str | Path) -> SavedPlan:
    """Read a saved plan, with a clear error for anything that is not one."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as err:
        raise PlanError(f"{path}: cannot read the saved plan: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise PlanError(
            f"{path}:{err.lineno}:{err.colno}: not a saved plan (invalid JSON: "
            f"{err.msg}); save one with slbsync plan --out"
        ) from err
    if not isinstance(document, dict) or "documents" not in document:
        raise PlanError(
            f"{path}: not a saved plan (no spec documents in it); "
            "save one with slbsync plan --out"
        )
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanError(
            f"{path}: saved plan format {version} is not {FORMAT_VERSION}, the one "
            "this slbsync reads; make the plan again with this version"
        )
    return SavedPlan(str(path), document)


def check_fresh(saved: SavedPlan, fresh: Plan) -> None:
    """Refuse ``fresh`` unless it is the saved plan against an unmoved state.

    Raises ``StalePlanError`` when a live fingerprint moved, ``PlanError``
    when the same spec and state now give other changes (a new slbsync, a
    target that plans differently).
    """
    saved_prints = saved.fingerprints()
    for part in fresh.targets:
        before = saved_prints.get(part.target)
        if before is None:
            raise PlanError(
                f"{saved.path}: target {part.target} is not in the saved plan; "
                "run slbsync plan --out again"
            )
        if before != part.live_fingerprint:
            raise StalePlanError(saved.path, before, part.live_fingerprint)

    saved_changes = saved.changes()
    for part in fresh.targets:
        now = [change_document(c, saved=True) for c in part.changes]
        if now != saved_changes.get(part.target, []):
            raise PlanError(
                f"{saved.path}: planning the saved spec again gives other changes "
                f"for target {part.target} ({len(now)} now, "
                f"{len(saved_changes.get(part.target, []))} saved); "
                "run slbsync plan --out again and review it"
            )
