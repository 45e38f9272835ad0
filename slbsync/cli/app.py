"""The ``slbsync`` command: one typer app, one module per command.

Only ``cli/`` sets up logging handlers and prints. Errors that derive from
``SlbsyncError`` are printed as their message alone and exit 1; anything
unexpected keeps its traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from slbsync import __version__
from slbsync.cli.logs import setup_logging
from slbsync.errors import SlbsyncError

# Each module defines ``register(app)``; add a command by adding its module.
COMMAND_MODULES = [
    "slbsync.cli.emulator",
    "slbsync.cli.validate",
    "slbsync.cli.plan",
    "slbsync.cli.apply",
    "slbsync.cli.drift",
    "slbsync.cli.import_",
    "slbsync.cli.register",
]

app = typer.Typer(
    name="slbsync",
    help="Keep load balancers in line with a declarative spec.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slbsync {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each step."),
    debug: bool = typer.Option(
        False, "--debug", help="Log requests too (secrets are always redacted)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """slbsync: plan and apply load balancer specs."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    setup_logging(level)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Entry point: run the app, turning slbsync errors into exit code 1."""
    try:
        # Outside standalone mode click returns a command's typer.Exit code
        # instead of raising it (plan --detailed-exitcode exits 2 that way).
        code = app(standalone_mode=False)
    except SlbsyncError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:
        # click's own usage errors carry their exit code (2) and message.
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
