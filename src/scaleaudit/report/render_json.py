"""The report as JSON (schema: docs/report-json.md). Same content as Markdown and HTML."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from scaleaudit import __version__
from scaleaudit.report.model import Report

SCHEMA_VERSION = "1.0"


def to_dict(report: Report, *, tool_version: bool = True) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["by_category"] = {c: dict(counts) for c, counts in report.by_category}
    data["no_problems"] = report.no_problems
    head: dict[str, Any] = {"schema": "scaleaudit-report", "version": SCHEMA_VERSION}
    if tool_version:
        head["tool"] = {"name": "scaleaudit", "version": __version__}
    return {**head, **data}


def render(report: Report, *, tool_version: bool = True) -> str:
    return json.dumps(to_dict(report, tool_version=tool_version), indent=2, ensure_ascii=False) + "\n"
