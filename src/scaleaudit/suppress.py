"""Inline suppressions: `# scaleaudit: ignore[SA101]` and `ignore-file[...]`.

The comment is found with a byte regex (no parse needed), in Python `#` and
JavaScript `//` comments alike. A selector may be a rule id, a rule name or a
category; a bare `ignore` silences every rule on that line. Suppressions that
silenced nothing are reported, so stale ones do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scaleaudit.model import Diagnostic, Finding

ALL = "*"
_PATTERN = re.compile(rb"(?:#|//|/\*)\s*scaleaudit:\s*(?P<kind>ignore-file|ignore)\b(?:\[(?P<sel>[^\]\n]*)\])?")


def parse_suppressions(data: bytes) -> dict[int, frozenset[str]]:
    if b"scaleaudit:" not in data:
        return {}
    out: dict[int, frozenset[str]] = {}
    for match in _PATTERN.finditer(data):
        raw = match.group("sel")
        selectors = (
            frozenset(s.strip() for s in raw.decode("utf-8", "replace").split(",") if s.strip())
            if raw
            else frozenset({ALL})
        )
        line = 0 if match.group("kind") == b"ignore-file" else data.count(b"\n", 0, match.start()) + 1
        out[line] = out.get(line, frozenset()) | selectors
    return out


def _matches(selector: str, finding: Finding) -> bool:
    return selector in (ALL, finding.rule, finding.name, finding.category.value) or (
        selector.upper().startswith("SA") and finding.rule.startswith(selector.upper())
    )


@dataclass(frozen=True)
class Suppressed:
    kept: tuple[Finding, ...]
    suppressed: int
    unused: tuple[Diagnostic, ...]


def apply_suppressions(
    findings: Iterable[Finding],
    by_path: Mapping[str, Mapping[int, frozenset[str]]],
    known_selectors: frozenset[str] = frozenset(),
) -> Suppressed:
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    suppressed = 0
    for finding in findings:
        table = by_path.get(finding.path, {})
        span = finding.location.span
        hit = None
        for line in (span.line, span.end_line, 0):
            for selector in table.get(line, ()):
                if _matches(selector, finding):
                    hit = (finding.path, line, selector)
                    break
            if hit:
                break
        if hit:
            used.add(hit)
            suppressed += 1
        else:
            kept.append(finding)
    unused = [
        Diagnostic(
            "unused-suppression",
            path,
            f"suppression `{selector}` matched no finding"
            + (
                ""
                if selector == ALL or not known_selectors or selector in known_selectors
                else " (unknown rule or category)"
            ),
            line,
        )
        for path, table in sorted(by_path.items())
        for line, selectors in sorted(table.items())
        for selector in sorted(selectors)
        if (path, line, selector) not in used
    ]
    return Suppressed(tuple(kept), suppressed, tuple(unused))
