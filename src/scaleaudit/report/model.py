"""The content of a report: frozen dataclasses of plain values, rendered by three renderers.

Everything a renderer shows is decided here or in build.py, so Markdown, HTML
and JSON always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    path: str
    line: int
    note: str = ""
    excerpt: str = ""  # a few source lines around `line`, for the HTML report

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class ArchitectureItem:
    aspect: str  # "web framework", "database", ...
    value: str  # "FastAPI", "PostgreSQL (Prisma)", "not detected"
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Issue:
    """One reviewer-level problem: all findings of one rule, however many places."""

    id: str  # stable: the rule id
    rule: str
    name: str
    title: str
    category: str
    severity: str
    confidence: str
    score: float  # severity × confidence × reach, for ranking
    priority: int  # 1 critical fixes, 2 performance, 3 infrastructure
    impact: str
    fix: str
    autofix: str  # "safe", "unsafe" or "none": whether `scaleaudit fix` can apply it
    checklist: str
    locations: tuple[Evidence, ...]
    files: int


@dataclass(frozen=True)
class Assumption:
    name: str
    value: str
    source: str  # "flag", "default", "code", "config", "live"


@dataclass(frozen=True)
class Capacity:
    target_users: int
    instances: int
    workers: int
    processes: int
    pool_per_process: int | None  # None: no pooled database client seen
    fleet_connections: int | None
    max_connections: int
    reserved: int
    usable: int
    fits: bool | None
    redis_clients_per_process: int
    redis_connections_per_process: int | None  # None: unbounded (a pool without max_connections)
    redis_maxclients: int
    requests_per_second: float
    mean_db_busy: float  # Little's law: connections busy on average
    peak_db_busy: int
    peak_factor: float
    assumptions: tuple[Assumption, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    monolith_enough: bool
    headline: str
    reasons: tuple[str, ...]
    would_change: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    priority: int
    text: str
    issues: tuple[str, ...]  # issue ids


@dataclass(frozen=True)
class ChecklistLine:
    key: str
    number: int
    title: str
    status: str  # "done", "open", "unknown"
    reason: str
    issues: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Comparison:
    previous: str  # the file name compared against
    fixed: tuple[str, ...]  # issue titles
    new: tuple[str, ...]
    remaining: tuple[str, ...]
    checklist_changes: tuple[str, ...]  # "Configure the pool: open -> done"


@dataclass(frozen=True)
class Report:
    project: str
    target_users: int
    files_scanned: int
    lines: int
    architecture: tuple[ArchitectureItem, ...]
    issues: tuple[Issue, ...]
    capacity: Capacity
    verdict: Verdict
    actions: tuple[Action, ...]
    checklist: tuple[ChecklistLine, ...]
    live: str  # what the live part did, in one sentence
    by_category: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # category -> ((severity, count), ...)
    comparison: Comparison | None = None

    @property
    def no_problems(self) -> bool:
        return not self.issues
