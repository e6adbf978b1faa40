"""`scaleaudit report`: the scalability review for a codebase, from evidence."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from scaleaudit import api
from scaleaudit.cli import UserError, app
from scaleaudit.cli._common import output_stream

FORMATS = ("markdown", "html", "json")


@app.command()
def report(
    path: Path = typer.Argument(Path("."), help="The project to review (default: the current directory)."),
    fmt: str = typer.Option("markdown", "--format", "-f", help="markdown, html or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    users: int = typer.Option(1000, "--users", min=1, help="Target concurrent users."),
    database_url: str | None = typer.Option(None, "--database-url", help="Also run the live PostgreSQL checks."),
    redis_url: str | None = typer.Option(None, "--redis-url", help="Also run the live Redis checks."),
    rps: float | None = typer.Option(None, "--rps-per-user", min=0.0, help="Requests per user per second [0.2]."),
    db_ms: float | None = typer.Option(None, "--db-ms", min=0.0, help="Mean DB time per request, ms [20]."),
    peak: float | None = typer.Option(None, "--peak-factor", min=1.0, help="Peak over mean arrival rate [3]."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes per instance."),
    instances: int | None = typer.Option(None, "--instances", min=1, help="App instances."),
    max_connections: int | None = typer.Option(None, "--max-connections", min=1, help="PostgreSQL max_connections."),
    max_items: int | None = typer.Option(None, "--max-items", min=1, help="Markdown: show at most N issues/actions."),
    compare: Path | None = typer.Option(None, "--compare", help="A previous `--format json` report to diff against."),
    config: Path | None = typer.Option(None, "--config", help="Config file."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore all config files."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write .scaleaudit_cache/."),
) -> None:
    """Write the scalability review: architecture, ranked issues, capacity, verdict, actions, checklist.

    [bold]Examples[/bold]

      scaleaudit report . --format html -o review.html
      scaleaudit report . --format markdown --max-items 5        # a PR comment
      scaleaudit report . --format json -o review.json --compare last-review.json
    """
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    settings = api.settings_for([path], config, isolated=isolated)
    given = {k for k, v in (("rps", rps), ("db_ms", db_ms), ("peak", peak)) if v is not None}
    from scaleaudit.report.build import Load  # only `report` pays for the report modules

    defaults = Load()
    load = Load(
        users=users,
        requests_per_user_per_s=rps if rps is not None else defaults.requests_per_user_per_s,
        db_time_ms=db_ms if db_ms is not None else defaults.db_time_ms,
        peak_factor=peak if peak is not None else defaults.peak_factor,
        workers=workers,
        instances=instances,
        max_connections=max_connections,
        user_set=frozenset(given),
    )
    result = api.report(
        path,
        settings,
        load,
        database_url=database_url or os.environ.get("SCALEAUDIT_DATABASE_URL"),
        redis_url=redis_url or os.environ.get("SCALEAUDIT_REDIS_URL"),
        previous=compare,
        use_cache=not no_cache,
    )
    with output_stream(output) as out:
        if fmt == "json":
            from scaleaudit.report import render_json

            out.write(render_json.render(result))
        elif fmt == "html":
            from scaleaudit.report import render_html

            out.write(render_html.render(result))
        else:
            from scaleaudit.report import render_markdown

            out.write(render_markdown.render(result, max_items=max_items))
