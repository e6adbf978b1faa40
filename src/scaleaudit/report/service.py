"""Running what a report needs: the scan, the optional live checks, the previous report."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from scaleaudit.config import ConfigError, Settings
from scaleaudit.engine.runner import run_scan
from scaleaudit.model import ScanResult
from scaleaudit.report.build import Load, build_report
from scaleaudit.report.model import Report


def read_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the previous report: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != "scaleaudit-report":
        raise ConfigError(f"{path}: not a `scaleaudit report --format json` file")
    return data


def run_live(
    database_url: str | None, redis_url: str | None, settings: Settings, result: ScanResult, load: Load
) -> tuple[ScanResult | None, str]:
    """The live checks, when asked for and installed; the sentence says what happened."""
    if not database_url and not redis_url:
        return None, "not run (no --database-url / --redis-url given)"
    try:
        live_api = importlib.import_module("scaleaudit.live.api")
    except ImportError:
        return None, "not run: the live checks (scaleaudit.live) are not available in this installation"
    live = live_api.run_check(
        database_url, redis_url, settings, result.facts, instances=load.instances, workers=load.workers
    )
    targets = " and ".join(n for n, u in (("PostgreSQL", database_url), ("Redis", redis_url)) if u)
    skipped = sum(1 for d in live.diagnostics if d.kind == "check-skipped")
    return live, f"run against {targets}" + (f" ({skipped} check(s) skipped)" if skipped else "")


def make_report(
    path: Path,
    settings: Settings,
    load: Load | None = None,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    previous: Path | None = None,
    use_cache: bool = True,
) -> Report:
    load = load or Load(users=settings.capacity.target_users)
    # Every rule on: the architecture and checklist need facts from rules the user may have deselected;
    # the user's selection still filters which findings become issues.
    everything = replace(settings, select=("ALL",), ignore=())
    result = run_scan([path], everything, use_cache=use_cache)
    if settings.select != ("ALL",) or settings.ignore:
        selected = run_scan([path], settings, use_cache=use_cache)
        result = replace(result, findings=selected.findings, summary=selected.summary)
    live, note = run_live(database_url, redis_url, settings, result, load)
    old = read_previous(previous) if previous is not None else None
    return build_report(
        result, settings, load, live=live, live_note=note, previous=old, previous_name=previous.name if previous else ""
    )
