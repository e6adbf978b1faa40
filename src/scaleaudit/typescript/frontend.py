"""Entry point of the TypeScript/JavaScript front end for the engine.

One parse per file; one query pass in C collects every node type the active
rules asked for; rules see them in document order. Positions are computed
only for files that reported something. The tree never leaves this function.
"""

from __future__ import annotations

from collections.abc import Sequence

from scaleaudit.engine.job import Job
from scaleaudit.model import Diagnostic, Fact, FileResult, Finding, Location, Span
from scaleaudit.rulebook import Rulebook
from scaleaudit.suppress import parse_suppressions
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.imports import ImportTable, build_imports
from scaleaudit.typescript.parser import Node, Positions, capture, grammar_for, parse
from scaleaudit.typescript.rule import TsPending, TsRule
from scaleaudit.typescript.rules import ALL_RULES


def language_of(rel: str) -> str:
    return "typescript" if grammar_for(rel) != "javascript" else "javascript"


def _import_fact(rel: str, table: ImportTable) -> Fact | None:
    if not table.local:
        return None
    entries = sorted({(module, name) for module, name in table.local})
    return Fact("module-imports", Location(rel, Span(1, 1, 1, 1)), {"imports": [list(e) for e in entries]})


def _first_error(root: Node) -> Node | None:
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    return None


def _materialise(
    rel: str, data: bytes, pending: Sequence[TsPending], book: Rulebook
) -> tuple[list[Finding], list[Fact]]:
    positions = Positions(data)
    findings: list[Finding] = []
    facts: list[Fact] = []
    for item in pending:
        loc = Location(rel, positions.span(item.node))
        if item.fact_kind:
            facts.append(Fact(item.fact_kind, loc, item.fact_data))
            continue
        findings.append(
            book.rule(item.rule).finding(
                loc,
                severity=item.severity,
                confidence=item.confidence,
                related=tuple(Location(rel, positions.span(n), note) for n, note in item.related),
                anchor=item.anchor,
                **item.message_values,
            )
        )
    return findings, facts


def analyze_source(rel: str, data: bytes, rule_types: Sequence[type[TsRule]], job: Job) -> FileResult:
    language = language_of(rel)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    suppressions = parse_suppressions(data)
    tree = parse(rel, data)
    table = build_imports(rel, tree.root_node, tuple(job.options.get("prisma_client_modules", ())))
    import_fact = _import_fact(rel, table)
    base_facts = (import_fact,) if import_fact else ()
    diagnostics: tuple[Diagnostic, ...] = ()
    error = _first_error(tree.root_node)
    if error is not None:
        # tree-sitter recovers; we still analyse, but say where the file did not parse
        diagnostics = (Diagnostic("parse-error", rel, "syntax error (recovered)", error.start_point[0] + 1),)
    active = [r for r in rule_types if not r.TRIGGERS or any(t in data for t in r.TRIGGERS)]
    if not active:
        return FileResult(rel, language, lines, facts=base_facts, diagnostics=diagnostics, suppressions=suppressions)
    ctx = TsContext(rel=rel, data=data, imports=table)
    rules = [rule_type(ctx, job.book, job.options) for rule_type in active]
    wanted = frozenset().union(*(r.NODE_TYPES for r in rules))
    by_type: dict[str, list[TsRule]] = {}
    for rule in rules:
        for node_type in rule.NODE_TYPES:
            by_type.setdefault(node_type, []).append(rule)
    for node in capture(tree, grammar_for(rel), wanted):
        for rule in by_type.get(node.type, ()):
            rule.visit(node, ctx)
    for rule in rules:
        rule.finish()
    pending = [p for rule in rules for p in rule.pending]
    findings, facts = _materialise(rel, data, pending, job.book) if pending else ([], [])
    return FileResult(rel, language, lines, tuple(findings), (*base_facts, *facts), diagnostics, suppressions)


def analyze(rel: str, data: bytes, job: Job) -> FileResult:
    return analyze_source(rel, data, ALL_RULES, job)
