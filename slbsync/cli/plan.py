"""``slbsync plan``: show what apply would change, without changing anything."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from slbsync.cli.common import (
    PATHS_HELP,
    MaxRemovalOption,
    PruneOption,
    TargetOption,
    build_targets,
    is_terminal,
    read_spec,
)
from slbsync.plan.make import make_plan
from slbsync.plan.model import Plan
from slbsync.plan.render import render_json, render_markdown, render_text
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL
from slbsync.plan.saved import save_plan

log = logging.getLogger(__name__)

CHANGES_PRESENT = 2


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_command)


def plan_command(
    paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP, show_default=False)],
    output_format: Annotated[
        PlanFormat,
        typer.Option("--format", help="text for people, json, markdown for PRs."),
    ] = PlanFormat.TEXT,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the plan to apply later with apply --plan."),
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
    prune: PruneOption = False,
    only: TargetOption = None,
    max_removal: MaxRemovalOption = DEFAULT_MAX_REMOVAL,
) -> None:
    """Show the changes that would bring the live state in line with the spec."""
    spec = read_spec(paths)
    plan = make_plan(spec, build_targets(spec, only), prune=prune)
    typer.echo(render(plan, output_format, max_removal), nl=False)
    if out is not None:
        save_plan(plan, out, max_removal=max_removal)
        typer.echo(
            f"Saved the plan to {out}; apply it with: slbsync apply --plan {out}",
            err=True,
        )
    if detailed_exitcode and not plan.is_empty:
        raise typer.Exit(CHANGES_PRESENT)


def render(plan: Plan, output_format: PlanFormat, max_removal: float) -> str:
    if output_format == PlanFormat.JSON:
        return render_json(plan, max_removal=max_removal)
    if output_format == PlanFormat.MARKDOWN:
        return render_markdown(plan, max_removal=max_removal)
    return render_text(plan, colour=is_terminal(sys.stdout), max_removal=max_removal)
