"""Findings -> reviewer-level issues: one issue per rule, with every place it occurs.

"PrismaClient constructed in 48 modules" is one issue with 48 locations, not
48 issues. Issues are ranked by severity × confidence × reach, where reach
grows with the number of places (logarithmically: the 48th copy adds less
than the second).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from scaleaudit.model import Category, Finding, Severity
from scaleaudit.report.model import Evidence, Issue
from scaleaudit.rulebook import Rulebook

SEVERITY_WEIGHT = {"critical": 10.0, "high": 6.0, "medium": 3.0, "low": 1.0, "info": 0.3}
CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.7, "low": 0.4}
PRIORITY_1 = {Category.DUPLICATE_CLIENT, Category.CLIENT_PER_REQUEST, Category.POOL_CONFIG}
PRIORITY_2 = {
    Category.N_PLUS_ONE,
    Category.PAGINATION,
    Category.MISSING_INDEX,
    Category.CACHING,
    Category.LIVE_POSTGRES,
}
EXCERPT_CONTEXT = 2
MAX_LOCATIONS = 200

Impact = Callable[[str, int, int], str]  # (category, locations, files) -> one sentence


def score(severity: str, confidence: str, locations: int) -> float:
    reach = 1.0 + math.log2(max(1, locations))
    return round(SEVERITY_WEIGHT[severity] * CONFIDENCE_WEIGHT[confidence] * reach, 2)


def priority(category: Category, severity: Severity) -> int:
    """1 critical fixes, 2 performance, 3 infrastructure (the review's three priorities)."""
    if category in PRIORITY_1 or (severity is Severity.CRITICAL and category is not Category.OBSERVABILITY):
        return 1
    return 2 if category in PRIORITY_2 else 3


def excerpt(root: Path | None, path: str, line: int) -> str:
    """A few numbered source lines around `line`; empty when the file cannot be read."""
    if root is None or line <= 0:
        return ""
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    start, end = max(1, line - EXCERPT_CONTEXT), min(len(lines), line + EXCERPT_CONTEXT)
    return "\n".join(f"{n:>4} {'>' if n == line else ' '} {lines[n - 1]}" for n in range(start, end + 1))


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _remedy(findings: Sequence[Finding], tool_text: str) -> str:
    """What to do, in the code's own terms: the message's last clause ("...; add
    `.select_related("ticket")` to the `Comment` queryset"). The header line already says
    whether `scaleaudit fix` does it, so the tool's own description is only the fallback
    for messages without a remedy clause."""
    first = findings[0]
    _, sep, clause = first.message.rpartition("; ")
    if not sep:
        return _first_sentence(tool_text) if tool_text else first.message
    if len({f.message.rpartition("; ")[2] for f in findings}) > 1:
        clause += " (for the first location; each location says its own)"
    return clause


def group(findings: Sequence[Finding], book: Rulebook, root: Path | None, impact: Impact) -> tuple[Issue, ...]:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_rule[finding.rule].append(finding)
    issues = [_issue(rule, sorted(group, key=Finding.sort_key), book, root, impact) for rule, group in by_rule.items()]
    return tuple(sorted(issues, key=lambda i: (i.priority, -i.score, i.rule)))


def _issue(rule: str, findings: list[Finding], book: Rulebook, root: Path | None, impact: Impact) -> Issue:
    first = findings[0]
    worst = max(findings, key=lambda f: (f.severity.rank, f.confidence.rank))
    meta = book.rules.get(rule)
    files = len({f.path for f in findings})
    count = len(findings)
    where = f"{count} place(s) in {files} file(s)" if count > 1 else f"{first.path}:{first.line}"
    title = f"{meta.summary.rstrip('.') if meta else first.name} — {where}"
    fix = _remedy(findings, meta.fix if meta else "")
    locations = tuple(
        Evidence(f.path, f.line, f.message, excerpt(root, f.path, f.line)) for f in findings[:MAX_LOCATIONS]
    )
    return Issue(
        id=rule,
        rule=rule,
        name=first.name,
        title=title,
        category=first.category.value,
        severity=worst.severity.value,
        confidence=worst.confidence.value,
        score=score(worst.severity.value, worst.confidence.value, count),
        priority=priority(first.category, worst.severity),
        impact=impact(first.category.value, count, files) or (_first_sentence(meta.why) if meta else ""),
        fix=fix or (meta.use_instead.splitlines()[0] if meta and meta.use_instead else ""),
        autofix=meta.fix_safety.value if meta and meta.fix_safety else "none",
        checklist=first.checklist,
        locations=locations,
        files=files,
    )
