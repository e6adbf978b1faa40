"""--compare previous.json: which issues and checklist items changed since the last report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaleaudit.report.model import Comparison, Report


def _places(issue: Mapping[str, Any]) -> int:
    return len(issue.get("locations", ()))


def compare(report: Report, previous: Mapping[str, Any], name: str) -> Comparison:
    """Issues are matched by id (the rule), checklist items by key; both are stable across runs."""
    before = {str(i["id"]): i for i in previous.get("issues", ()) if isinstance(i, Mapping) and "id" in i}
    now = {i.id: i for i in report.issues}
    fixed = tuple(f"{k}: {before[k].get('title', k)}" for k in sorted(before.keys() - now.keys()))
    new = tuple(f"{k}: {now[k].title}" for k in sorted(now.keys() - before.keys()))
    remaining = tuple(
        f"{k}: {now[k].title} ({_places(before[k])} → {len(now[k].locations)} place(s))"
        for k in sorted(now.keys() & before.keys())
    )
    old_status = {
        str(c.get("key")): str(c.get("status")) for c in previous.get("checklist", ()) if isinstance(c, Mapping)
    }
    changes = tuple(
        f"{line.number}. {line.title}: {old_status[line.key]} → {line.status}"
        for line in report.checklist
        if line.key in old_status and old_status[line.key] != line.status
    )
    return Comparison(name, fixed, new, remaining, changes)
