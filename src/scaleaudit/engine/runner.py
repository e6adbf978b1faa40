"""Run a scan: discover, analyse files (parallel, cached), join facts, filter.

Workers receive paths and return `FileResult`s — small plain data — so
nothing heavy crosses a process boundary. Results are sorted by path, so the
output does not depend on `--jobs` or on which worker finished first.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from scaleaudit.config import ConfigError, Settings
from scaleaudit.discovery import SourceFile, classify, discover
from scaleaudit.engine.cache import Cache, content_hash
from scaleaudit.engine.frontends import analyze_bytes
from scaleaudit.engine.job import Job
from scaleaudit.model import Diagnostic, Fact, FileResult, Finding, ScanResult, ScanSummary, Severity
from scaleaudit.project import ProjectContext, project_rules
from scaleaudit.rulebook import Rulebook
from scaleaudit.serialize import finding_from, finding_to
from scaleaudit.suppress import apply_suppressions

Progress = Callable[[int, int], None]
# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 24

_JOB: Job | None = None


def _init_worker(job: Job) -> None:
    global _JOB
    _JOB = job
    # Generated code nests deeply (long string concatenations, huge literals);
    # the walk recurses once per level. Past this, the file gets a diagnostic.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))


def _work(item: tuple[str, str, str]) -> tuple[FileResult, str]:
    path, rel, language = item
    assert _JOB is not None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        diag = Diagnostic("skipped", rel, f"cannot read: {exc.strerror}")
        return FileResult(rel, language, 0, diagnostics=(diag,)), ""
    return analyze_bytes(rel, data, language, _JOB), content_hash(data)


def analyse_files(
    files: Sequence[SourceFile], job: Job, jobs: int, progress: Progress | None = None
) -> Iterator[tuple[SourceFile, FileResult, str]]:
    items = [(f.location, f.rel, f.language) for f in files]
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(items) < PARALLEL_THRESHOLD:
        _init_worker(job)
        results: Iterable[tuple[FileResult, str]] = map(_work, items)
        for done, (source, (result, sha)) in enumerate(zip(files, results, strict=True), 1):
            if progress:
                progress(done, len(files))
            yield source, result, sha
        return
    chunk = max(1, min(64, len(items) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(job,)) as pool:
        mapped = pool.map(_work, items, chunksize=chunk)
        for done, (source, (result, sha)) in enumerate(zip(files, mapped, strict=True), 1):
            if progress:
                progress(done, len(files))
            yield source, result, sha


@dataclass(frozen=True)
class Selection:
    """Which rules are on, resolved from select/ignore against the rulebook."""

    enabled: frozenset[str]

    @classmethod
    def resolve(cls, book: Rulebook, select: Sequence[str], ignore: Sequence[str]) -> Selection:
        def expand(selectors: Sequence[str]) -> set[str]:
            ids: set[str] = set()
            for selector in selectors:
                matched = book.lookup(selector)
                if not matched:
                    raise ConfigError(f"unknown rule or category {selector!r} (see `scaleaudit rules`)")
                ids.update(m.id for m in matched)
            return ids

        return cls(frozenset(expand(select) - expand(ignore)))


def shard_files(files: Sequence[SourceFile], shard: tuple[int, int] | None) -> list[SourceFile]:
    """Deterministic split for CI matrices: by a stable hash of the path."""
    if shard is None:
        return list(files)
    index, total = shard
    return [f for f in files if int(content_hash(f.rel.encode())[:8], 16) % total == index]


def _per_file_ignored(finding: Finding, settings: Settings, book: Rulebook) -> bool:
    for pattern, selectors in settings.per_file_ignores.items():
        if fnmatch(finding.path, pattern) or finding.path.startswith(pattern.rstrip("/") + "/"):
            ids = {m.id for s in selectors for m in book.lookup(s)}
            if finding.rule in ids:
                return True
    return False


def _override_severity(finding: Finding, settings: Settings, book: Rulebook) -> Finding:
    for selector, severity in settings.severity.items():
        if finding.rule in {m.id for m in book.lookup(selector)}:
            return replace(finding, severity=severity)
    return finding


def run_project_phase(
    facts: Sequence[Fact], job: Job, settings: Settings, paths: Sequence[str] = ()
) -> list[Finding]:
    """Every project rule; selection is applied later, like for per-file findings,
    so the result can be cached whatever the user selects."""
    ctx = ProjectContext(facts=facts, book=job.book, settings=settings, paths=paths)
    findings: list[Finding] = []
    for rule in project_rules().values():
        findings.extend(rule(ctx))
    return findings


def project_key(job: Job, shas: Sequence[tuple[str, str]]) -> str:
    """Identifies one exact set of file contents under one configuration."""
    material = job.digest + "\0" + "\0".join(f"{rel}:{sha}" for rel, sha in sorted(shas))
    return content_hash(material.encode())


def finalise(
    root: Path,
    results: Sequence[FileResult],
    skipped: Sequence[Diagnostic],
    job: Job,
    settings: Settings,
    selection: Selection,
    project: Sequence[Finding] | None = None,
) -> ScanResult:
    """Everything after the per-file phase; also used to merge shard reports.

    `project` is the project phase's output when it is already known (cached);
    otherwise it is computed from the results' facts."""
    facts = [fact for r in results for fact in r.facts]
    findings = [f for r in results for f in r.findings]
    if project is None:
        project = run_project_phase(facts, job, settings, [r.path for r in results])
    findings.extend(project)
    findings = [
        _override_severity(f, settings, job.book)
        for f in findings
        if f.rule in selection.enabled
        and f.confidence.rank >= settings.min_confidence.rank
        and not _per_file_ignored(f, settings, job.book)
    ]
    known = frozenset(
        {m.id for m in job.book.rules.values()}
        | {m.name for m in job.book.rules.values()}
        | {m.category.value for m in job.book.rules.values()}
    )
    outcome = apply_suppressions(findings, {r.path: r.suppressions for r in results if r.suppressions}, known)
    kept = sorted(outcome.kept, key=Finding.sort_key)
    diagnostics = sorted(
        [*skipped, *(d for r in results for d in r.diagnostics), *outcome.unused],
        key=lambda d: (d.path, d.line, d.kind),
    )
    summary = ScanSummary(
        files_scanned=len(results),
        files_skipped=len(skipped) + sum(1 for r in results if any(d.kind == "skipped" for d in r.diagnostics)),
        lines=sum(r.lines for r in results),
        by_severity=dict(Counter(f.severity.value for f in kept)),
        by_category=dict(Counter(f.category.value for f in kept)),
        suppressed=outcome.suppressed,
        baselined=0,
    )
    return ScanResult(str(root), tuple(kept), tuple(diagnostics), summary, tuple(facts))


