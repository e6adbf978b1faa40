"""The command line: flags in, API call, renderer, exit code. No logic here.

Each subcommand lives in its own module under this package and registers
itself on `app`; `main()` turns any error a user can fix into one line on
stderr and exit code 2, never a traceback (set SCALEAUDIT_DEBUG=1 to see one).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

from scaleaudit import __version__
from scaleaudit.config import ConfigError

app = typer.Typer(
    name="scaleaudit",
    help=(
        "Find and fix what stops a web app from serving 1,000 concurrent users: duplicated "
        "database clients, unsized pools, N+1 queries, unbounded result sets, missing indexes, "
        "and live PostgreSQL/Redis settings.\n\n"
        "Start with [bold]scaleaudit scan .[/bold]; [bold]scaleaudit rules[/bold] lists what it checks."
    ),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class UserError(Exception):
    """A one-line problem with the invocation (exit 2)."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scaleaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """scaleaudit: scalability review for web apps."""


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"scaleaudit: error: {message}", err=True)
    return typer.Exit(code)


def main() -> None:
    _register()
    try:
        app(standalone_mode=True)
    except (ConfigError, UserError) as exc:
        typer.echo(f"scaleaudit: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("scaleaudit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SCALEAUDIT_DEBUG"):
            raise
        typer.echo(
            f"scaleaudit: internal error: {type(exc).__name__}: {exc} (SCALEAUDIT_DEBUG=1 shows the traceback)",
            err=True,
        )
        sys.exit(2)
