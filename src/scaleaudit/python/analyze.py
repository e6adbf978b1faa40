"""The Python front end: one parse, one walk, every active rule.

Cost model (libcst 1.9, one core): a parse costs P; every further full walk
about P again; libcst's scope and qualified-name metadata about 10 P. So:

* a byte-level pre-filter drops rules (and whole files) that cannot match;
* imports are resolved with `ImportTable`, not `QualifiedNameProvider`;
* positions are computed only when a rule reported something in the file;
* the result is small plain data — the tree never leaves this function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scaleaudit.model import Diagnostic, Fact, FileResult, Finding, Location, Span
from scaleaudit.python.context import Frame, PyContext, is_main_guard
from scaleaudit.python.imports import ImportTable, module_name_for
from scaleaudit.python.rule import Pending, PythonRule
from scaleaudit.rulebook import Rulebook
from scaleaudit.suppress import parse_suppressions

Callback = Callable[[Any, PyContext], None]
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


class _Walker(cst.CSTVisitor):
    """Walks once, keeps the frame stack, and calls the rules' callbacks."""

    def __init__(self, ctx: PyContext, rules: Sequence[PythonRule]) -> None:
        super().__init__()
        self.ctx = ctx
        self.visits: dict[str, list[Callback]] = {}
        self.leaves: dict[str, list[Callback]] = {}
        for rule in rules:
            for attr in dir(type(rule)):
                if attr.startswith("visit_"):
                    self.visits.setdefault(attr[6:], []).append(getattr(rule, attr))
                elif attr.startswith("leave_"):
                    self.leaves.setdefault(attr[6:], []).append(getattr(rule, attr))

    def _dispatch(self, table: dict[str, list[Callback]], node: cst.CSTNode) -> None:
        for callback in table.get(type(node).__name__, ()):
            callback(node, self.ctx)

    def _children(self, nodes: Sequence[cst.CSTNode | None]) -> None:
        for child in nodes:
            if child is not None:
                child.visit(self)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._dispatch(self.visits, node)
        ctx = self.ctx
        if isinstance(node, cst.Import):
            ctx.imports.add_import(node)
        elif isinstance(node, cst.ImportFrom):
            ctx.imports.add_import_from(node)
        elif isinstance(node, cst.FunctionDef):
            # Decorators run at definition time, in the enclosing scope.
            self._children(node.decorators)
            ctx.frames.append(ctx.function_frame(node))
            self._children([node.params, node.body])
            ctx.frames.pop()
            return False
        elif isinstance(node, cst.Lambda):
            ctx.frames.append(Frame(kind="function", node=node, name="<lambda>"))
        elif isinstance(node, cst.ClassDef):
            self._children([*node.decorators, *node.bases, *node.keywords])
            ctx.frames.append(ctx.class_frame(node))
            self._children([node.body])
            ctx.frames.pop()
            return False
        elif isinstance(node, cst.For):
            # The iterable is evaluated once; only target and body repeat.
            self._children([node.iter])
            ctx.frames.append(Frame(kind="loop", node=node, is_async=node.asynchronous is not None))
            self._children([node.target, node.body])
            ctx.frames.pop()
            self._children([node.orelse])
            return False
        elif isinstance(node, cst.While):
            ctx.frames.append(Frame(kind="loop", node=node))
        elif isinstance(node, _COMPREHENSIONS):
            self._visit_comprehension(node)
            return False
        elif isinstance(node, cst.If) and ctx.at_module_level and is_main_guard(node):
            self._children([node.test])
            ctx.frames.append(Frame(kind="main-guard", node=node))
            self._children([node.body])
            ctx.frames.pop()
            self._children([node.orelse])
            return False
        return True

    def _visit_comprehension(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp) -> None:
        first = node.for_in
        self._children([first.iter])  # evaluated once, outside the comprehension
        self.ctx.frames.append(Frame(kind="comprehension", node=node))
        self._children([first.target, *first.ifs, first.inner_for_in])
        if isinstance(node, cst.DictComp):
            self._children([node.key, node.value])
        else:
            self._children([node.elt])
        self.ctx.frames.pop()

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, (cst.While, cst.Lambda)):
            self.ctx.frames.pop()
        self._dispatch(self.leaves, original_node)


def _prime_imports(module: cst.Module, table: ImportTable) -> None:
    """Module-level imports (also inside if/try blocks) before the walk starts,
    so a rule visiting a call sees names imported further down the module."""
    stack: list[cst.CSTNode] = list(module.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    table.add_import(small)
                elif isinstance(small, cst.ImportFrom):
                    table.add_import_from(small)
        elif isinstance(stmt, (cst.If, cst.Try, cst.Else, cst.ExceptHandler, cst.Finally)):
            body = stmt.body
            stack.extend(body.body if isinstance(body, cst.IndentedBlock) else ())
            for extra in ("orelse", "handlers", "finalbody"):
                child = getattr(stmt, extra, None)
                if isinstance(child, (list, tuple)):
                    stack.extend(child)
                elif child is not None:
                    stack.append(child)


def _span(rng: CodeRange) -> Span:
    # libcst columns are 0-based; ours are 1-based like editors and SARIF.
    return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)


def _span_list(rng: CodeRange) -> list[int]:
    span = _span(rng)
    return [span.line, span.column, span.end_line, span.end_column]


def _plain(value: Any, positions: Mapping[cst.CSTNode, CodeRange]) -> Any:
    """Fact data with every node in it (a loop, a field) replaced by its span."""
    if isinstance(value, cst.CSTNode):
        return _span_list(positions[value])
    if isinstance(value, dict):
        return {k: _plain(v, positions) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, positions) for v in value]
    return value


def _materialise(
    rel: str, pending: list[Pending], positions: Mapping[cst.CSTNode, CodeRange], book: Rulebook
) -> tuple[list[Finding], list[Fact]]:
    findings: list[Finding] = []
    facts: list[Fact] = []
    for item in pending:
        loc = Location(rel, _span(positions[item.node]))
        if item.fact_kind:
            facts.append(Fact(item.fact_kind, loc, _plain(item.fact_data, positions)))
            continue
        meta = book.rule(item.rule)
        findings.append(
            Finding(
                rule=meta.id,
                name=meta.name,
                category=meta.category,
                severity=item.severity or meta.severity,
                confidence=item.confidence or meta.confidence,
                location=loc,
                message=meta.format(**item.message_values),
                checklist=meta.checklist,
                related=tuple(Location(rel, _span(positions[n]), note) for n, note in item.related),
                anchor=item.anchor,
            )
        )
    return findings, facts


def _parse_error(rel: str, exc: Exception) -> Diagnostic:
    if isinstance(exc, cst.ParserSyntaxError):
        first = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        return Diagnostic("parse-error", rel, f"syntax error: {first}", exc.raw_line)
    if isinstance(exc, RecursionError):
        return Diagnostic("parse-error", rel, "too deeply nested to analyse")
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
    _prime_imports(module, table)
    ctx = PyContext(rel=rel, module=table.module, imports=table)
    rules = [rule_type(ctx, book, options) for rule_type in active]
    try:
        module.visit(_Walker(ctx, rules))
        for rule in rules:
            rule.finish()
    except RecursionError as exc:
        return FileResult(rel, "python", lines, diagnostics=(_parse_error(rel, exc),))
    pending = [p for rule in rules for p in rule.pending]
    if not pending:
        return FileResult(rel, "python", lines, suppressions=suppressions)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    findings, facts = _materialise(rel, pending, positions, book)
    return FileResult(rel, "python", lines, tuple(findings), tuple(facts), (), suppressions)
