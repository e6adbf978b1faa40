"""`scaleaudit check`: the live audit of PostgreSQL and Redis, joined with the code when given a path."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from scaleaudit import api
from scaleaudit.cli import UserError, app
from scaleaudit.cli._common import flag_settings
from scaleaudit.cli.scan import EXIT_HELP, check_format, finish


@app.command(epilog=EXIT_HELP)
def check(
    path: Path | None = typer.Argument(None, help="The app's source: its facts are joined with the live ones."),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="PostgreSQL URL \\[default: $DATABASE_URL]; only read, never printed with its password."
    ),
    redis_url: str | None = typer.Option(None, "--redis-url", help="Redis URL \\[default: $REDIS_URL]."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Processes per instance (connection budget)."),
    instances: int | None = typer.Option(None, "--instances", min=1, help="App instances (connection budget)."),
    server_memory: str | None = typer.Option(
        None, "--server-memory", help="The database server's RAM, e.g. 16GB (memory settings check)."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="Output format: text, json, sarif or github."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    select: list[str] | None = typer.Option(None, "--select", help="Only these rules (ids, prefixes, names)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Turn these rules off."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Lowest severity that makes the exit code 1."),
    min_confidence: str | None = typer.Option(None, "--min-confidence", help="Hide findings below this confidence."),
    config: Path | None = typer.Option(None, "--config", help="Config file (\\[check] timeouts and thresholds)."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore all config files."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Scan PATH without .scaleaudit_cache/."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Only report findings not in this baseline file."),
    write_baseline: bool = typer.Option(False, "--write-baseline", help="Write findings to --baseline and exit 0."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings fail the run."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list skipped files."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text even on a terminal."),
) -> None:
    """Check a live PostgreSQL and/or Redis (read-only, time-boxed, one connection each).

    [bold]Examples[/bold]

      scaleaudit check --database-url "$DATABASE_URL"
      scaleaudit check . --database-url "$DATABASE_URL" --redis-url "$REDIS_URL" --workers 4 --instances 2
      scaleaudit check --database-url "$DATABASE_URL" --server-memory 16GB --format sarif -o live.sarif
    """
    fmt = check_format(fmt)
    if write_baseline and baseline is None:
        raise UserError("--write-baseline needs --baseline FILE")
    targets = [path] if path is not None else [Path(".")]
    settings = flag_settings(
        targets, config, isolated=isolated, select=select, ignore=ignore, min_confidence=min_confidence, fail_on=fail_on
    )
    # psycopg and redis-py cost ~240 ms to import: only `check` pays for them.
    from scaleaudit.live.connect import LiveError

    try:
        result = api.check(
            database_url or os.environ.get("DATABASE_URL") or None,
            redis_url or os.environ.get("REDIS_URL") or None,
            settings,
            path,
            workers=workers,
            instances=instances,
            server_memory=server_memory,
            baseline=None if write_baseline else baseline,
            use_cache=not no_cache,
        )
    except LiveError as exc:
        raise UserError(str(exc)) from None
    finish(result, settings, baseline, write_baseline=write_baseline, exit_zero=exit_zero, fmt=fmt, output=output,
           no_color=no_color, verbose=verbose)  # fmt: skip
