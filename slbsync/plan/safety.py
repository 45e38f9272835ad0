"""Safety limits: what a plan may not do without --force, or at all."""

from __future__ import annotations

from slbsync.errors import SafetyError
from slbsync.plan.model import Plan

DEFAULT_MAX_REMOVAL = 0.3
"""The share of a group's servers a plan may remove without --force."""


def safety_problems(
    plan: Plan, *, max_removal: float = DEFAULT_MAX_REMOVAL
) -> list[str]:
    """What in ``plan`` needs --force, one line each (empty when nothing does)."""
    problems = []
    for part in plan.targets:
        for removal in part.safety.server_removals:
            if removal.share > max_removal:
                problems.append(
                    f"target {part.target}: removes {removal.removed} of "
                    f"{removal.total} servers ({removal.share:.0%}) from server "
                    f"group {removal.group}, over the {max_removal:.0%} limit"
                )
        for listener in part.safety.listener_deletes:
            problems.append(f"target {part.target}: deletes listener {listener}")
    return problems


def protection_problems(plan: Plan) -> list[str]:
    """Deletes that delete protection forbids, --force or not."""
    return [
        f"target {part.target}: load balancer {name} has delete protection on; "
        "turn it off (deletion_protection: false) and apply, then delete it"
        for part in plan.targets
        for name in part.safety.protected_deletes
    ]


def check_safety(
    plan: Plan, *, max_removal: float = DEFAULT_MAX_REMOVAL, force: bool = False
) -> None:
    """Raise ``SafetyError`` when ``plan`` breaks a limit it was not forced past."""
    protected = protection_problems(plan)
    if protected:
        raise SafetyError("the plan cannot be applied:\n  " + "\n  ".join(protected))
    problems = [] if force else safety_problems(plan, max_removal=max_removal)
    if problems:
        listed = "\n  ".join(problems)
        raise SafetyError(
            f"the plan needs --force:\n  {listed}\n"
            "review the plan, then pass --force (or raise --max-removal)"
        )
