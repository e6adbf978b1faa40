"""GitHub Actions workflow commands: one annotation per finding on the PR diff."""

from __future__ import annotations

from scaleaudit.model import ScanResult, Severity

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult) -> str:
    lines = []
    for f in result.findings:
        span = f.location.span
        props = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={span.line}",
                f"col={span.column}",
                f"endLine={span.end_line}",
                f"endColumn={span.end_column}",
                f"title={_escape_property(f'{f.rule} {f.name}')}",
            ]
        )
        lines.append(f"::{_LEVEL[f.severity]} {props}::{_escape_data(f.message)}")
    for d in result.diagnostics:
        if d.kind in ("parse-error", "internal-error"):
            lines.append(f"::warning file={_escape_property(d.path)},line={max(d.line, 1)}::{_escape_data(d.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
