"""`scaleaudit merge`: join the shard documents of a split scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from scaleaudit import api
from scaleaudit.cli import UserError, app
from scaleaudit.cli._common import parse_severity
from scaleaudit.cli.scan import EXIT_HELP, check_format, emit


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read shard: {exc.strerror}") from exc
    except ValueError as exc:
        raise UserError(f"{path}: not a scaleaudit shard document (invalid JSON)") from exc
    if not isinstance(document, dict) or document.get("scaleaudit-shard") != 1:
        raise UserError(f"{path}: not a scaleaudit shard document")
    return document


@app.command(epilog=EXIT_HELP)
def merge(
    shards: list[Path] = typer.Argument(..., help="The documents written by `scan --shard i/n`."),
    fmt: str = typer.Option("text", "--format", "-f", help="Output format: text, json, sarif or github."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    config: Path | None = typer.Option(None, "--config", help="Config file (default: found from the shards' root)."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Only report findings not in this baseline."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Lowest severity that fails the run."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text even on a terminal."),
) -> None:
    """Join shard documents into one report, running the project phase over all their facts.

    For trees too big for one CI job, split the scan over a matrix and merge:

      scaleaudit scan . --shard 0/4 -o shard-0.json     # in job 0 of 4 (and so on)
      scaleaudit merge shard-*.json --format sarif -o scaleaudit.sarif

    The merged findings are the ones a single scan of the whole tree reports.
    """
    fmt = check_format(fmt)
    documents = [_load(path) for path in shards]
    roots = {str(d.get("root")) for d in documents}
    if len(roots) != 1:
        raise UserError(f"shards come from different roots: {', '.join(sorted(roots))}")
    root = Path(roots.pop())
    settings = api.settings_for([root] if root.is_dir() else [], config).with_overrides(
        root=root, fail_on=parse_severity(fail_on)
    )
    result = api.merge(documents, settings, baseline=baseline)
    emit(result, fmt, output, no_color, verbose=False)
    raise typer.Exit(api.exit_code(result, settings.fail_on))
