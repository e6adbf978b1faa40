"""Shared per-file state for the ORM rules: querysets by variable and by view class.

Each rule that follows querysets owns one `Tracker`; it listens to
assignments and returns in the one walk and answers "which query does this
expression evaluate?" at any point of it.
"""

from __future__ import annotations

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.orm import ClassQueries, Query, QueryVars, parse_query


class Tracker:
    def __init__(self) -> None:
        self.vars = QueryVars()
        self.classes = ClassQueries()

    def _function(self, ctx: PyContext) -> cst.CSTNode | None:
        frame = ctx.function
        return frame.node if frame else None

    def assign(self, node: cst.Assign | cst.AnnAssign, ctx: PyContext) -> None:
        function = self._function(ctx)
        lookup = self.vars.lookup(function)
        if function is None:
            self.classes.note_assign(ctx, node, lookup)
        else:
            self.vars.assign(function, node, ctx.imports, self.classes.of_self(ctx))

    def returned(self, node: cst.Return, ctx: PyContext) -> None:
        self.classes.note_return(ctx, node, self.vars.lookup(self._function(ctx)))

    def query(self, node: cst.BaseExpression, ctx: PyContext) -> tuple[Query, str] | None:
        """The query `node` evaluates and how we know: "direct", "var" or "view"."""
        lookup = self.vars.lookup(self._function(ctx))
        direct = parse_query(node, ctx.imports)
        if direct is not None:
            return direct, "direct"
        via_var = parse_query(node, ctx.imports, lookup)
        if via_var is not None:
            return via_var, "var"
        via_view = parse_query(node, ctx.imports, lookup, self.classes.of_self(ctx))
        return (via_view, "view") if via_view is not None else None
