"""Running a check the way the API does, with thresholds and rule selections for one test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from scaleaudit.config import CheckSettings, Settings
from scaleaudit.live.api import run_check
from scaleaudit.model import Fact, Finding, ScanResult


def settings(thresholds: Mapping[str, float] | None = None, select: Sequence[str] = ("ALL",),
             **check: int) -> Settings:
    return Settings(root=Path.cwd(), select=tuple(select),
                    check=CheckSettings(thresholds=dict(thresholds or {}), **check))


def run(database_url: str | None = None, redis_url: str | None = None, *, facts: Sequence[Fact] = (),
        thresholds: Mapping[str, float] | None = None, select: Sequence[str] = ("ALL",),
        server_memory: str | None = None, workers: int | None = None, instances: int | None = None) -> ScanResult:
    return run_check(database_url, redis_url, settings(thresholds, select), facts, server_memory=server_memory,
                     workers=workers, instances=instances)


def by_rule(result: ScanResult) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in result.findings:
        out.setdefault(finding.rule, []).append(finding)
    return out


def anchors(result: ScanResult, rule: str) -> set[str]:
    return {f.anchor for f in result.findings if f.rule == rule}


def skipped(result: ScanResult) -> dict[str, str]:
    return {d.message.split(" ", 1)[0]: d.message for d in result.diagnostics if d.kind == "check-skipped"}