@dataclass(frozen=True)
class FilePhase:
    """The per-file phase's output, and the project phase if the cache had it."""

    results: list[FileResult]
    skipped: list[Diagnostic]
    job: Job
    project: list[Finding] | None = None


def scan_files(
    paths: Sequence[Path],
    settings: Settings,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
    job: Job | None = None,
    want_facts: bool = True,
    overlay: Mapping[str, bytes] | None = None,
) -> FilePhase:
    """Discovery, cache, analysis — and the cached project phase when nothing changed.

    `overlay` (rel path -> content) scans those files as if they held it,
    created ones included: `fix` re-scans its own unwritten result with it.
    Overlaid files are neither looked up in nor stored to the cache.
    """
    job = job or Job.from_settings(settings)
    found = discover(
        paths,
        settings.root,
        exclude=settings.exclude,
        extend_exclude=settings.extend_exclude,
        respect_gitignore=settings.respect_gitignore,
        max_file_bytes=settings.max_file_bytes,
    )
    overlay = overlay or {}
    files = shard_files(with_overlay(found.files, settings.root, overlay), shard)
    cache_dir = settings.root / settings.cache_dir if use_cache else None
    cache = Cache.open(cache_dir, job.digest)
    # Facts are most of a cached entry; read them only if the join must be redone.
    lazy = not want_facts and shard is None
    results: dict[str, FileResult] = {}
    todo: list[SourceFile] = []
    for source in files:
        hit = None if source.rel in overlay else cache.lookup(source, facts=not lazy)
        if hit is None:
            todo.append(source)
        else:
            results[source.rel] = hit
    shas = {rel: cache.sha(rel) for rel in results}
    for overlaid in [f for f in todo if f.rel in overlay]:
        todo.remove(overlaid)
        data = overlay[overlaid.rel]
        results[overlaid.rel] = analyze_bytes(overlaid.rel, data, overlaid.language, job)
        shas[overlaid.rel] = content_hash(data)
    for source, result, sha in analyse_files(todo, job, settings.jobs, progress):
        results[source.rel] = result
        shas[source.rel] = sha
        if sha and not any(d.kind in ("skipped", "internal-error") for d in result.diagnostics):
            cache.store(source, result, sha)
    ordered = [results[f.rel] for f in files]
    project = None
    if shard is None:
        cache.prune(results)
        key = project_key(job, list(shas.items()))
        cached = cache.project_findings(key) if use_cache and all(shas.values()) else None
        project = _decode_findings(cached)
        if project is None:
            if lazy:  # the join needs every file's facts after all
                analysed = {s.rel for s in todo}
                ordered = [
                    results[f.rel] if f.rel in analysed else (cache.lookup(f) or results[f.rel]) for f in files
                ]
            project = run_project_phase(
                [fact for r in ordered for fact in r.facts], job, settings, [r.path for r in ordered]
            )
            cache.store_project(key, [finding_to(f) for f in project])
    cache.save()
    return FilePhase(ordered, list(found.skipped), job, project)


def with_overlay(files: Sequence[SourceFile], root: Path, overlay: Mapping[str, bytes]) -> list[SourceFile]:
    """The discovered files plus the overlay's files that do not exist yet, in path order."""
    known = {f.rel for f in files}
    extra = [
        SourceFile(str(root / rel), rel, language, len(data), 0)
        for rel, data in overlay.items()
        if rel not in known and (language := classify(rel.rsplit("/", 1)[-1])) is not None
    ]
    return sorted([*files, *extra], key=lambda f: f.rel) if extra else list(files)


def _decode_findings(raw: list[dict[str, Any]] | None) -> list[Finding] | None:
    """Cached project findings, or None when absent or damaged (then the join is redone)."""
    if raw is None:
        return None
    try:
        return [finding_from(f) for f in raw]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def run_scan(
    paths: Sequence[Path],
    settings: Settings,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
    want_facts: bool = True,
    overlay: Mapping[str, bytes] | None = None,
) -> ScanResult:
    job = Job.from_settings(settings)
    selection = Selection.resolve(job.book, settings.select, settings.ignore)
    phase = scan_files(paths, settings, use_cache=use_cache, progress=progress, shard=shard, job=job,
                       want_facts=want_facts, overlay=overlay)
    if shard is not None:
        # A shard cannot join facts it does not have: `merge` runs the project phase.
        return finalise(settings.root, phase.results, phase.skipped, phase.job, settings, selection, project=[])
    return finalise(settings.root, phase.results, phase.skipped, phase.job, settings, selection, phase.project)


def exit_code(result: ScanResult, fail_on: Severity) -> int:
    return 1 if any(f.severity.rank >= fail_on.rank for f in result.findings) else 0
