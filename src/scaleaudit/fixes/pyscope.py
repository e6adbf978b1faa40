"""Where a node sits in a parsed Python file, and what a function binds.

Findings and facts carry spans, fixers edit libcst nodes: every Python fixer
first finds the node again (`expression_at`) and its scope (`enclosing`,
`enclosing_function`), then asks what the names there mean — which values a
local was assigned (`assignments`, `sole_assignment`), which names a function
binds itself (`local_names`, `param_names`). None of this knows any rule, so
it lives here rather than in the fixer that needed it first.
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


# --- traversal ---------------------------------------------------------------


def walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node` and every node below it, in source order."""
    out: list[cst.CSTNode] = []

    class _All(cst.CSTVisitor):
        def on_visit(self, visited: cst.CSTNode) -> bool:
            out.append(visited)
            return True

    node.visit(_All())
    return out


def root_name(node: cst.BaseExpression) -> str:
    """`session` for `session.rows[0].x`; "" when the chain does not start at a name."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""


# --- what one function binds -------------------------------------------------


class _Bindings(cst.CSTVisitor):
    """Assignments in one function body (nested functions and classes are other scopes)."""

    def __init__(self, root: cst.FunctionDef) -> None:
        super().__init__()
        self.root = root
        self.plain: dict[str, list[cst.BaseExpression]] = {}
        self.other: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is not self.root:
            self.other.add(node.name.value)
            return False
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.other.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        self.other.add(node.name.value)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.plain.setdefault(node.targets[0].target.value, []).append(node.value)
        else:
            for target in node.targets:
                self.other |= names_in(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.plain.setdefault(node.target.value, []).append(node.value)
        else:
            self.other |= names_in(node.target)

    def _target(self, node: cst.AugAssign | cst.For | cst.CompFor | cst.NamedExpr) -> None:
        self.other |= names_in(node.target)

    visit_AugAssign = visit_For = visit_CompFor = visit_NamedExpr = _target

    def visit_AsName(self, node: cst.AsName) -> None:
        self.other |= names_in(node.name)

    def _declared(self, node: cst.Global | cst.Nonlocal) -> None:
        self.other |= {n.name.value for n in node.names}

    visit_Global = visit_Nonlocal = _declared


def names_in(node: cst.CSTNode) -> set[str]:
    """The names an assignment target binds (`a`, `a, *b`, `[a, (b, c)]`); none for `x.y`/`x[i]`."""
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, (cst.Tuple, cst.List)):
        return {n for e in node.elements for n in names_in(e.value)}
    if isinstance(node, cst.StarredElement):
        return names_in(node.value)
    return set()


def _bindings(function: cst.FunctionDef) -> _Bindings:
    found = _Bindings(function)
    function.visit(found)
    return found


def assignments(function: cst.FunctionDef, name: str) -> list[cst.BaseExpression] | None:
    """Every value `name` is assigned in the function, or None if any other statement binds it."""
    found = _bindings(function)
    return None if name in found.other else found.plain.get(name, [])


def sole_assignment(function: cst.FunctionDef, name: str) -> cst.BaseExpression | None:
    """The value of `name`'s one assignment when nothing else in the function binds it
    (queryset.single_assignment reads a name differently for the N+1 fixers; see there)."""
    values = assignments(function, name)
    return values[0] if values is not None and len(values) == 1 else None


def local_names(function: cst.FunctionDef) -> set[str]:
    """Every name the function body binds, its parameters aside."""
    found = _bindings(function)
    return (set(found.plain) | found.other) - param_names(function.params)


def param_names(params: cst.Parameters) -> set[str]:
    """Every parameter name, `*args` and `**kwargs` included."""
    out = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            out.add(extra.name.value)
    return out
