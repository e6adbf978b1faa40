"""`scaleaudit fix`: show (or, with --write, apply) the automatic fixes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import typer

from scaleaudit import api
from scaleaudit.cli import UserError, app
from scaleaudit.cli._common import color_wanted, flag_settings
from scaleaudit.config import Settings
from scaleaudit.fixes.base import FixResult

EXIT_HELP = (
    "Exit codes: as for scan — 0 nothing at or above --fail-on remains; 1 findings remain; "
    "2 usage or config error, or a file that could not be written."
)


def with_capacity(
    settings: Settings, max_connections: int | None, workers: int | None, instances: int | None
) -> Settings:
    """--max-connections/--workers/--instances override [capacity] for the pool numbers."""
    changes = {"max_connections": max_connections, "workers": workers, "instances": instances}
    chosen = {k: v for k, v in changes.items() if v is not None}
    return replace(settings, capacity=replace(settings.capacity, **chosen)) if chosen else settings


def fix_and_report(
    targets: Sequence[Path],
    settings: Settings,
    *,
    write: bool,
    unsafe: bool,
    require_clean: bool = False,
    use_cache: bool = True,
    no_color: bool = False,
    exit_zero: bool = False,
    fmt: str = "text",
) -> int:
    """Run the fixes, print diffs (stdout) and the summary (stderr); the exit code. Shared with `scan --fix`.

    With `fmt="json"` stdout is one JSON object (render.fix_json) and stderr stays quiet."""
    result = api.fix(targets, settings, write=write, unsafe=unsafe, require_clean=require_clean, use_cache=use_cache)
    if fmt == "json":
        from scaleaudit.render import fix_json

        sys.stdout.write(fix_json.render(result))
    else:
        if not write:
            color = bool(color_wanted(no_color, sys.stdout))
            for change in result.changes:
                sys.stdout.write(change.diff(color=color))
        summarise(result, write)
    if result.failures:
        return 2
    if exit_zero:
        return 0
    remaining = result.remaining if result.written else result.scan.findings
    return 1 if any(f.severity.rank >= settings.fail_on.rank for f in remaining) else 0


def summarise(result: FixResult, write: bool) -> None:
    err = sys.stderr
    for warning in result.warnings:
        err.write(f"scaleaudit: warning: {warning}\n")
    created = sum(1 for c in result.changes if c.created)
    verb = "changed" if write else "would change"
    err.write(
        f"scaleaudit: {verb} {len(result.changes)} file(s)"
        + (f" ({created} created)" if created else "")
        + f"; {len(result.applied)} fix(es) {'applied' if write else 'to apply'}"
        + (f" resolving {resolved} finding(s)" if (resolved := sum(a.resolves for a in result.applied)) else "")
        + ", "
        + f"{len(result.skipped)} finding(s) skipped\n"
    )
    label = "fixed   " if result.written else "to fix  "
    for applied in result.applied:
        err.write(f"  {label} {applied.rule} {applied.path}:{applied.line}  {applied.description}\n")
    for skipped in result.skipped:
        err.write(f"  skipped  {skipped.rule} {skipped.path}:{skipped.line}  {skipped.reason}\n")
    for failure in result.failures:
        err.write(f"  not written  {failure.path}: {failure.reason}\n")
    for diag in result.scan.diagnostics:  # a file the scan could not read was not fixed either
        if diag.kind in ("parse-error", "internal-error"):
            err.write(f"  not read  {diag.path}{f':{diag.line}' if diag.line else ''}  {diag.message}\n")
    if not write and result.changes:
        err.write("scaleaudit: nothing was written; run with --write to apply\n")


@app.command("fix", epilog=EXIT_HELP)
def fix(
    paths: list[Path] = typer.Argument(None, help="Files or directories (default: the current directory)."),
    write: bool = typer.Option(False, "--write", "-w", help="Apply the fixes (default: only show the diff)."),
    unsafe_fixes: bool = typer.Option(
        False, "--unsafe-fixes", help="Also apply fixes that can change behaviour (each rule's docs say which)."
    ),
    select: list[str] | None = typer.Option(None, "--select", help="Only fix these rules (ids, prefixes, categories)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Do not fix these rules."),
    min_confidence: str | None = typer.Option(
        None, "--min-confidence", help="Fix findings at or above it: high, medium, low \\[default: medium]."
    ),
    require_clean: bool = typer.Option(
        False, "--require-clean", help="With --write: refuse to write when the git work tree has changes."
    ),
    max_connections: int | None = typer.Option(
        None, "--max-connections", min=1, help="The server's max_connections (pool sizes; overrides \\[capacity])."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes per instance."),
    instances: int | None = typer.Option(None, "--instances", min=1, help="App instances."),
    migrations: bool = typer.Option(
        False,
        "--migrations",
        help="Index fixes also write a migration (Django AddIndexConcurrently, Alembic) instead of printing the SQL.",
    ),
    config: Path | None = typer.Option(None, "--config", help="Config file."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore all config files."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write .scaleaudit_cache/."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings remain."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain diff even on a terminal (also NO_COLOR=1)."),
    fmt: str = typer.Option(
        "text", "--format", help="text (a diff, then a summary on stderr) or json (one object on stdout)."
    ),
) -> None:
    """Fix what can be fixed: one shared client per target and sized pools; with
    --unsafe-fixes also N+1 loads, pagination and indexes (`scaleaudit rules` says which rule is which).

    Safe fixes only by default; shows a unified diff and changes nothing unless --write.
    Every rewritten file must re-parse; files changed since the scan are not overwritten;
    a second run changes nothing. What cannot be fixed safely is skipped with the edit to make.

    [bold]Examples[/bold]

      scaleaudit fix .                                      # the diff of the safe fixes
      scaleaudit fix . --write                              # apply them
      scaleaudit fix . --unsafe-fixes --select n-plus-one   # preview the N+1 fixes
      scaleaudit fix . --write --unsafe-fixes --select missing-index --migrations
      scaleaudit fix . --max-connections 200 --workers 4 --instances 3
      scaleaudit fix . --format json > fix.json             # for a bot
    """
    targets = paths or [Path(".")]
    settings = flag_settings(
        targets, config, isolated=isolated, select=select, ignore=ignore, min_confidence=min_confidence
    )
    settings = with_capacity(settings, max_connections, workers, instances)
    if migrations:
        settings = replace(settings, fix=replace(settings.fix, migrations=True))
    code = fix_and_report(
        targets,
        settings,
        write=write,
        unsafe=unsafe_fixes,
        require_clean=require_clean,
        use_cache=not no_cache,
        no_color=no_color,
        exit_zero=exit_zero,
        fmt=_format(fmt),
    )
    raise typer.Exit(code)


def _format(value: str) -> str:
    if value not in ("text", "json"):
        raise UserError(f"--format must be text or json for fix, not {value!r}")
    return value
