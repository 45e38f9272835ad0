"""Render a plan for people (text), programs (JSON) and pull requests (Markdown)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from slbsync.diff.changes import Change, ChangeOp, FieldChange, ResourceKind
from slbsync.plan.document import plan_document
from slbsync.plan.model import Plan, TargetPlan
from slbsync.plan.safety import (
    DEFAULT_MAX_REMOVAL,
    protection_problems,
    safety_problems,
)

ACTION_COLUMN = 52
_COLOURS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "!": "31"}


def symbol(change: Change) -> str:
    if change.replacement:
        return "-/+"
    return {ChangeOp.CREATE: "+", ChangeOp.UPDATE: "~", ChangeOp.DELETE: "-"}[change.op]


def render_json(plan: Plan, *, max_removal: float = DEFAULT_MAX_REMOVAL) -> str:
    return json.dumps(plan_document(plan, max_removal=max_removal), indent=2) + "\n"


def render_text(
    plan: Plan,
    *,
    colour: bool = False,
    title: str = "slbsync plan",
    max_removal: float = DEFAULT_MAX_REMOVAL,
) -> str:
    """The plan as a person reads it, action on the right, summary at the end."""
    paint = _painter(colour)
    lines: list[str] = []
    for part in plan.targets:
        lines.append(f"{title}   ({_target_line(part)})")
        lines.append("")
        lines.extend(f"warning: {text}" for text in part.skipped)
        ids = dict(part.load_balancer_ids)
        for lb, changes in _by_load_balancer(part.changes):
            lines.extend(_load_balancer_block(lb, changes, paint, ids.get(lb)))
        if not part.changes:
            lines += ["No changes: the live state matches the spec.", ""]

    lines.extend(_safety_lines(plan, max_removal, paint))
    lines.extend(_summary_lines(plan))
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan, *, max_removal: float = DEFAULT_MAX_REMOVAL) -> str:
    """The plan as a pull request comment: a table per target."""
    lines = ["### slbsync plan", ""]
    for part in plan.targets:
        lines.append(f"**{_target_line(part)}**")
        lines.append("")
        lines.extend(f"> warning: {_md(text)}" for text in part.skipped)
        if not part.changes:
            lines += ["No changes: the live state matches the spec.", ""]
            continue
        lines += ["| | resource | call | fields |", "|---|---|---|---|"]
        for change in part.changes:
            fields = "<br>".join(_md(_field_text(f)) for f in change.fields)
            lines.append(
                f"| `{symbol(change)}` | {_md(address_text(change))} "
                f"| `{change.action}` | {fields} |"
            )
        lines.append("")
    problems = safety_problems(plan, max_removal=max_removal)
    problems += protection_problems(plan)
    if problems:
        lines.append("**Needs attention before apply:**")
        lines.append("")
        lines.extend(f"- {_md(text)}" for text in problems)
        lines.append("")
    lines.extend(_summary_lines(plan))
    return "\n".join(lines) + "\n"


def address_text(change: Change) -> str:
    """A change's resource as people name it: ``chat listener tcp/443``."""
    address = change.address
    if address.kind == ResourceKind.LOAD_BALANCER:
        return f"load balancer {address.name}"
    return str(address)


def _target_line(part: TargetPlan) -> str:
    facts = dict(part.facts)
    extra = [str(facts[key]) for key in ("type", "region") if facts.get(key)]
    return f"target {part.target}" + (f": {', '.join(extra)}" if extra else "")


def _by_load_balancer(
    changes: Iterable[Change],
) -> list[tuple[str, list[Change]]]:
    """Changes grouped by load balancer (regional first), in plan order."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.address.load_balancer, []).append(change)
    return sorted(groups.items(), key=lambda item: item[0] != "")


def _load_balancer_block(
    lb: str, changes: list[Change], paint: Any, lb_id: str | None
) -> list[str]:
    lines: list[str] = []
    own = [c for c in changes if c.address.kind == ResourceKind.LOAD_BALANCER]
    rest = [c for c in changes if c.address.kind != ResourceKind.LOAD_BALANCER]
    if lb:
        mark = symbol(own[0]) if own else "~"
        live_id = lb_id or next((c.live_id for c in own if c.live_id), None)
        header = f"{paint(mark)} load balancer {lb}" + (
            f" ({live_id})" if live_id else ""
        )
        lines.append(_with_action(header, ", ".join(c.action for c in own)))
        for change in own:
            lines.extend(_field_lines(change, indent=6))
    indent = "  " if lb else ""
    for change in rest:
        address = change.address
        label = f"{str(address.kind).replace('_', ' ')} {address.name}"
        if address.kind == ResourceKind.SERVERS:
            label = f"members of {address.name}"
        if change.live_id and address.kind != ResourceKind.SERVERS:
            label += f" ({change.live_id})"
        note = f"  # {change.note}" if change.note else ""
        lines.append(
            _with_action(
                f"{indent}{paint(symbol(change))} {label}{note}", change.action
            )
        )
        lines.extend(_field_lines(change, indent=len(indent) + 4))
    lines.append("")
    return lines


def _field_lines(change: Change, *, indent: int) -> list[str]:
    pad = " " * indent
    width = max((len(f.field) for f in change.fields), default=0)
    return [f"{pad}{_field_text(f, width)}" for f in change.fields]


def _field_text(change: FieldChange, width: int = 0) -> str:
    name = change.field.ljust(width)
    if change.old is None:
        return f"{name}  {_value(change.new)}"
    if change.new is None:
        return f"{name}  {_value(change.old)} -> (removed)"
    return f"{name}  {_value(change.old)} -> {_value(change.new)}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


def _with_action(text: str, action: str) -> str:
    if not action:
        return text
    visible = len(_strip_colour(text))
    gap = max(2, ACTION_COLUMN - visible)
    return f"{text}{' ' * gap}{action}"


def _strip_colour(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _safety_lines(plan: Plan, max_removal: float, paint: Any) -> list[str]:
    lines = [
        f"{paint('!')} needs --force: {text}"
        for text in safety_problems(plan, max_removal=max_removal)
    ]
    lines += [f"{paint('!')} refused: {text}" for text in protection_problems(plan)]
    return [*lines, ""] if lines else []


def _summary_lines(plan: Plan) -> list[str]:
    counts = plan.counts()
    reads = ", ".join(
        f"{count} {action}"
        for action, count in sorted(plan.reads_by_action().items())
        if count
    )
    return [
        f"{counts['add']} to add, {counts['change']} to change, "
        f"{counts['delete']} to delete; {plan.write_calls} API calls to write.",
        f"Read {plan.read_calls} API calls ({reads or 'none'}).",
    ]


def _painter(colour: bool) -> Any:
    def paint(mark: str) -> str:
        if not colour:
            return mark
        return f"\x1b[{_COLOURS.get(mark, '0')}m{mark}\x1b[0m"

    return paint


def _md(text: str) -> str:
    return text.replace("|", "\\|")
