"""Human output: findings grouped by file with a code frame, then a summary.

Colour only when writing to a terminal (rich decides) and never with
`--no-color` or `NO_COLOR`; the plain form is stable enough to grep.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scaleaudit.model import Diagnostic, Finding, ScanResult, Severity

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_SEVERITY_ORDER = [s.value for s in Severity]


def make_console(out: TextIO, color: bool | None) -> Console:
    return Console(
        file=out,
        no_color=color is False,
        force_terminal=True if color else None,
        highlight=False,
        soft_wrap=True,
        width=None if color else 200,
    )


def _source_line(root: Path, rel: str, line: int, cache: dict[str, list[str]]) -> str | None:
    if rel not in cache:
        try:
            cache[rel] = (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[rel] = []
    lines = cache[rel]
    return lines[line - 1] if 0 < line <= len(lines) else None


def _frame(console: Console, finding: Finding, root: Path, cache: dict[str, list[str]]) -> None:
    span = finding.location.span
    text = _source_line(root, finding.path, span.line, cache)
    if text is None:
        return
    gutter = f"{span.line:>6} │ "
    console.print(f"[dim]{gutter}[/dim]{escape(text.expandtabs(4))}")
    width = (span.end_column - span.column) if span.end_line == span.line else len(text) - span.column + 1
    caret = " " * (span.column - 1) + "^" * max(1, width)
    console.print(f"[dim]{' ' * 7}│ [/dim][red]{caret}[/red]")


def _finding(console: Console, finding: Finding, root: Path, cache: dict[str, list[str]]) -> None:
    span = finding.location.span
    console.print(
        f"  {finding.path}:{span.line}:{span.column}: "
        f"[{_STYLE[finding.severity]}]{finding.severity.value}[/] "
        f"[bold]{finding.rule}[/bold] {escape(finding.message)} "
        f"[dim]({finding.category.value}, {finding.confidence.value} confidence)[/dim]"
    )
    _frame(console, finding, root, cache)
    shown = finding.related[:5]
    for loc in shown:
        note = f" {escape(loc.note)}" if loc.note else ""
        console.print(f"[dim]       ↳ {loc.path}:{loc.span.line}{note}[/dim]")
    if len(finding.related) > len(shown):
        console.print(f"[dim]       ↳ … and {len(finding.related) - len(shown)} more[/dim]")


def _diagnostics(console: Console, diagnostics: Iterable[Diagnostic], verbose: bool) -> None:
    for d in diagnostics:
        if d.kind == "skipped" and not verbose:
            continue
        where = f"{d.path}:{d.line}" if d.line else d.path
        console.print(f"[yellow]{d.kind}[/yellow] {escape(where)}: {escape(d.message)}")


def _summary(console: Console, result: ScanResult) -> None:
    s = result.summary
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    table.add_column("category")
    for sev in _SEVERITY_ORDER:
        table.add_column(sev, justify="right")
    categories = sorted({f.category.value for f in result.findings})
    for cat in categories:
        counts = [
            sum(1 for f in result.findings if f.category.value == cat and f.severity.value == sev)
            for sev in _SEVERITY_ORDER
        ]
        table.add_row(cat, *[str(c) if c else "·" for c in counts])
    if categories:
        console.print()
        console.print(table)
    extras = []
    if s.suppressed:
        extras.append(f"{s.suppressed} suppressed")
    if s.baselined:
        extras.append(f"{s.baselined} in baseline")
    if s.files_skipped:
        extras.append(f"{s.files_skipped} skipped (-v lists them)")
    errors = sum(1 for d in result.diagnostics if d.kind == "parse-error")
    if errors:
        extras.append(f"{errors} could not be parsed")
    tail = f" ({', '.join(extras)})" if extras else ""
    found = len(result.findings)
    verdict = "[green]No problems found[/green]" if not found else f"[bold]{found} finding(s)[/bold]"
    # `check` reports on servers, which have no lines: say what was looked at.
    code = s.lines or not s.files_scanned
    scope = f"{s.files_scanned} file(s), {s.lines:,} lines" if code else f"{s.files_scanned} target(s)"
    console.print(f"\n{verdict} in {scope}{tail}.")


def render(result: ScanResult, out: TextIO, *, color: bool | None = None, verbose: bool = False) -> None:
    console = make_console(out, color)
    root = Path(result.root)
    cache: dict[str, list[str]] = {}
    for path, group in groupby(result.findings, key=lambda f: f.path):
        console.print(f"[bold underline]{escape(path)}[/bold underline]")
        for finding in group:
            _finding(console, finding, root, cache)
        console.print()
    _diagnostics(console, result.diagnostics, verbose)
    _summary(console, result)
