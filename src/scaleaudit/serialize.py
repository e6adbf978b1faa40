"""Model objects to plain JSON-able dicts and back.

Used by the JSON renderer, the cache and shard merging. JSON (not pickle) on
purpose: the cache lives inside the scanned tree, and a scanned tree may be
hostile; unpickling a planted cache file would run its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaleaudit.model import (
    Category,
    Confidence,
    Diagnostic,
    Edit,
    Fact,
    FileResult,
    Finding,
    Fix,
    FixSafety,
    Location,
    Severity,
    Span,
)


def span_to(span: Span) -> dict[str, int]:
    return {"line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def span_from(d: Mapping[str, Any]) -> Span:
    return Span(int(d["line"]), int(d["column"]), int(d["end_line"]), int(d["end_column"]))


def location_to(loc: Location) -> dict[str, Any]:
    out: dict[str, Any] = {"path": loc.path, **span_to(loc.span)}
    if loc.note:
        out["note"] = loc.note
    return out


def location_from(d: Mapping[str, Any]) -> Location:
    return Location(str(d["path"]), span_from(d), str(d.get("note", "")))


def fix_to(fix: Fix) -> dict[str, Any]:
    return {
        "description": fix.description,
        "safety": fix.safety.value,
        "edits": [{"path": e.path, **span_to(e.span), "replacement": e.replacement} for e in fix.edits],
    }


def fix_from(d: Mapping[str, Any]) -> Fix:
    return Fix(
        str(d["description"]),
        FixSafety(d["safety"]),
        tuple(Edit(str(e["path"]), span_from(e), str(e["replacement"])) for e in d.get("edits", ())),
    )


def finding_to(f: Finding, fingerprint: str = "") -> dict[str, Any]:
    """The documented JSON shape of a finding (docs/json-schema.md)."""
    out: dict[str, Any] = {
        "rule": f.rule,
        "name": f.name,
        "category": f.category.value,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "path": f.location.path,
        **span_to(f.location.span),
        "message": f.message,
        "checklist": f.checklist,
        "related": [location_to(r) for r in f.related],
        "fix": fix_to(f.fix) if f.fix else None,
        "anchor": f.anchor,
    }
    if fingerprint:
        out["fingerprint"] = fingerprint
    return out


def finding_from(d: Mapping[str, Any]) -> Finding:
    return Finding(
        rule=str(d["rule"]),
        name=str(d["name"]),
        category=Category(d["category"]),
        severity=Severity(d["severity"]),
        confidence=Confidence(d["confidence"]),
        location=Location(str(d["path"]), span_from(d)),
        message=str(d["message"]),
        checklist=str(d.get("checklist", "")),
        related=tuple(location_from(r) for r in d.get("related", ())),
        fix=fix_from(d["fix"]) if d.get("fix") else None,
        anchor=str(d.get("anchor", "")),
    )


def diagnostic_to(d: Diagnostic) -> dict[str, Any]:
    return {"kind": d.kind, "path": d.path, "line": d.line, "message": d.message}


def diagnostic_from(d: Mapping[str, Any]) -> Diagnostic:
    return Diagnostic(str(d["kind"]), str(d["path"]), str(d["message"]), int(d.get("line", 0)))


def fact_to(f: Fact) -> dict[str, Any]:
    return {"kind": f.kind, "location": location_to(f.location), "data": dict(f.data)}


def fact_from(d: Mapping[str, Any]) -> Fact:
    return Fact(str(d["kind"]), location_from(d["location"]), dict(d.get("data", {})))


def file_result_to(r: FileResult) -> dict[str, Any]:
    return {
        "path": r.path,
        "language": r.language,
        "lines": r.lines,
        "findings": [finding_to(f) for f in r.findings],
        "facts": [fact_to(f) for f in r.facts],
        "diagnostics": [diagnostic_to(d) for d in r.diagnostics],
        "suppressions": {str(k): sorted(v) for k, v in r.suppressions.items()},
    }


def file_result_from(d: Mapping[str, Any], *, facts: bool = True) -> FileResult:
    """`facts=False` skips the bulk of a cached entry when the project phase is cached too."""
    return FileResult(
        path=str(d["path"]),
        language=str(d["language"]),
        lines=int(d["lines"]),
        findings=tuple(finding_from(f) for f in d.get("findings", ())),
        facts=tuple(fact_from(f) for f in d.get("facts", ())) if facts else (),
        diagnostics=tuple(diagnostic_from(x) for x in d.get("diagnostics", ())),
        suppressions={int(k): frozenset(v) for k, v in d.get("suppressions", {}).items()},
    )
