"""``slbsync validate``: check specs without touching any target.

Also ``slbsync schema``, which prints the JSON Schema editors use to complete
and check specs as they are written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from slbsync.errors import SpecError
from slbsync.spec.load import load_spec
from slbsync.spec.problems import SpecProblem, SpecValidationError
from slbsync.spec.schema import render_schema


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Spec files, or folders of *.yaml files, merged."),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--format",
            help="text for people; json for programs (a list of problems on stdout).",
        ),
    ] = "text",
) -> None:
    """Check specs and report every problem, each with file:line:col."""
    if output not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    try:
        spec = load_spec(paths)
    except SpecValidationError as err:
        _report(err.problems, output)
        raise typer.Exit(1) from None
    except SpecError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None

    if output == "json":
        typer.echo("[]")
        return
    balancers = len(spec.load_balancers)
    targets = len({lb.target for lb in spec.load_balancers})
    typer.echo(
        f"ok: {balancers} load balancer{'s' if balancers != 1 else ''} on "
        f"{targets} target{'s' if targets != 1 else ''}"
    )


def _report(problems: Sequence[SpecProblem], output: str) -> None:
    if output == "json":
        typer.echo(json.dumps([_as_json(p) for p in problems], indent=2))
        return
    for problem in problems:
        typer.echo(str(problem), err=True)
    count = len(problems)
    typer.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)


def _as_json(problem: SpecProblem) -> dict[str, Any]:
    where = problem.location
    return {
        "file": where.file if where else None,
        "line": where.line if where else None,
        "column": where.column if where else None,
        "path": problem.path,
        "message": problem.message,
    }


def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the spec's JSON Schema (draft 2020-12), for editors."""
    text = render_schema()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")
