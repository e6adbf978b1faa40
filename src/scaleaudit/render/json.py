"""The JSON report: a documented, versioned schema (docs/json-schema.md)."""

from __future__ import annotations

import json
from typing import Any

from scaleaudit import __version__
from scaleaudit.baseline import fingerprints
from scaleaudit.model import ScanResult
from scaleaudit.serialize import diagnostic_to, fact_to, finding_to

SCHEMA_VERSION = "1.0"


def to_dict(result: ScanResult, *, include_facts: bool = False) -> dict[str, Any]:
    summary = result.summary
    out: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "scaleaudit", "version": __version__},
        "root": result.root,
        "findings": [finding_to(f, fp) for f, fp in zip(result.findings, fingerprints(result.findings), strict=True)],
        "diagnostics": [diagnostic_to(d) for d in result.diagnostics],
        "summary": {
            "files_scanned": summary.files_scanned,
            "files_skipped": summary.files_skipped,
            "lines": summary.lines,
            "findings": len(result.findings),
            "by_severity": dict(sorted(summary.by_severity.items())),
            "by_category": dict(sorted(summary.by_category.items())),
            "suppressed": summary.suppressed,
            "baselined": summary.baselined,
        },
    }
    if include_facts:
        out["facts"] = [fact_to(f) for f in result.facts]
    return out


def render(result: ScanResult, *, include_facts: bool = False) -> str:
    """Top-level keys one per line, each finding and diagnostic on one line.

    Readable and diff-able, and ten times faster than `indent=2`, which
    forces the pure-Python encoder (a 6,000-finding report took 0.7 s)."""
    data = to_dict(result, include_facts=include_facts)
    parts = []
    for key, value in data.items():
        if isinstance(value, list):
            items = ",\n".join("    " + _dumps(item) for item in value)
            body = f"[\n{items}\n  ]" if value else "[]"
        else:
            body = _dumps(value)
        parts.append(f"  {json.dumps(key)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
