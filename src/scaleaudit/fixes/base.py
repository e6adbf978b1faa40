"""What fixers share: the context they read, the proposals they make, the results.

A fixer is a function `(FixContext) -> Iterable[Proposal | Skipped]`. It
never writes: a `Proposal` holds text edits for one or more files (a shared
module created plus the sites that now import it) that stand or fall
together; `scaleaudit.fixes.api` resolves overlaps, re-parses and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import dirname
from typing import Any

from scaleaudit.capacity import PoolPlan
from scaleaudit.config import Settings
from scaleaudit.fixes.writer import SourceText, TextEdit, render_diff
from scaleaudit.model import Finding, FixSafety, ScanResult, Span
from scaleaudit.project.models import Registry
from scaleaudit.project.modules import ModuleIndex
from scaleaudit.rulebook import ClientSpec, Rulebook

FindingKey = tuple[str, str, int]  # (rule, path, line)

# Why a fix was not applied when only --unsafe-fixes would allow it. The run refuses unsafe
# rules with it; fixers whose rule is safe in general but unsafe for some sites (SA401 on a
# Django model, SA101 inside a handler) say it themselves, before doing the work.
UNSAFE_REASON = "unsafe fix (it can change behaviour): rerun with --unsafe-fixes"


def key_of(finding: Finding) -> FindingKey:
    return (finding.rule, finding.path, finding.line)


@dataclass(frozen=True)
class Proposal:
    rule: str
    path: str  # where the finding is (for the summary)
    line: int
    description: str
    edits: Mapping[str, tuple[TextEdit, ...]]  # rel path -> edits against that file as read
    resolves: tuple[FindingKey, ...] = ()


@dataclass(frozen=True)
class Applied:
    rule: str
    path: str
    line: int
    description: str
    resolves: int = 1  # findings it fixes: one index fix can declare twenty indexes


@dataclass(frozen=True)
class Skipped:
    rule: str
    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str
    after: str
    created: bool = False

    def diff(self, color: bool = False) -> str:
        return render_diff(self.path, self.before, self.after, color=color, created=self.created)


@dataclass(frozen=True)
class FileFailure:
    """A file the fix run did not write (LibCST's TransformFailure): the run goes on."""

    path: str
    reason: str


@dataclass(frozen=True)
class FixResult:
    scan: ScanResult
    changes: tuple[FileChange, ...]
    applied: tuple[Applied, ...]
    skipped: tuple[Skipped, ...]
    failures: tuple[FileFailure, ...] = ()
    warnings: tuple[str, ...] = ()
    written: bool = False
    remaining: tuple[Finding, ...] = ()  # findings no applied fix resolves


@dataclass
class FixContext:
    root: Path
    settings: Settings
    scan: ScanResult
    book: Rulebook
    plan: PoolPlan
    enabled: frozenset[str]  # rules whose fixes run (select/ignore and safety applied)
    unsafe: bool = False
    clients: Mapping[str, ClientSpec] = field(default_factory=dict)  # python qualname -> spec
    # calls (path, span of the call) a fixer already rewrites: later fixers leave them alone
    claimed: dict[tuple[str, Span], str] = field(default_factory=dict)
    _sources: dict[str, SourceText] = field(default_factory=dict)
    parsed: dict[str, Any] = field(default_factory=dict)  # rel -> PyFile or the parse error (pysource.load)
    _registry: Registry | None = None

    def seed(self, pending: Mapping[str, SourceText]) -> None:
        """Read these files as their unwritten text from an earlier round (see fixes.api)."""
        self._sources.update(pending)

    def sources_read(self) -> Mapping[str, SourceText]:
        return self._sources

    def findings(self, *rules: str) -> list[Finding]:
        return [f for f in self.scan.findings if f.rule in rules and f.rule in self.enabled]

    def source(self, rel: str) -> SourceText:
        """The file as read now (cached): every edit of the run is computed against it."""
        if rel not in self._sources:
            path = self.root / rel
            self._sources[rel] = SourceText.read(path, rel) if path.exists() else SourceText.new(path, rel)
        return self._sources[rel]

    def registry(self) -> Registry:
        """The scan's model registry, rebuilt once per run from the facts it kept. Package
        markers (`__init__.py`) decide module names, as in the project phase (ModuleIndex)."""
        if self._registry is None:
            paths = {fact.location.path for fact in self.scan.facts}
            for rel in list(paths):
                paths.update(f"{d}/__init__.py" for d in _parents(rel) if (self.root / d / "__init__.py").is_file())
            self._registry = Registry.of(self.scan.facts, sorted(paths))
        return self._registry

    def module_name(self, rel: str) -> str:
        """Dotted name from the package structure on disk (ModuleIndex's rule, for files
        that exist only in this run, such as a shared module about to be created)."""
        packages = {d for d in _parents(rel) if (self.root / d / "__init__.py").is_file()}
        return ModuleIndex([*(f"{d}/__init__.py" for d in packages), rel]).python_module(rel)

    def safety(self, rule: str) -> FixSafety | None:
        meta = self.book.rules.get(rule)
        return meta.fix_safety if meta else None


def _parents(rel: str) -> list[str]:
    out: list[str] = []
    directory = dirname(rel)
    while directory:
        out.append(directory)
        directory = dirname(directory)
    return out


Fixer = Callable[[FixContext], Iterable[Proposal | Skipped]]
