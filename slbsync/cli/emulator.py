"""``slbsync emulator serve``: the SLB emulator as a server process."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from slbsync.emulator.faults import SERVED_CONFIGURING_MS
from slbsync.errors import EmulatorError

log = logging.getLogger(__name__)

emulator_app = typer.Typer(
    help="Run the local SLB emulator (the Alibaba Cloud SLB API on loopback).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(emulator_app, name="emulator")


def _fault_settings(
    seed: int | None,
    rates: dict[str, float],
    latency_ms: str | None,
    rate_limits: list[str],
    configuring_ms: float,
) -> dict[str, Any]:
    """The flags as a ``PUT /_emulator/faults`` document."""
    faults: dict[str, Any] = {name: rate for name, rate in rates.items() if rate}
    if seed is not None:
        faults["seed"] = seed
    if configuring_ms:
        faults["configuring_ms"] = configuring_ms
    if latency_ms:
        low, _, high = latency_ms.partition(",")
        try:
            faults["latency_ms"] = [float(low), float(high)] if high else float(low)
        except ValueError:
            raise typer.BadParameter(
                f"{latency_ms!r}: use a number of ms, or MIN,MAX",
                param_hint="--latency-ms",
            ) from None
    limits: dict[str, float] = {}
    for item in rate_limits:
        name, sep, rate = item.partition("=")
        try:
            limits[name] = float(rate)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise typer.BadParameter(
                f"{item!r}: use ACTION=CALLS_PER_SECOND, or *=N for every action",
                param_hint="--rate-limit",
            )
    if limits:
        faults["rate_limits"] = limits
    return faults


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@emulator_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(9555, help="Port to listen on (0: any free port)."),
    state: Annotated[
        Path | None,
        typer.Option(help="Persist resources in this JSON file (atomic writes)."),
    ] = None,
    access_key: Annotated[
        list[str] | None,
        typer.Option(
            "--access-key",
            help="An accepted key pair ID:SECRET (repeatable). "
            "Default: the documented public emulator pair.",
        ),
    ] = None,
    region: str = typer.Option("cn-hangzhou", help="RegionId when a call sends none."),
    strict_backends: bool = typer.Option(
        False, help="Refuse backend server ids that were not seeded as ECS instances."
    ),
    load_balancer_quota: int = typer.Option(
        60, min=1, help="Load balancers allowed per region (the cloud's default: 60)."
    ),
    backend_server_quota: int = typer.Option(
        200,
        min=1,
        help="Distinct backend servers allowed per load balancer (the cloud's: 200).",
    ),
    throttle_rate: float = typer.Option(0.0, help="Share of calls throttled (0-1)."),
    error_rate: float = typer.Option(0.0, help="Share of calls failing with 5xx."),
    timeout_rate: float = typer.Option(0.0, help="Share of calls held, then dropped."),
    lost_response_rate: float = typer.Option(
        0.0,
        help="Share of calls drawn to lose their answer; a write is carried out "
        "first, a read is answered normally.",
    ),
    latency_ms: str | None = typer.Option(
        None, help="Added latency: MS, or MIN,MAX for a random delay."
    ),
    rate_limit: Annotated[
        list[str] | None,
        typer.Option(
            "--rate-limit", help="ACTION=CALLS_PER_SECOND (repeatable; * = all)."
        ),
    ] = None,
    configuring_ms: float = typer.Option(
        SERVED_CONFIGURING_MS,
        min=0,
        help="Configuring window after each listener or server group change, "
        "in ms (0: off).",
    ),
    seed: int | None = typer.Option(None, help="Seed for random faults."),
) -> None:
    """Serve the emulator until interrupted."""
    from slbsync.emulator.server import EmulatorServer
    from slbsync.emulator.signature import (
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_ACCESS_KEY_SECRET,
        parse_key_pair,
    )
    from slbsync.emulator.state.store import StateFileError

    try:
        keys = dict(parse_key_pair(item) for item in access_key or [])
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--access-key") from None
    faults = _fault_settings(
        seed,
        {
            "throttle_rate": throttle_rate,
            "error_rate": error_rate,
            "timeout_rate": timeout_rate,
            "lost_response_rate": lost_response_rate,
        },
        latency_ms,
        rate_limit or [],
        configuring_ms,
    )
    try:
        server = EmulatorServer(
            host=host,
            port=port,
            state_path=state,
            access_keys=keys or None,
            region=region,
            faults=faults or None,
            strict_backends=strict_backends,
            load_balancer_quota=load_balancer_quota,
            backend_server_quota=backend_server_quota,
        )
    except StateFileError as err:
        raise EmulatorError(f"emulator: {err}") from err
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    except OSError as err:
        raise EmulatorError(f"emulator: cannot listen on {host}:{port}: {err}") from err

    typer.echo(f"slbsync emulator listening on {server.url} (region {region})")
    if keys:
        typer.echo(f"access key ids: {', '.join(sorted(keys))}")
    else:
        # The default pair is public by design, so printing it is safe.
        typer.echo(
            f"access key: {DEFAULT_ACCESS_KEY_ID} / {DEFAULT_ACCESS_KEY_SECRET} "
            "(the public default pair)"
        )
    typer.echo(f"state: {state or 'in memory'}; control API: {server.url}/_emulator/")

    # SIGTERM stops like Ctrl-C; every acknowledged write is already on disk.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        server.stop()
