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
    want_facts: bool = True,
) -> ScanResult:
    """Scan `paths`. `want_facts=False` (the CLI) lets a warm scan skip reading
    facts from the cache when the cached project phase still applies."""
    if os.environ.get("SCALEAUDIT_NO_CACHE"):
        use_cache = False
    entries = read_baseline(baseline) if baseline is not None else None
    result = run_scan(paths, settings, use_cache=use_cache, progress=progress, shard=shard, want_facts=want_facts)
    if entries is not None:
        result = apply_baseline(result, entries)
    return result


def scan_shard(
    paths: Sequence[Path],
    settings: Settings,
    shard: tuple[int, int],
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Part `shard` = (index, count) of a scan, as a document `merge` joins.

    Files are split by a stable hash of their path, so a CI matrix of `count`
    jobs covers every file exactly once; each shard keeps its files' facts,
    findings and suppressions so the merge can run the project phase."""
    from scaleaudit.engine.runner import scan_files
    from scaleaudit.serialize import diagnostic_to, file_result_to

    phase = scan_files(paths, settings, use_cache=use_cache, progress=progress, shard=shard)
    return {
        "scaleaudit-shard": 1,
        "index": shard[0],
        "count": shard[1],
        "root": str(settings.root),
        "digest": phase.job.digest,
        "files": [file_result_to(r) for r in phase.results],
        "skipped": [diagnostic_to(d) for d in phase.skipped],
    }


def merge(documents: Sequence[dict[str, Any]], settings: Settings, *, baseline: Path | None = None) -> ScanResult:
    """Join shard documents into the result one whole scan would have given."""
    from scaleaudit.engine.job import Job
    from scaleaudit.engine.runner import Selection, finalise
    from scaleaudit.serialize import diagnostic_from, file_result_from

    job = Job.from_settings(settings)
    counts = {d.get("count") for d in documents}
    indexes = sorted(int(d.get("index", -1)) for d in documents)
    if len(counts) != 1 or indexes != list(range(next(iter(counts)) or 0)):
        raise ConfigError(f"shards do not form a whole: got indexes {indexes} of {sorted(map(str, counts))}")
    if any(d.get("digest") != job.digest for d in documents):
        raise ConfigError("shards were scanned with another scaleaudit version or configuration")
    try:
        results = sorted((file_result_from(f) for d in documents for f in d["files"]), key=lambda r: r.path)
        # Every shard walked the whole tree before taking its part: one copy of each note.
        skipped = list(
            {(x["path"], x["message"]): diagnostic_from(x) for d in documents for x in d.get("skipped", ())}.values()
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"not a scaleaudit shard document ({type(exc).__name__}: {exc})") from exc
    selection = Selection.resolve(job.book, settings.select, settings.ignore)
    result = finalise(settings.root, results, skipped, job, settings, selection)
    return apply_baseline(result, read_baseline(baseline)) if baseline is not None else result


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
    return make_report(
        path, settings, load, database_url=database_url, redis_url=redis_url, previous=previous, use_cache=use_cache
    )
