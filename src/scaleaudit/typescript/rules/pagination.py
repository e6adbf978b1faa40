"""SA311 prisma-findmany-without-take, and the `prisma-query` facts for the
project joins SA312 (to-many include without take) and SA412 (filter on an
unindexed column).

A `findMany` with no `take` in a request path returns every row: fine with
ten rows in development, a multi-megabyte response and a full scan at 1,000
users. Reported in request handlers (confidence from the receiver), and at
medium confidence in functions of controller/route/service modules. Silent
with `take`, with spread-in options we cannot see, in tests and scripts.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.model import Confidence
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node
from scaleaudit.typescript.prisma import READS, TRIGGERS, match_query
from scaleaudit.typescript.rule import TsCase, TsRule

_P = "import { prisma } from '../lib/prisma';\n"


def request_path_confidence(ctx: TsContext, node: Node, base: Confidence) -> Confidence | None:
    scope = ctx.scope(node)
    if scope in ("test", "script", "module", "once"):
        return None
    if scope == "handler":
        return base
    if ctx.is_request_module:
        return Confidence.MEDIUM if base == Confidence.HIGH else Confidence.LOW
    return Confidence.LOW


class FindManyWithoutTake(TsRule):
    id = "SA311"
    TRIGGERS = (b"findMany",)
    NODE_TYPES = frozenset({"call_expression"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export const list = async (req, res) => {\n"
        "  res.json(await prisma.post.findMany({ take: Number(req.query.limit) || 20, skip: 0 }));\n};\n",
        _P
        + "export const list = async (req, res) => {\n  res.json(await prisma.post.findMany({ ...page(req) }));\n};\n",
        TsCase(_P + "async function main() { await prisma.user.findMany(); }\n", path="scripts/export.ts"),
        _P + "export const list = async (req, res) => { res.json(await repo.post.findMany()); };\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export const list = async (req, res) => {\n  res.json(await prisma.post.findMany());\n};\n",
        _P + "router.get('/', async (_q, s) => {\n"
        "  s.json(await prisma.post.findMany({ where: { published: true }, orderBy: { id: 'desc' } }));\n});\n",
        TsCase(
            _P + "export class PostService {\n  all() { return this.prisma.post.findMany(); }\n}\n",
            path="src/services/post.service.ts",
            note="service method: medium confidence",
        ),
    )

    def visit(self, node: Node, ctx: TsContext) -> None:
        call = match_query(node, frozenset({"findMany"}))
        if call is None or "take" in call.args or "..." in call.args:
            return
        confidence = request_path_confidence(ctx, node, call.confidence)
        if confidence is None:
            return
        self.report(node, confidence=confidence, anchor=f"{call.model}.findMany", model=call.model)


class PrismaQueryFacts(TsRule):
    """The per-file half of SA312 and SA412: what each query filters on and includes."""

    id = "SA412"
    TRIGGERS = TRIGGERS
    NODE_TYPES = frozenset({"call_expression"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = ()
    INVALID: ClassVar[tuple[TsCase | str, ...]] = ()

    def visit(self, node: Node, ctx: TsContext) -> None:
        call = match_query(node, READS)
        if call is None:
            return
        confidence = request_path_confidence(ctx, node, call.confidence)
        if confidence is None:
            return
        self.fact(
            "prisma-query",
            node,
            model=call.model,
            method=call.method,
            where=call.where_fields,
            include=[[name, bounded] for name, bounded in call.includes],
            confidence=confidence.value,
        )
