"""``slbsync import``: write a spec for load balancers that exist already."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from slbsync.cli.common import LockDirOption
from slbsync.errors import SlbsyncError
from slbsync.importer.run import ImportFilters, ImportResult, import_spec
from slbsync.spec.model import TargetSpec

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)


def import_command(
    region: Annotated[
        str, typer.Option("--region", help="Region to read, e.g. cn-hangzhou.")
    ],
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="API endpoint URL, or local for the embedded emulator; the "
            "cloud's own when left out.",
        ),
    ] = None,
    names: Annotated[
        list[str] | None,
        typer.Option("--name", help="Load balancer names, globs allowed (repeat)."),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only load balancers with this tag, K=V (repeat)."),
    ] = None,
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Load balancer ids, ARNs on aws-elbv2 (repeat)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the spec here instead of stdout."),
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Tag the imported load balancers as owned, so applies may change "
            "them.",
        ),
    ] = False,
    target_name: Annotated[
        str, typer.Option("--target-name", help="Name of the target in the spec.")
    ] = "cloud",
    target_type: Annotated[
        str,
        typer.Option("--type", help="Target type to read: alibaba-slb or aws-elbv2."),
    ] = "alibaba-slb",
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Credentials profile (default: the chain)."),
    ] = None,
    lock_dir: LockDirOption = None,
) -> None:
    """Read existing load balancers and write them as a spec that plans clean."""
    target = TargetSpec(
        name=target_name,
        type=target_type,
        region=region,
        endpoint=endpoint,
        profile=profile,
    )
    filters = ImportFilters(
        names=tuple(names or ()),
        tags=tuple(_tag(text) for text in tags or ()),
        ids=tuple(ids or ()),
    )
    header = f"# Written by slbsync import --region {region}; edit freely.\n"
    result = import_spec(target, filters, adopt=adopt, lock_dir=lock_dir, header=header)
    if out is None:
        typer.echo(result.text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(result.text, encoding="utf-8")
        os.replace(tmp, out)
    typer.echo(_summary(result, out), err=True)


def _summary(result: ImportResult, out: Path | None) -> str:
    lines = [
        f"Imported {len(result.load_balancers)} load balancer(s): "
        f"{', '.join(result.load_balancers)} ({result.read_calls} API calls read)"
        + (f" into {out}" if out else "")
        + "; slbsync plan shows no changes for it."
    ]
    if result.adopted:
        lines.append(f"Adopted (tagged as owned): {', '.join(result.adopted)}.")
    if result.not_owned:
        lines.append(
            f"Not owned, so plan and apply leave them alone: "
            f"{', '.join(result.not_owned)}; import again with --adopt (or set "
            "adopt: true) to manage them."
        )
    return "\n".join(lines)


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SlbsyncError(f'--tag "{text}": write a tag as KEY=VALUE, e.g. app=chat')
    return key, value
