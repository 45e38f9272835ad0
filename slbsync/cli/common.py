"""What the plan and apply commands share: options, loading, targets, output."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from slbsync.apply.report import ChangeResult
from slbsync.errors import SpecError
from slbsync.plan.render import address_text, symbol
from slbsync.spec.durations import parse_duration
from slbsync.spec.load import load_spec, load_spec_documents
from slbsync.spec.model import Spec
from slbsync.targets.base import Target
from slbsync.targets.registry import make_target

PATHS_HELP = "Spec files, or folders of *.yaml files, merged."

PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune", help="Also delete owned resources the spec no longer names."
    ),
]
TargetOption = Annotated[
    list[str] | None,
    typer.Option("--target", help="Only this target (repeat for more); default all."),
]
LockDirOption = Annotated[
    Path | None,
    typer.Option(
        "--lock-dir",
        help="Where file locks are kept, for every target; default the target's "
        "lock: file:///dir, else its own default (endpoint: local: beside the "
        "emulator's state), else /var/lib/slbsync/locks (env SLBSYNC_LOCK_DIR).",
        show_default=False,
    ),
]
MaxRemovalOption = Annotated[
    float,
    typer.Option(
        "--max-removal",
        min=0.0,
        max=1.0,
        help="Share of a group's servers a plan may remove without --force.",
    ),
]


def seconds_of(option: str, text: str, *, at_least: float = 0.0) -> float:
    """The seconds a duration option such as ``--drain 5m`` gives."""
    seconds = parse_duration(text)
    if seconds is None:
        raise SpecError(f'{option} "{text}" is not a duration; write it like 60s or 5m')
    if seconds < at_least:
        raise SpecError(f'{option} "{text}" is too short; give {at_least:g}s or more')
    return float(seconds)


def read_spec(paths: Sequence[Path]) -> Spec:
    """Load and validate the spec files (every problem reported at once)."""
    if not paths:
        raise SpecError("no spec given; name spec files or folders, e.g. specs/")
    return load_spec(list(paths))


def read_spec_documents(documents: Sequence[tuple[str, dict[str, Any]]]) -> Spec:
    """Rebuild the spec a saved plan was made from."""
    return load_spec_documents(documents)


def build_targets(spec: Spec, only: Sequence[str] | None = None) -> list[Target]:
    """The spec's targets (or those named by --target), ready to read."""
    names = [t.name for t in spec.targets]
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        known = ", ".join(names) or "none"
        raise SpecError(
            f"--target {', '.join(unknown)}: not a target in the spec; "
            f"the spec has {known}"
        )
    chosen = [t for t in spec.targets if not only or t.name in only]
    return [make_target(target_spec) for target_spec in chosen]


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_progress(number: int, total: int, result: ChangeResult) -> None:
    """One line per change on a terminal: ``[3/12] ~ chat listener ... ok``."""
    change = result.change
    line = (
        f"[{number}/{total}] {symbol(change)} {address_text(change)} "
        f"{change.action} ... {result.outcome}"
    )
    typer.echo(line, err=True)


def progress_for(stream: TextIO = sys.stderr) -> Any:
    """Progress lines on a terminal, nothing in a pipe."""
    return print_progress if is_terminal(stream) else None
