"""SARIF 2.1.0, with `tool.driver.rules` generated from the rule YAML and
fixes included where a finding carries one (GitHub code scanning reads it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaleaudit import __version__
from scaleaudit.baseline import fingerprints
from scaleaudit.model import Finding, Location, ScanResult, Severity
from scaleaudit.rulebook import Rulebook, RuleMeta, load_rulebook

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub sorts code-scanning alerts by this 0-10 score.
_SECURITY_SEVERITY = {"critical": "9.0", "high": "7.0", "medium": "5.0", "low": "3.0", "info": "1.0"}


def rule_help_markdown(meta: RuleMeta) -> str:
    return (
        f"## What it does\n{meta.summary}\n\n## Why is this bad?\n{meta.why}\n\n"
        f"## Example\n```\n{meta.example}\n```\n\n## Use instead\n```\n{meta.use_instead}\n```\n\n"
        f"## Fix safety\n{meta.fix or 'No automatic fix.'}\n"
    )


def _rule(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.why},
        "help": {"text": f"{meta.summary}\n\n{meta.why}", "markdown": rule_help_markdown(meta)},
        "defaultConfiguration": {"level": _LEVEL[meta.severity]},
        "properties": {
            "category": meta.category.value,
            "tags": ["scalability", meta.category.value],
            "precision": {"high": "high", "medium": "medium", "low": "low"}[meta.confidence.value],
            "security-severity": _SECURITY_SEVERITY[meta.severity.value],
            "checklist": meta.checklist,
        },
    }


def _physical(loc: Location) -> dict[str, Any]:
    span = loc.span
    return {
        "artifactLocation": {"uri": loc.path, "uriBaseId": "%SRCROOT%"},
        "region": {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        },
    }


def _result(finding: Finding, index: int, fingerprint: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": _physical(finding.location)}],
        "partialFingerprints": {"scaleauditFingerprint/v1": fingerprint},
        "properties": {
            "category": finding.category.value,
            "severity": finding.severity.value,
            "confidence": finding.confidence.value,
        },
    }
    if finding.related:
        out["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(loc), "message": {"text": loc.note or "related"}}
            for i, loc in enumerate(finding.related, 1)
        ]
    if finding.fix and finding.fix.edits:
        out["fixes"] = [
            {
                "description": {"text": finding.fix.description},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": edit.path, "uriBaseId": "%SRCROOT%"},
                        "replacements": [
                            {
                                "deletedRegion": {
                                    "startLine": edit.span.line,
                                    "startColumn": edit.span.column,
                                    "endLine": edit.span.end_line,
                                    "endColumn": edit.span.end_column,
                                },
                                "insertedContent": {"text": edit.replacement},
                            }
                        ],
                    }
                    for edit in finding.fix.edits
                ],
            }
        ]
    return out


def to_dict(result: ScanResult, book: Rulebook | None = None) -> dict[str, Any]:
    book = book or load_rulebook()
    metas = sorted(book.rules.values(), key=lambda m: m.id)
    index = {m.id: i for i, m in enumerate(metas)}
    root_uri = Path(result.root).resolve().as_uri() + "/"
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "scaleaudit",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/scaleaudit/",
                        "rules": [_rule(m) for m in metas],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "results": [
                    _result(f, index[f.rule], fp)
                    for f, fp in zip(result.findings, fingerprints(result.findings), strict=True)
                    if f.rule in index
                ],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning" if d.kind in ("parse-error", "internal-error") else "note",
                                "message": {"text": f"{d.kind}: {d.message}"},
                                "locations": [
                                    {
                                        "physicalLocation": {
                                            "artifactLocation": {"uri": d.path, "uriBaseId": "%SRCROOT%"}
                                        }
                                    }
                                ],
                            }
                            for d in result.diagnostics
                        ],
                    }
                ],
            }
        ],
    }


def render(result: ScanResult) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
