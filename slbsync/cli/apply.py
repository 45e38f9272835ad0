"""``slbsync apply``: plan, confirm, and carry out the changes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from slbsync.apply.report import ApplyReport, Outcome
from slbsync.apply.retry import DEFAULT_RETRY_DEADLINE, RetryPolicy
from slbsync.apply.runner import DEFAULT_PARALLELISM, DEFAULT_RATE_LIMIT, PlanRunner
from slbsync.cli.common import (
    PATHS_HELP,
    LockDirOption,
    MaxRemovalOption,
    PruneOption,
    TargetOption,
    build_targets,
    is_terminal,
    progress_for,
    read_spec,
    read_spec_documents,
    seconds_of,
)
from slbsync.errors import SlbsyncError
from slbsync.membership.locks import lock_factory
from slbsync.plan.make import make_plan
from slbsync.plan.model import Plan
from slbsync.plan.render import address_text, render_text
from slbsync.plan.safety import DEFAULT_MAX_REMOVAL, check_safety
from slbsync.plan.saved import check_fresh, load_saved_plan
from slbsync.ratelimit import AdaptiveRateLimiter
from slbsync.targets.base import Target

log = logging.getLogger(__name__)

NO_TERMINAL = (
    "apply asks for confirmation, but there is no terminal to ask; "
    "review the changes with slbsync plan, then pass --auto-approve"
)


def register(app: typer.Typer) -> None:
    app.command("apply")(apply_command)


def apply_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help=PATHS_HELP, show_default=False)
    ] = None,
    auto_approve: Annotated[
        bool,
        typer.Option("--auto-approve", help="Apply without asking (for pipelines)."),
    ] = False,
    saved_plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="Apply a plan saved with plan --out, if nothing moved."
        ),
    ] = None,
    prune: PruneOption = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Allow removing many servers and deleting listeners."
        ),
    ] = False,
    max_removal: MaxRemovalOption = DEFAULT_MAX_REMOVAL,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, help="Load balancers at once.")
    ] = DEFAULT_PARALLELISM,
    rate_limit: Annotated[
        float,
        typer.Option("--rate-limit", min=0.1, help="API calls per second at most."),
    ] = DEFAULT_RATE_LIMIT,
    retry_deadline: Annotated[
        str,
        typer.Option(
            "--retry-deadline",
            help="Time each change may take, retries and settling reads included.",
        ),
    ] = f"{DEFAULT_RETRY_DEADLINE:.0f}s",
    only: TargetOption = None,
    lock_dir: LockDirOption = None,
) -> None:
    """Bring the live state in line with the spec (asks first)."""
    # Checked before anything is read, so a typo costs no call.
    policy = RetryPolicy(
        deadline=seconds_of("--retry-deadline", retry_deadline, at_least=1)
    )
    limiter = AdaptiveRateLimiter(rate_limit)
    plan, targets = _plan_to_apply(paths or [], saved_plan, prune, only, limiter)
    typer.echo(
        render_text(
            plan,
            colour=is_terminal(sys.stdout),
            title="slbsync apply",
            max_removal=max_removal,
        ),
        nl=False,
    )
    if plan.is_empty:
        typer.echo("Nothing to do.")
        return
    check_safety(plan, max_removal=max_removal, force=force)
    if saved_plan is None and not auto_approve:
        _confirm(plan)

    runner = PlanRunner(
        {target.name: target for target in targets},
        parallelism=parallelism,
        limiter=limiter,
        policy=policy,
        progress=progress_for(sys.stderr),
        # One lock per load balancer: registrations and drift remediations
        # on the same one wait for this run, and it for them.
        locks=lock_factory(lock_dir),
    )
    report = runner.run(plan)
    typer.echo(_summary(report))
    report.raise_for_failures()


def _plan_to_apply(
    paths: list[Path],
    saved_plan: Path | None,
    prune: bool,
    only: list[str] | None,
    limiter: AdaptiveRateLimiter,
) -> tuple[Plan, list[Target]]:
    if saved_plan is None:
        spec = read_spec(paths)
        targets = _sharing(build_targets(spec, only), limiter)
        return make_plan(spec, targets, prune=prune), targets

    # The reviewed plan is the approval; it holds only if nothing moved.
    if paths:
        raise SlbsyncError(
            "apply --plan takes no spec paths: the saved plan holds its spec; "
            f"run slbsync apply --plan {saved_plan}"
        )
    saved = load_saved_plan(saved_plan)
    spec = read_spec_documents(saved.documents)
    names = list(saved.fingerprints())
    targets = _sharing(build_targets(spec, names), limiter)
    fresh = make_plan(spec, targets, prune=saved.prune)
    check_fresh(saved, fresh)
    return fresh, targets


def _sharing(targets: list[Target], limiter: AdaptiveRateLimiter) -> list[Target]:
    """Give targets that can take it the run's limiter: one budget for all calls.

    Without it a target limits its own calls, and a write would pass both.
    """
    for target in targets:
        share = getattr(target, "share_rate_limiter", None)
        if share is not None:
            share(limiter)
    return targets


def _confirm(plan: Plan) -> None:
    if not is_terminal(sys.stdin):
        raise SlbsyncError(NO_TERMINAL)
    if not typer.confirm(f"Apply these {plan.write_calls} API calls?", default=False):
        typer.echo("Nothing applied.")
        raise typer.Exit(1)


def _summary(report: ApplyReport) -> str:
    """The outcome: a line per change that was not simply ok, then a total."""
    lines = [
        f"{result.outcome}: {address_text(result.change)} {result.change.action}"
        + (f" ({result.message})" if result.message else "")
        for result in report.results
        if result.outcome == Outcome.SETTLED
    ]
    settled = len(lines)
    retried = sum(1 for r in report.results if r.attempts > 1)
    text = f"Applied {len(report.succeeded)} of {len(report.results)} changes"
    extras = []
    if retried:
        extras.append(f"{retried} after retries")
    if settled:
        extras.append(f"{settled} settled by reading back")
    lines.append(text + (f" ({', '.join(extras)})." if extras else "."))
    return "\n".join(lines)
