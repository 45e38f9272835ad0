"""The plan as a JSON document: the stable shape described in docs/plan-json.md."""

from __future__ import annotations

import json
from typing import Any

from slbsync.diff.changes import Change
from slbsync.plan.model import Plan, TargetPlan
from slbsync.plan.safety import (
    DEFAULT_MAX_REMOVAL,
    protection_problems,
    safety_problems,
)

FORMAT_VERSION = 1
"""Bumped on any change that could break a reader; fields are only added within one."""


def plan_document(
    plan: Plan, *, saved: bool = False, max_removal: float = DEFAULT_MAX_REMOVAL
) -> dict[str, Any]:
    """``plan`` as plain data; ``saved`` adds what ``apply --plan`` needs."""
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "slbsync_version": plan.version,
        "created": plan.created,
        "prune": plan.prune,
        "sources": list(plan.sources),
        "summary": {
            **plan.counts(),
            "write_calls": plan.write_calls,
            "read_calls": plan.read_calls,
            "reads": plan.reads_by_action(),
        },
        "needs_force": safety_problems(plan, max_removal=max_removal),
        "refused": protection_problems(plan),
        "targets": [_target(part, saved=saved) for part in plan.targets],
    }
    if saved:
        document["documents"] = plain_json(
            [{"source": source, "data": data} for source, data in plan.documents]
        )
    return document


def change_document(change: Change, *, saved: bool = False) -> dict[str, Any]:
    document = change.to_json()
    if saved:
        document["payload"] = dict(change.payload)
    plain: dict[str, Any] = plain_json(document)
    return plain


def plain_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(value, default=str))


def _target(part: TargetPlan, *, saved: bool) -> dict[str, Any]:
    return {
        "target": part.target,
        "facts": plain_json(dict(part.facts)),
        "live_fingerprint": part.live_fingerprint,
        "load_balancer_ids": dict(part.load_balancer_ids),
        "reads": dict(part.reads),
        "read_calls": part.read_calls,
        "skipped": list(part.skipped),
        "safety": {
            "server_removals": [
                {"group": r.group, "removed": r.removed, "total": r.total}
                for r in part.safety.server_removals
            ],
            "listener_deletes": list(part.safety.listener_deletes),
            "protected_deletes": list(part.safety.protected_deletes),
        },
        "changes": [change_document(c, saved=saved) for c in part.changes],
    }
