"""`run_fix`: scan, let every fixer propose, keep what is safe to write, write it.

The order of fixers is their priority: the shared-client fix removes whole
client constructions, so it runs before the pool fix that would otherwise
size a pool about to disappear. Proposals are accepted greedily in that
order; one whose edits collide with an accepted one, or that makes a file
fail to re-parse, is refused whole (never half-applied) with a reason. The
per-file steps never raise: a file that cannot be written becomes a
`FileFailure` and the run goes on (LibCST's TransformFailure, in spirit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scaleaudit.capacity import pool_plan, with_detected
from scaleaudit.config import Settings
from scaleaudit.engine.job import Job
from scaleaudit.engine.runner import Selection, run_scan
from scaleaudit.fixes.base import (
    UNSAFE_REASON,
    Applied,
    FileChange,
    FileFailure,
    FixContext,
    Fixer,
    FixResult,
    Proposal,
    Skipped,
    key_of,
)
from scaleaudit.fixes.pysource import tidy
from scaleaudit.fixes.writer import (
    SourceText,
    StaleFileError,
    TextEdit,
    apply_edits,
    commit,
    digest,
    encode,
    finish,
    git_dirty,
    register_finisher,
    validate,
)
from scaleaudit.fixes.writer import resolve_overlaps as resolve_overlaps
from scaleaudit.model import FixSafety, ScanResult
from scaleaudit.rulebook import ClientSpec

register_finisher(".py", tidy)


def fixers() -> list[Fixer]:
    """Every module in this package that declares `FIXER` (and `PRIORITY`, lower runs first).

    Discovery lets each language's fixers live in their own module without a
    shared registry to edit; the order is the priority (module docstring).
    """
    import importlib
    import pkgutil

    import scaleaudit.fixes as package

    found: list[tuple[int, str, Fixer]] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        fixer = getattr(module, "FIXER", None)
        if fixer is not None:
            found.append((int(getattr(module, "PRIORITY", 50)), info.name, fixer))
    return [fixer for _, _, fixer in sorted(found, key=lambda item: (item[0], item[1]))]


# Two rewrites that touch one region of a file cannot both be accepted against the
# text as scanned (merging them is how fixers produce broken code). The one refused
# is retried against the result of the others — rescanned in memory, never written
# in between — so one `fix` run reaches the fixed point and a second run is a no-op.
# Ruff loops the same way (up to 100 times); here a few rounds cover a client
# assigned several times in one module.
MAX_ROUNDS = 8


@dataclass
class _Round:
    """One propose-and-settle pass over a scan (the first of the files on disk, later
    ones of the previous rounds' unwritten result)."""

    scan: ScanResult
    ctx: FixContext
    accepted: list[Proposal]
    skipped: list[Skipped]
    texts: dict[str, str]
    failures: list[FileFailure]
    clashes: list[Skipped]  # refused only because they overlapped an accepted proposal


def run_fix(
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
    scan = run_scan(paths, settings, use_cache=use_cache)
    wanted = _Wanted(settings, select, ignore, unsafe)
    state = _propose(scan, wanted, {})
    originals = dict(state.ctx.sources_read())
    texts, accepted, failures = dict(state.texts), list(state.accepted), list(state.failures)
    carried: list[Skipped] = []  # an earlier round's refusal, unless a later round applied that rule there
    for _ in range(MAX_ROUNDS - 1):
        if not (state.clashes and state.accepted):
            break
        overlay = {rel: encode(originals[rel], text) for rel, text in texts.items()}
        rescan = run_scan(paths, settings, use_cache=use_cache, overlay=overlay)
        pending = {rel: replace(originals[rel], text=text, _line_starts=[]) for rel, text in texts.items()}
        previous, state = state, _propose(rescan, wanted, pending)
        retried = {(p.rule, p.path) for p in state.accepted}
        carried = [s for s in [*carried, *previous.clashes] if (s.rule, s.path) not in retried]
        for rel, source in state.ctx.sources_read().items():
            originals.setdefault(rel, source)
        texts.update(state.texts)
        accepted += state.accepted
        failures += state.failures
    changes = tuple(
        FileChange(rel, originals[rel].text, text, created=not originals[rel].exists)
        for rel, text in sorted(texts.items())
        if text != originals[rel].text or not originals[rel].exists
    )
    warnings: list[str] = []
    written = False
    if write and changes:
        dirty = git_dirty(state.ctx.root)
        if dirty:
            message = f"the git work tree has uncommitted changes ({len(dirty)} file(s), e.g. {dirty[0]})"
            if require_clean:
                failures.append(FileFailure(".", f"refused: {message} and --require-clean was given"))
                return _result(scan, state, carried, changes, accepted, failures, warnings, False)
            warnings.append(f"{message}; review the fix with `git diff`")
        failures += _write(originals, changes)
        written = True
    return _result(scan, state, carried, changes, accepted, failures, warnings, written)


@dataclass(frozen=True)
class _Wanted:
    """Which fixes the user asked for: the same in every round."""

    settings: Settings
    select: Sequence[str] | None
    ignore: Sequence[str] | None
    unsafe: bool


def _propose(scan: ScanResult, wanted: _Wanted, pending: dict[str, SourceText]) -> _Round:
    """Every fixer proposes against `scan` (files in `pending` read as their unwritten text)."""
    ctx, not_allowed = _context(scan, wanted)
    ctx.seed(pending)
    proposals: list[Proposal] = []
    skipped: list[Skipped] = list(not_allowed)
    for fixer in fixers():
        for item in fixer(ctx):
            if isinstance(item, Proposal):
                proposals.append(item)
            else:
                skipped.append(item)
    accepted, refused, clashes, texts, failures = _settle(ctx, proposals)
    return _Round(scan, ctx, accepted, skipped + refused + clashes, texts, failures, clashes)


def _context(scan: ScanResult, wanted: _Wanted) -> tuple[FixContext, list[Skipped]]:
    settings, select, ignore, unsafe = wanted.settings, wanted.select, wanted.ignore, wanted.unsafe
    job = Job.from_settings(settings)
    book = job.book
    chosen = Selection.resolve(book, tuple(select or settings.select), tuple(ignore or settings.ignore)).enabled
    allowed = frozenset(
        r for r in chosen if book.rules[r].fix_safety == FixSafety.SAFE or (unsafe and book.rules[r].fix_safety)
    )
    not_allowed = [
        Skipped(f.rule, f.path, f.line, UNSAFE_REASON)
        for f in scan.findings
        if f.rule in chosen and f.rule not in allowed and book.rules[f.rule].fix_safety == FixSafety.UNSAFE
    ]
    extra: dict[str, ClientSpec] = dict(job.options.get("extra_clients", {}))
    ctx = FixContext(
        root=Path(scan.root),
        settings=settings,
        scan=scan,
        book=book,
        plan=pool_plan(*with_detected(settings.capacity, scan.facts)),
        enabled=allowed,
        unsafe=unsafe,
        clients={**book.clients_by_qualname("python"), **extra},
    )
    return ctx, not_allowed


def _settle(
    ctx: FixContext, proposals: list[Proposal]
) -> tuple[list[Proposal], list[Skipped], list[Skipped], dict[str, str], list[FileFailure]]:
    """Accept proposals in priority order; refuse collisions and re-parse failures whole.

    Returns (accepted, refused as not re-parsing, refused as overlapping, texts, failures).
    """
    accepted: list[Proposal] = []
    refused: list[Skipped] = []
    clashes: list[Skipped] = []
    kept: dict[str, list[TextEdit]] = {}
    for proposal in proposals:
        reason = _clash(proposal, kept)
        if reason:
            clashes.append(Skipped(proposal.rule, proposal.path, proposal.line, reason))
            continue
        accepted.append(proposal)
        for rel, edits in proposal.edits.items():
            kept.setdefault(rel, []).extend(edits)
    failures: list[FileFailure] = []
    while True:
        texts = {
            rel: finish(rel, ctx.source(rel).text, apply_edits(ctx.source(rel), edits)) for rel, edits in kept.items()
        }
        broken = {rel: err for rel, text in texts.items() if (err := _unwritable(ctx.source(rel), text))}
        if not broken:
            return accepted, refused, clashes, texts, failures
        for rel, err in broken.items():
            failures.append(FileFailure(rel, err))
        for proposal in [p for p in accepted if set(p.edits) & set(broken)]:
            accepted.remove(proposal)
            refused.append(Skipped(proposal.rule, proposal.path, proposal.line, "its rewrite did not re-parse"))
        kept = {}
        for proposal in accepted:
            for rel, edits in proposal.edits.items():
                kept.setdefault(rel, []).extend(edits)


def _unwritable(source: SourceText, text: str) -> str:
    """Why `text` must not be written over `source`: it does not re-parse, or holds a
    character the file's declared encoding (PEP 263) cannot store."""
    try:
        encode(source, text)
    except UnicodeEncodeError as exc:
        return f"the fix needs {text[exc.start : exc.end]!r}, which {source.encoding} cannot encode"
    return validate(source.rel, text) or ""


def _clash(proposal: Proposal, kept: dict[str, list[TextEdit]]) -> str:
    for rel, edits in proposal.edits.items():
        tagged = [replace(e, group="__candidate__") for e in edits]
        _, refused = resolve_overlaps([*kept.get(rel, []), *tagged])
        if refused:
            return refused[0].reason
    return ""


def _write(originals: Mapping[str, SourceText], changes: Sequence[FileChange]) -> list[FileFailure]:
    """Check every file first, then write: one stale file must not leave half a fix on disk."""
    stale: list[FileFailure] = []
    for change in changes:
        source = originals[change.path]
        path = source.path
        if path.is_symlink():
            # os.replace would turn the link into a regular file, and its target may be
            # rewritten under its own path in this same run (a half-applied fix).
            reason = "is a symbolic link; nothing was written (fix the file it points to)"
            stale.append(FileFailure(change.path, reason))
            continue
        now = digest(path.read_bytes()) if path.exists() else ""
        if now != source.sha:
            stale.append(FileFailure(change.path, "changed since it was scanned; nothing was written"))
    if stale:
        return stale
    failures: list[FileFailure] = []
    for change in sorted(changes, key=lambda c: not c.created):  # new shared modules first
        try:
            commit(originals[change.path], change.after)
        except (StaleFileError, OSError) as exc:
            failures.append(FileFailure(change.path, str(exc)))
    return failures


def _result(
    scan: ScanResult,
    last: _Round,
    carried: list[Skipped],
    changes: tuple[FileChange, ...],
    accepted: list[Proposal],
    failures: list[FileFailure],
    warnings: list[str],
    written: bool,
) -> FixResult:
    """What was applied (every round) and what remains: the last round's scan is of the
    fixed text, so its findings that round did not resolve are exactly what is left."""
    failed = {f.path for f in failures}
    refused_all = any(f.path == "." for f in failures)
    ok = [] if refused_all else [p for p in accepted if not (written and set(p.edits) & failed)]
    if refused_all or (written and failed):
        # what is on disk is the original tree plus what did get written: judge against the
        # scan of the originals (a later round's keys may not match it: rare, and only a summary)
        last = replace(last, scan=scan, accepted=ok)
    resolved = {k for p in last.accepted for k in p.resolves}
    skipped = [*last.skipped, *carried]
    handled = resolved | {(s.rule, s.path, s.line) for s in skipped}
    leftover = [
        Skipped(f.rule, f.path, f.line, "no automatic fix applies here")
        for f in last.scan.findings
        if f.rule in last.ctx.enabled and key_of(f) not in handled
    ]
    return FixResult(
        scan=scan,
        changes=changes,
        applied=tuple(Applied(p.rule, p.path, p.line, p.description, max(1, len(p.resolves))) for p in ok),
        skipped=tuple(sorted({*skipped, *leftover}, key=lambda s: (s.path, s.line, s.rule))),
        failures=tuple(failures),
        warnings=tuple(warnings),
        written=written,
        remaining=tuple(f for f in last.scan.findings if key_of(f) not in resolved),
    )
