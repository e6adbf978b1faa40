"""The base class of TypeScript/JavaScript rules.

As on the Python side a rule never walks the tree: it names the node types it
wants (`NODE_TYPES`), the front end captures all of them in one query pass and
calls `visit(node, ctx)` in document order. `VALID`/`INVALID` examples become
tests (tests/typescript/test_ts_rule_cases.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from scaleaudit.model import Confidence, Severity
from scaleaudit.rulebook import Rulebook
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node


@dataclass(frozen=True)
class TsCase:
    """An example: one file (path defaults to a controller) or several files."""

    code: str | Mapping[str, str]
    path: str = "src/controllers/example.ts"
    note: str = ""
    expect: int | None = None

    def files(self) -> dict[str, str]:
        return {self.path: self.code} if isinstance(self.code, str) else dict(self.code)


@dataclass
class TsPending:
    rule: str
    node: Node
    message_values: dict[str, Any]
    confidence: Confidence | None = None
    severity: Severity | None = None
    related: list[tuple[Node, str]] = field(default_factory=list)
    anchor: str = ""
    fact_kind: str = ""
    fact_data: dict[str, Any] = field(default_factory=dict)


class TsRule:
    id: ClassVar[str]
    TRIGGERS: ClassVar[tuple[bytes, ...]] = ()
    NODE_TYPES: ClassVar[frozenset[str]] = frozenset()
    VALID: ClassVar[tuple[TsCase | str, ...]] = ()
    INVALID: ClassVar[tuple[TsCase | str, ...]] = ()

    def __init__(self, ctx: TsContext, book: Rulebook, options: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.book = book
        self.options = options
        self.pending: list[TsPending] = []
        self.setup()

    def setup(self) -> None:
        """Per-file initialisation for subclasses."""

    def visit(self, node: Node, ctx: TsContext) -> None:
        """Called for every captured node whose type is in NODE_TYPES."""

    def finish(self) -> None:
        """Called once after every node was visited."""

    def report(
        self,
        node: Node,
        *,
        confidence: Confidence | None = None,
        severity: Severity | None = None,
        related: list[tuple[Node, str]] | None = None,
        anchor: str = "",
        **values: Any,
    ) -> None:
        self.pending.append(TsPending(self.id, node, values, confidence, severity, related or [], anchor))

    def fact(self, fact_kind: str, node: Node, /, **data: Any) -> None:
        self.pending.append(TsPending(self.id, node, {}, fact_kind=fact_kind, fact_data=data))
