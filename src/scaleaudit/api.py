"""The library surface: what the CLI calls, and what other tools can call.

    from scaleaudit import api
    settings = api.settings_for([Path("app")])
    result = api.scan([Path("app")], settings)

Errors a user can fix (bad config, unknown rule, unreadable baseline) raise
`ConfigError` with a one-line message; everything about the scanned code
(syntax errors, unreadable files) becomes a `Diagnostic` in the result.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaleaudit.baseline import apply_baseline, read_baseline, write_baseline
from scaleaudit.config import ConfigError, Settings, load_settings
from scaleaudit.engine.runner import Progress, exit_code, run_scan
from scaleaudit.model import Fact, ScanResult

if TYPE_CHECKING:
    from scaleaudit.fixes.base import FixResult

__all__ = ["ConfigError", "exit_code", "scan", "scan_root", "settings_for", "write_baseline"]


def scan_root(paths: Sequence[Path]) -> Path:
    """Paths in findings are relative to this: the one directory scanned, else the cwd."""
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0].resolve()
    if len(paths) == 1 and paths[0].is_file():
        return paths[0].resolve().parent
    return Path.cwd().resolve()


def settings_for(
    paths: Sequence[Path],
    config: Path | None = None,
    *,
    isolated: bool = False,
    **overrides: Any,
) -> Settings:
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise ConfigError(f"{missing[0]}: no such file or directory")
    root = scan_root(paths)
    settings = load_settings(root, config, isolated=isolated)
    return settings.with_overrides(**overrides)


def scan(
    paths: Sequence[Path],
    settings: Settings,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
    baseline: Path | None = None,
) -> ScanResult:
    if os.environ.get("SCALEAUDIT_NO_CACHE"):
        use_cache = False
    entries = read_baseline(baseline) if baseline is not None else None
    result = run_scan(paths, settings, use_cache=use_cache, progress=progress, shard=shard)
    if entries is not None:
        result = apply_baseline(result, entries)
    return result


def check(
    database_url: str | None,
    redis_url: str | None,
    settings: Settings,
    path: Path | None = None,
    *,
    workers: int | None = None,
    instances: int | None = None,
    server_memory: str | None = None,
    baseline: Path | None = None,
    use_cache: bool = True,
) -> ScanResult:
    """Live checks of PostgreSQL/Redis; with `path`, joined with that code's static facts.

    Raises `scaleaudit.live.connect.LiveError` (one line, no password) when a
    server cannot be reached.
    """
    from dataclasses import replace

    from scaleaudit.live.api import run_check

    entries = read_baseline(baseline) if baseline is not None else None
    facts: tuple[Fact, ...] = ()
    if path is not None:
        # Every rule on: the facts the joins need come from rules the user may have deselected.
        everything = replace(settings, select=("ALL",), ignore=())
        facts = scan([path], everything, use_cache=use_cache).facts
    result = run_check(
        database_url, redis_url, settings, facts, instances=instances, workers=workers, server_memory=server_memory
    )
    return apply_baseline(result, entries) if entries is not None else result


def fix(
    paths: Sequence[Path],
    settings: Settings,
    *,
    write: bool = False,
    unsafe: bool = False,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    require_clean: bool = False,
    use_cache: bool = True,
) -> FixResult:
    """Scan, then propose (or with `write`, apply) the automatic fixes; see scaleaudit.fixes.api."""
    from scaleaudit.fixes.api import run_fix

    if os.environ.get("SCALEAUDIT_NO_CACHE"):
        use_cache = False
    return run_fix(
        paths,
        settings,
        write=write,
        unsafe=unsafe,
        select=select,
        ignore=ignore,
        require_clean=require_clean,
        use_cache=use_cache,
    )


def report(
    path: Path,
    settings: Settings,
    load: Any = None,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    previous: Path | None = None,
    use_cache: bool = True,
) -> Any:
    """Scan `path` (every rule on), optionally run the live checks, and build the review (a report.model.Report)."""
    from scaleaudit.report.service import make_report

    if os.environ.get("SCALEAUDIT_NO_CACHE"):
        use_cache = False
    return make_report(path, settings, load, database_url=database_url, redis_url=redis_url, previous=previous,
                       use_cache=use_cache)
