"""The Python front end: one parse, one walk, every active rule.

Cost model (libcst 1.9, one core): a parse costs P; every further full walk
about P again; libcst's scope and qualified-name metadata about 10 P. So:

* a byte-level pre-filter drops rules (and whole files) that cannot match;
* imports are resolved with `ImportTable`, not `QualifiedNameProvider`;
* the walk follows only fields that hold code (python/walker.py), ~14× cheaper
  than libcst's own visitor;
* positions are computed only for reported nodes (python/positions.py);
* the result is small plain data — the tree never leaves this function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange

from scaleaudit.model import Diagnostic, Fact, FileResult, Finding, Location, Span
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import ImportTable, dotted, module_name_for
from scaleaudit.python.positions import LazyPositions
from scaleaudit.python.rule import Pending, PythonRule
from scaleaudit.python.walker import Walker
from scaleaudit.rulebook import Rulebook
from scaleaudit.suppress import parse_suppressions

_EXITS = frozenset({"exit", "quit", "sys.exit", "os._exit"})


def _prime_imports(module: cst.Module, table: ImportTable) -> bool:
    """Module-level imports (also inside if/try blocks) before the walk starts,
    so a rule visiting a call sees names imported further down the module.

    Returns whether the module exits at import time (`sys.exit()` at top
    level): then it is a script run by hand, not application code."""
    exits = False
    stack: list[cst.CSTNode] = list(module.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    table.add_import(small)
                elif isinstance(small, cst.ImportFrom):
                    table.add_import_from(small)
                elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    exits = exits or dotted(small.value.func) in _EXITS
        elif isinstance(stmt, (cst.If, cst.Try, cst.Else, cst.ExceptHandler, cst.Finally)):
            body = stmt.body
            stack.extend(body.body if isinstance(body, cst.IndentedBlock) else ())
            for extra in ("orelse", "handlers", "finalbody"):
                child = getattr(stmt, extra, None)
                if isinstance(child, (list, tuple)):
                    stack.extend(child)
                elif child is not None:
                    stack.append(child)
    return exits


def _span(rng: CodeRange) -> Span:
    # libcst columns are 0-based; ours are 1-based like editors and SARIF.
    return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)


def _span_list(rng: CodeRange) -> list[int]:
    span = _span(rng)
    return [span.line, span.column, span.end_line, span.end_column]


def _plain(value: Any, positions: LazyPositions, hints: tuple[cst.CSTNode, ...]) -> Any:
    """Fact data with every node in it (a loop, a field) replaced by its span."""
    if isinstance(value, cst.CSTNode):
        return _span_list(positions.locate(value, hints))
    if isinstance(value, dict):
        return {k: _plain(v, positions, hints) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, positions, hints) for v in value]
    return value


def _materialise(
    rel: str, pending: list[Pending], positions: LazyPositions, book: Rulebook
) -> tuple[list[Finding], list[Fact]]:
    findings: list[Finding] = []
    facts: list[Fact] = []
    for item in pending:
        loc = Location(rel, _span(positions.locate(item.node, item.hints)))
        if item.fact_kind:
            facts.append(Fact(item.fact_kind, loc, _plain(item.fact_data, positions, item.hints)))
            continue
        related = tuple(Location(rel, _span(positions.locate(n, item.hints)), note) for n, note in item.related)
        findings.append(
            book.rule(item.rule).finding(
                loc,
                severity=item.severity,
                confidence=item.confidence,
                related=related,
                anchor=item.anchor,
                **item.message_values,
            )
        )
    return findings, facts


def _parse_error(rel: str, exc: Exception) -> Diagnostic:
    if isinstance(exc, cst.ParserSyntaxError):
        first = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        return Diagnostic("parse-error", rel, f"syntax error: {first}", exc.raw_line)
    if isinstance(exc, RecursionError):
        return Diagnostic("parse-error", rel, "too deeply nested to analyse")
    if isinstance(exc, SyntaxError):
        # libcst accepts a literal CPython rejects ("\N{NOPE}", a NUL byte); a rule evaluating it raises this.
        return Diagnostic("parse-error", rel, f"invalid literal: {exc.msg}")
    if isinstance(exc, (UnicodeDecodeError, LookupError)):
        return Diagnostic("parse-error", rel, f"cannot decode: {exc}")
    return Diagnostic("parse-error", rel, f"cannot parse: {type(exc).__name__}: {exc}")


def analyze_python(
    rel: str,
    data: bytes,
    rule_types: Sequence[type[PythonRule]],
    book: Rulebook,
    options: Mapping[str, Any],
) -> FileResult:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    suppressions = parse_suppressions(data)
    active = [r for r in rule_types if not r.TRIGGERS or any(t in data for t in r.TRIGGERS)]
    if not active:
        return FileResult(rel, "python", lines, suppressions=suppressions)
    try:
        module = cst.parse_module(data)
    except Exception as exc:  # libcst raises several types; each becomes a diagnostic
        return FileResult(rel, "python", lines, diagnostics=(_parse_error(rel, exc),))
    table = ImportTable(module_name_for(rel), is_package=rel.endswith("__init__.py"))
    script = _prime_imports(module, table)
    ctx = PyContext(rel=rel, module=table.module, imports=table, script=script)
    rules = [rule_type(ctx, book, options) for rule_type in active]
    try:
        Walker(ctx, rules).walk(module)
        for rule in rules:
            rule.finish()
    except (RecursionError, SyntaxError) as exc:
        return FileResult(rel, "python", lines, diagnostics=(_parse_error(rel, exc),))
    pending = [p for rule in rules for p in rule.pending]
    if not pending:
        return FileResult(rel, "python", lines, suppressions=suppressions)
    positions = LazyPositions(module, data)
    findings, facts = _materialise(rel, pending, positions, book)
    return FileResult(rel, "python", lines, tuple(findings), tuple(facts), (), suppressions)
