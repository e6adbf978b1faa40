"""Helpers the scaling, caching and observability joins share."""

from __future__ import annotations

from typing import Any

from scaleaudit.model import Confidence, Fact, Finding, Location, Severity
from scaleaudit.project import ProjectContext

# Paths whose facts describe tests and scripts, not the running app.
_NOT_APP = ("tests/", "test/", "scripts/")


def processes(fact: Fact) -> int | None:
    """workers × instances of a process-model fact; None when either is unknown and not 1."""
    workers, instances = fact.get("workers"), fact.get("instances")
    if workers is None and instances is None:
        return None
    return int(workers or 1) * int(instances or 1)


def describe_process(fact: Fact) -> str:
    parts = [str(fact.get("source") or "process model")]
    if fact.get("workers") is not None:
        parts.append(f"{fact.get('workers')} worker(s)")
    if fact.get("instances") is not None:
        parts.append(f"{fact.get('instances')} instance(s)")
    return ", ".join(parts)


def is_app_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return not (path.startswith(_NOT_APP) or "/tests/" in path or name.startswith("test_") or name == "conftest.py")


def finding(
    ctx: ProjectContext,
    rule: str,
    at: Fact,
    *,
    anchor: str,
    related: tuple[Location, ...] = (),
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    **values: Any,
) -> Finding:
    return ctx.book.rule(rule).finding(
        at.location, severity=severity, confidence=confidence, related=related, anchor=anchor, **values
    )
