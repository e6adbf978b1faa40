"""The base class of Python rules.

A rule never walks the tree. It declares `visit_<Node>` / `leave_<Node>`
methods taking `(node, ctx)`; the engine walks each module once and calls
every active rule's methods (a batched visit, as Fixit and Ruff do). A rule
reports nodes; positions are computed afterwards, and only for files that
reported something.

`VALID` and `INVALID` hold the rule's own examples; `tests/test_rule_cases.py`
turns each into a test, so the examples in a rule module are always true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import libcst as cst

from scaleaudit.model import Confidence, Severity
from scaleaudit.python.context import PyContext
from scaleaudit.rulebook import Rulebook


@dataclass(frozen=True)
class Case:
    """An example for a rule: one file, or several files for project rules."""

    code: str | Mapping[str, str]
    path: str = "app/example.py"
    note: str = ""
    expect: int | None = None  # exact number of findings, when it matters

    def files(self) -> dict[str, str]:
        if isinstance(self.code, str):
            return {self.path: self.code}
        return dict(self.code)


@dataclass
class Pending:
    """A finding or fact waiting for positions."""

    rule: str
    node: cst.CSTNode
    message_values: dict[str, Any]
    confidence: Confidence | None = None
    severity: Severity | None = None
    related: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    anchor: str = ""
    fact_kind: str = ""  # set for facts
    fact_data: dict[str, Any] = field(default_factory=dict)
    hints: tuple[cst.CSTNode, ...] = ()  # enclosing statements, to place the node cheaply


class PythonRule:
    id: ClassVar[str]
    # Byte strings one of which must occur in a file for this rule to run at
    # all: the cheapest filter there is, applied before parsing.
    TRIGGERS: ClassVar[tuple[bytes, ...]] = ()
    VALID: ClassVar[tuple[Case | str, ...]] = ()
    INVALID: ClassVar[tuple[Case | str, ...]] = ()

    def __init__(self, ctx: PyContext, book: Rulebook, options: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.book = book
        self.options = options
        self.pending: list[Pending] = []
        self.setup()

    def setup(self) -> None:
        """Per-file initialisation for subclasses (the constructor stays uniform)."""

    def report(
        self,
        node: cst.CSTNode,
        *,
        confidence: Confidence | None = None,
        severity: Severity | None = None,
        related: list[tuple[cst.CSTNode, str]] | None = None,
        anchor: str = "",
        hints: tuple[cst.CSTNode, ...] | None = None,
        **values: Any,
    ) -> None:
        """Report `node`. From `finish()`, pass the `hints` captured when the node
        was seen (`tuple(ctx.statements)`), or positions may cost a codegen."""
        where = tuple(self.ctx.statements) if hints is None else hints
        self.pending.append(
            Pending(self.id, node, values, confidence, severity, related or [], anchor, hints=where)
        )

    def fact(
        self, fact_kind: str, node: cst.CSTNode, /, hints: tuple[cst.CSTNode, ...] | None = None, **data: Any
    ) -> None:
        """Record a fact for the project phase. Nodes in `data` become spans; from
        `finish()`, pass `hints` (statements enclosing them) to place them cheaply."""
        where = tuple(self.ctx.statements) if hints is None else hints
        self.pending.append(Pending(self.id, node, {}, fact_kind=fact_kind, fact_data=data, hints=where))

    def finish(self) -> None:
        """Called once after the walk: for rules that decide at the end of a module."""
