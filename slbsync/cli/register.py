"""``slbsync register`` and ``slbsync deregister``: one node joins or leaves.

For boot scripts and auto-scaling lifecycle hooks. Both name the spec, the
load balancer, the server group and the server, and both are safe to run
again after a failure: they read the group first and do only what is left.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from slbsync.cli.common import (
    PATHS_HELP,
    LockDirOption,
    build_targets,
    is_terminal,
    read_spec,
    seconds_of,
)
from slbsync.errors import SpecError
from slbsync.membership.group import GroupHandle, find_group
from slbsync.membership.guard import parse_drain_limit
from slbsync.membership.register import Membership, Outcome
from slbsync.spec.model import Membership as Mode
from slbsync.spec.model import Server, ServerType, Spec

LoadBalancerOption = Annotated[
    str, typer.Option("--load-balancer", "-l", help="The load balancer (spec name).")
]
GroupOption = Annotated[
    str, typer.Option("--group", "-g", help="The server group (spec name).")
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server", help="The server's instance id (i-..., eni-..., eci-...)."
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", help="The server's IP address (nginx, HAProxy, ENI)."),
]
PortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        min=1,
        max=65535,
        help="Backend port (default: the group's discover port).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("register")(register_command)
    app.command("deregister")(deregister_command)


def register_command(
    paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP, show_default=False)],
    load_balancer: LoadBalancerOption,
    group: GroupOption,
    server: ServerOption = None,
    address: AddressOption = None,
    port: PortOption = None,
    weight: Annotated[
        int | None,
        typer.Option("--weight", min=1, max=100, help="Weight once in service."),
    ] = None,
    slow_start: Annotated[
        str,
        typer.Option("--slow-start", help="Ramp the weight up over this long (60s)."),
    ] = "0s",
    wait_healthy: Annotated[
        bool,
        typer.Option(
            "--wait-healthy", help="Return once the load balancer reports it healthy."
        ),
    ] = False,
    health_timeout: Annotated[
        str, typer.Option("--health-timeout", help="How long --wait-healthy waits.")
    ] = "300s",
    lock_dir: LockDirOption = None,
) -> None:
    """Add a server to a group (or set its weight); idempotent."""
    spec = read_spec(paths)
    found_group = find_group(spec, load_balancer, group)[1]
    if found_group.membership != Mode.EXTERNAL:
        raise SpecError(
            f"register: group {group} of {load_balancer} is {found_group.membership}, so the spec decides its members and the next apply would undo this; set membership: external for groups that nodes join themselves"  # noqa: E501
        )
    wanted = _server(spec, load_balancer, group, server, address, port, weight)
    membership = _membership(spec, load_balancer, group, lock_dir)
    outcome = membership.register(
        wanted,
        slow_start=seconds_of("--slow-start", slow_start),
        wait_healthy=wait_healthy,
        health_timeout=seconds_of("--health-timeout", health_timeout),
    )
    _print(outcome)


def deregister_command(
    paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP, show_default=False)],
    load_balancer: LoadBalancerOption,
    group: GroupOption,
    server: ServerOption = None,
    address: AddressOption = None,
    port: PortOption = None,
    drain: Annotated[
        str,
        typer.Option("--drain", help="Wait at most this long for connections to end."),
    ] = "300s",
    max_draining: Annotated[
        str,
        typer.Option(
            "--max-draining",
            help="Servers (2) or share of the group (25%) draining at once.",
        ),
    ] = "25%",
    force: Annotated[
        bool,
        typer.Option("--force", help="Drain even past the capacity guard."),
    ] = False,
    lock_dir: LockDirOption = None,
) -> None:
    """Drain a server (weight 0, wait), then remove it; idempotent."""
    limit = parse_drain_limit(max_draining)
    budget = seconds_of("--drain", drain)
    spec = read_spec(paths)
    leaving = _server(spec, load_balancer, group, server, address, port, None)
    membership = _membership(spec, load_balancer, group, lock_dir)
    progress = _show_drain if is_terminal(sys.stderr) else None
    outcome = membership.deregister(
        leaving, drain=budget, limit=limit, force=force, progress=progress
    )
    if progress is not None:
        typer.echo("", err=True)
    _print(outcome)


def _membership(
    spec: Spec, lb_name: str, group: str, lock_dir: Path | None
) -> Membership:
    lb = find_group(spec, lb_name, group)[0]
    target = build_targets(spec, [lb.target])[0]
    return Membership(GroupHandle(spec, target, lb_name, group), lock_dir=lock_dir)


def _server(
    spec: Spec,
    lb_name: str,
    group_name: str,
    server_id: str | None,
    address: str | None,
    port: int | None,
    weight: int | None,
) -> Server:
    if not server_id and not address:
        raise SpecError("name the server with --server ID or --address IP")
    discover = find_group(spec, lb_name, group_name)[1].discover
    port = port or (discover.port if discover else None)
    if port is None:
        raise SpecError(
            f"--port is needed: group {group_name} has no discover.port to default to"
        )
    weight = weight or (discover.weight if discover else 100)
    kind = ServerType.ECS
    if server_id and server_id.startswith(("eni-", "eci-")):
        kind = ServerType(server_id[:3])
    elif not server_id:
        kind = ServerType.IP
    return Server(port=port, id=server_id, address=address, weight=weight, type=kind)


def _show_drain(waited: float, allowed: float, sessions: int | None) -> None:
    open_text = "" if sessions is None else f", {sessions} sessions open"
    typer.echo(
        f"\rdraining: {waited:.0f}s of {allowed:.0f}s{open_text}   ", nl=False, err=True
    )


def _print(outcome: Outcome) -> None:
    typer.echo(f"{outcome.server.label}: " + "; ".join(outcome.steps))
