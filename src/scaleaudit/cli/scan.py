"""`scaleaudit scan`: the static audit."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from scaleaudit import api
from scaleaudit.cli import UserError, app
from scaleaudit.cli._common import (
    color_wanted,
    flag_settings,
    output_stream,
    parse_shard,
    progress_bar,
)
from scaleaudit.config import Settings
from scaleaudit.model import ScanResult
from scaleaudit.render import FORMATS

EXIT_HELP = "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage, config or internal error."


def finish(
    result: ScanResult,
    settings: Settings,
    baseline: Path | None,
    *,
    write_baseline: bool,
    exit_zero: bool,
    fmt: str,
    output: Path | None,
    no_color: bool,
    verbose: bool,
) -> None:
    """Write the baseline, or render the result; then exit as CI expects. Shared with `check`."""
    if write_baseline:
        assert baseline is not None
        count = api.write_baseline(baseline, result)
        typer.echo(f"scaleaudit: wrote {count} finding(s) to {baseline}", err=True)
        raise typer.Exit(0)
    emit(result, fmt, output, no_color, verbose)
    raise typer.Exit(0 if exit_zero else api.exit_code(result, settings.fail_on))


def emit(result: ScanResult, fmt: str, output: Path | None, no_color: bool, verbose: bool) -> None:
    """Render `result` in `fmt`; shared with `check` so both speak the same formats."""
    with output_stream(output) as out:
        if fmt == "text":
            from scaleaudit.render import text

            text.render(result, out, color=color_wanted(no_color, out), verbose=verbose)
        elif fmt == "json":
            from scaleaudit.render import json as json_render

            out.write(json_render.render(result))
        elif fmt == "sarif":
            from scaleaudit.render import sarif

            out.write(sarif.render(result))
        else:
            from scaleaudit.render import github

            out.write(github.render(result))


def write_shard(
    targets: list[Path], settings: Settings, part: tuple[int, int], output: Path | None, *, use_cache: bool, quiet: bool
) -> None:
    """A shard's document for `scaleaudit merge` (JSON whatever --format says)."""
    with progress_bar(not quiet, f"scanning shard {part[0]}/{part[1]}") as progress:
        document = api.scan_shard(targets, settings, part, use_cache=use_cache, progress=progress)
    with output_stream(output) as out:
        json.dump(document, out, separators=(",", ":"))
        out.write("\n")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


@app.command(epilog=EXIT_HELP)
def scan(
    paths: list[Path] = typer.Argument(None, help="Files or directories to scan (default: the current directory)."),
    fmt: str = typer.Option("text", "--format", "-f", help="Output format: text, json, sarif or github."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    select: list[str] | None = typer.Option(
        None, "--select", help="Only these rules: ids (SA101), id prefixes (SA1), names or categories. Comma-separated."
    ),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Turn these rules off (same forms as --select)."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Lowest severity that makes the exit code 1 \\[default: high]."
    ),
    min_confidence: str | None = typer.Option(
        None, "--min-confidence", help="Hide findings below this confidence: high, medium or low \\[default: medium]."
    ),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=0, help="Worker processes (0: one per core)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write .scaleaudit_cache/."),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Config file (default: nearest pyproject.toml with \\[tool.scaleaudit], or scaleaudit.yaml).",
    ),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore all config files."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Only report findings not in this baseline file."),
    write_baseline: bool = typer.Option(
        False, "--write-baseline", help="Write current findings to --baseline and exit 0."
    ),
    shard: str | None = typer.Option(None, "--shard", help="Scan only part i of n (e.g. 0/4); join with `merge`."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings fail the run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list skipped files."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text even on a terminal (also NO_COLOR=1)."),
    fix: bool = typer.Option(False, "--fix", help="Apply the safe fixes: an alias of `scaleaudit fix --write`."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="With --fix: also apply unsafe fixes."),
) -> None:
    """Scan source code for scalability problems.

    Reads Python (libcst) and TypeScript/JavaScript, plus .env, schema.prisma, compose and
    process files. Honours .gitignore; skips virtualenvs, node_modules and build output.

    [bold]Examples[/bold]

      scaleaudit scan .                                   # text report
      scaleaudit scan app --format sarif -o out.sarif     # for GitHub code scanning
      scaleaudit scan . --select duplicate-client,SA2     # a few rules
      scaleaudit scan . --baseline .scaleaudit-baseline.json --write-baseline
    """
    fmt = check_format(fmt)
    targets = paths or [Path(".")]
    if write_baseline and baseline is None:
        raise UserError("--write-baseline needs --baseline FILE")
    settings = flag_settings(
        targets,
        config,
        isolated=isolated,
        select=select,
        ignore=ignore,
        min_confidence=min_confidence,
        fail_on=fail_on,
        jobs=jobs,
    )
    if fix:  # the same API call and report as `scaleaudit fix --write`
        from scaleaudit.cli.fix import fix_and_report

        as_json = "json" if fmt == "json" else "text"  # sarif/github describe findings, not fixes
        code = fix_and_report(targets, settings, write=True, unsafe=unsafe_fixes, use_cache=not no_cache, fmt=as_json)
        raise typer.Exit(0 if exit_zero and code == 1 else code)
    part = parse_shard(shard)
    if part is not None:
        write_shard(targets, settings, part, output, use_cache=not no_cache, quiet=quiet)
        raise typer.Exit(0)
    with progress_bar(not quiet, "scanning") as progress:
        result = api.scan(
            targets,
            settings,
            use_cache=not no_cache,
            progress=progress,
            baseline=None if write_baseline else baseline,
            want_facts=False,
        )
    finish(result, settings, baseline, write_baseline=write_baseline, exit_zero=exit_zero, fmt=fmt, output=output,
           no_color=no_color, verbose=verbose)  # fmt: skip
