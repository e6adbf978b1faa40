"""The data scaleaudit produces: findings, fixes, diagnostics and per-file facts.

Everything here is a frozen dataclass made of plain values, so results can be
cached (pickled), shipped between worker processes and compared in tests
without dragging a syntax tree along.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Confidence(str, enum.Enum):
    """How sure a rule is that a finding is a real problem.

    high:   the pattern is unambiguous once names are resolved; we expect a
            reviewer to agree every time.
    medium: the pattern matched but depends on something we inferred (a
            function is a request handler, a variable holds a queryset).
    low:    a heuristic link (across files, through a template); worth a look.
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]


class Category(str, enum.Enum):
    """The fixed vocabulary findings are grouped by (reports, baselines, scores)."""

    DUPLICATE_CLIENT = "duplicate-client"
    CLIENT_PER_REQUEST = "client-per-request"
    POOL_CONFIG = "pool-config"
    PAGINATION = "pagination"
    N_PLUS_ONE = "n-plus-one"
    MISSING_INDEX = "missing-index"
    CACHING = "caching"
    HORIZONTAL_SCALING = "horizontal-scaling"
    OBSERVABILITY = "observability"
    LIVE_POSTGRES = "live-postgres"
    LIVE_REDIS = "live-redis"


class FixSafety(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Span:
    """1-based lines, 1-based columns; end is exclusive in columns like SARIF."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, order=True)
class Location:
    path: str  # POSIX path relative to the scan root
    span: Span
    note: str = ""


@dataclass(frozen=True)
class Edit:
    """Replace the text between two byte-free (line, column) positions."""

    path: str
    span: Span
    replacement: str


@dataclass(frozen=True)
class Fix:
    description: str
    safety: FixSafety
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule: str  # rule id, e.g. "SA101"
    name: str  # rule name, e.g. "client-constructed-in-many-modules"
    category: Category
    severity: Severity
    confidence: Confidence
    location: Location
    message: str
    checklist: str = ""
    related: tuple[Location, ...] = ()
    fix: Fix | None = None
    # A short, position-free description of what was flagged (the call's
    # dotted name, the relation, the table): the baseline fingerprint is built
    # from it so that a finding keeps its identity when lines move.
    anchor: str = ""

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.span.line

    def sort_key(self) -> tuple[str, int, int, str]:
        span = self.location.span
        return (self.location.path, span.line, span.column, self.rule)


@dataclass(frozen=True)
class Diagnostic:
    """Something about the run, not the code: a parse error, a skipped file."""

    kind: str  # "parse-error", "skipped", "unused-suppression", "check-skipped", ...
    path: str
    message: str
    line: int = 0


@dataclass(frozen=True)
class Fact:
    """A per-file observation the project phase joins across files.

    `kind` says which project rule consumes it; `data` holds plain values only.
    """

    kind: str
    location: Location
    data: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True)
class FileResult:
    """What the per-file phase returns for one file: small and picklable."""

    path: str
    language: str
    lines: int
    findings: tuple[Finding, ...] = ()
    facts: tuple[Fact, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # line number -> rule selectors suppressed on that line; 0 = whole file
    suppressions: Mapping[int, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanSummary:
    files_scanned: int
    files_skipped: int
    lines: int
    by_severity: Mapping[str, int]
    by_category: Mapping[str, int]
    suppressed: int
    baselined: int


@dataclass(frozen=True)
class ScanResult:
    root: str
    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]
    summary: ScanSummary
    facts: tuple[Fact, ...] = ()
