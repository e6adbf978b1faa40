"""`scaleaudit fix --format json`: what a fix run changed, applied and skipped, for bots
(a PR comment, a dashboard) — the same versioned contract as the scan's JSON (docs/json-schema.md).

Renderers only render: everything here is read off the FixResult.
"""

from __future__ import annotations

import json
from typing import Any

from scaleaudit import __version__
from scaleaudit.fixes.base import FixResult
from scaleaudit.render.json import SCHEMA_VERSION
from scaleaudit.serialize import diagnostic_to


def to_dict(result: FixResult) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "scaleaudit", "version": __version__},
        "root": result.scan.root,
        "written": result.written,
        "changes": [{"path": c.path, "created": c.created, "diff": c.diff()} for c in result.changes],
        "applied": [
            {"rule": a.rule, "path": a.path, "line": a.line, "description": a.description, "resolves": a.resolves}
            for a in result.applied
        ],
        "skipped": [{"rule": s.rule, "path": s.path, "line": s.line, "reason": s.reason} for s in result.skipped],
        "failures": [{"path": f.path, "reason": f.reason} for f in result.failures],
        "diagnostics": [diagnostic_to(d) for d in result.scan.diagnostics],  # files not read, as in scan's JSON
        "warnings": list(result.warnings),
        "remaining": len(result.remaining if result.written else result.scan.findings),
    }


def render(result: FixResult) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
