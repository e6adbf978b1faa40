"""Where a node sits in a parsed Python file: the expression a finding points at,
the function or class around it, whether one node holds another.

Findings and facts carry spans, fixers edit libcst nodes: every Python fixer
first finds the node again (`expression_at`) and its scope (`enclosing`,
`enclosing_function`). These lookups know nothing of any rule, so they live
here rather than in the fixer that needed them first.
"""

from __future__ import annotations

import libcst as cst

from scaleaudit.fixes.pysource import PyFile
from scaleaudit.model import Span


def expression_at(file: PyFile, span: Span) -> cst.BaseExpression | None:
    """The outermost expression exactly at a finding's span (1-based columns, end exclusive)."""
    best: cst.BaseExpression | None = None
    for node, rng in file.positions.items():
        if (
            isinstance(node, cst.BaseExpression)
            and rng.start.line == span.line
            and rng.start.column + 1 == span.column
            and rng.end.line == span.end_line
            and rng.end.column + 1 == span.end_column
            and (best is None or contains(node, best))
        ):
            best = node
    return best


def contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    """Is `inner` (by identity) `outer` or inside it?"""
    found = False

    class _Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            found = found or node is inner
            return not found

    outer.visit(_Find())
    return found


def enclosing_function(module: cst.Module, target: cst.CSTNode) -> cst.FunctionDef | None:
    """The innermost function whose body holds `target`."""
    stack: list[cst.FunctionDef] = []
    result: list[cst.FunctionDef | None] = []

    class _Walk(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if result:
                return False
            if node is target:
                result.append(stack[-1] if stack else None)
                return False
            if isinstance(node, cst.FunctionDef):
                stack.append(node)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            if isinstance(original_node, cst.FunctionDef) and stack and stack[-1] is original_node:
                stack.pop()

    module.visit(_Walk())
    return result[0] if result else None


def enclosing(file: PyFile, node: cst.CSTNode, kind: type[cst.CSTNode]) -> cst.CSTNode | None:
    """The innermost `kind` node (FunctionDef, ClassDef) whose range holds `node`.

    By position, unlike `enclosing_function` (by identity): a node in a decorator is outside
    the function it decorates here (a FunctionDef's range starts at `def`), inside it there.
    Not merged: either fixer switching would change what it does on such code."""
    target = file.positions[node]
    found: cst.CSTNode | None = None
    size = None
    for other, rng in file.positions.items():
        if not isinstance(other, kind):
            continue
        if (rng.start.line, rng.start.column) <= (target.start.line, target.start.column) and (
            rng.end.line,
            rng.end.column,
        ) >= (target.end.line, target.end.column):
            span = (rng.end.line - rng.start.line, rng.end.column)
            if size is None or span < size:
                found, size = other, span
    return found
