"""SA211 prisma-query-in-loop and SA212 prisma-query-per-item-parallel.

A Prisma read inside a `for`/`for...of`/`while` body runs once per item
(SA211, sequential round trips); inside an array callback such as
`Promise.all(items.map(i => prisma.x.findUnique(...)))` or `.forEach` it runs
once per item in parallel (SA212): fewer milliseconds of wall time, still N
queries and N pool connections at once. The fix is one query: `include` the
relation in the outer query, or `where: { id: { in: ids } }`.

The iterable of a `for...of` is evaluated once and is not a finding. Tests
and scripts (seeders, migrations) are left out: they are not request paths.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.model import Confidence
from scaleaudit.typescript.context import TsContext, iteration_callback, loop_before_function
from scaleaudit.typescript.parser import FUNCTIONS, LOOPS, Node, ancestors
from scaleaudit.typescript.prisma import TRIGGERS, PrismaCall, match_query
from scaleaudit.typescript.rule import TsCase, TsRule

_P = "import { prisma } from '../lib/prisma';\n"


def _suggestion(call: PrismaCall) -> str:
    fields = call.where_fields
    if call.method in ("count", "aggregate"):
        return f"one `prisma.{call.model}.groupBy({{ by: [...], _count: true }})` for all items"
    if fields:
        batch = f"prisma.{call.model}.findMany({{ where: {{ {fields[0]}: {{ in: [...] }} }} }})"
        return f"one `{batch}` for all items, or an `include` on the outer query"
    return "one query for all items (`where: { id: { in: ids } }`) or an `include` on the outer query"


def _loop_kind(node: Node) -> tuple[str, Node] | None:
    """('loop'|callback method, the repeating node) for the innermost repetition."""
    if not loop_before_function(node):
        return None
    child = node
    for parent in ancestors(node):
        if parent.type in LOOPS and parent.child_by_field_name("body") is not None:
            body = parent.child_by_field_name("body")
            if body is not None and body.id == child.id:
                return "loop", parent
        if parent.type in FUNCTIONS:
            method = iteration_callback(parent)
            if method and parent.parent is not None and parent.parent.parent is not None:
                return method, parent.parent.parent
            return None
        child = parent
    return None


class _QueryInLoop(TsRule):
    TRIGGERS = TRIGGERS
    NODE_TYPES = frozenset({"call_expression"})
    PARALLEL: ClassVar[bool]

    def visit(self, node: Node, ctx: TsContext) -> None:
        if ctx.is_test or ctx.is_script:
            return
        call = match_query(node)
        if call is None:
            return
        found = _loop_kind(node)
        if found is None or (found[0] != "loop") != self.PARALLEL:
            return
        kind, loop = found
        where = "a loop" if kind == "loop" else f"a `.{kind}()` callback"
        self.report(
            node,
            confidence=call.confidence,
            related=[(loop, "repeats for every item")],
            anchor=f"{call.model}.{call.method}",
            model=call.model,
            method=call.method,
            where=where,
            suggestion=_suggestion(call),
        )


class PrismaQueryInLoop(_QueryInLoop):
    id = "SA211"
    PARALLEL = False
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export async function list(req, res) {\n"
        "  const users = await prisma.user.findMany({ include: { posts: true }, take: 20 });\n"
        "  for (const u of users) { console.log(u.posts.length); }\n}\n",
        _P + "export async function list(req, res) {\n"
        "  for (const u of await prisma.user.findMany({ take: 10 })) { res.write(u.name); }\n}\n",
        TsCase(
            _P + "async function main() { for (const u of users) { await prisma.user.create({ data: u }); } }\n",
            path="prisma/seed.ts",
        ),
        _P + "export async function f(items) { for (const i of items) { await cache.user.findMany(i); } }\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export async function list(req, res) {\n  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  for (const p of posts) {\n"
        "    p.author = await prisma.user.findUnique({ where: { id: p.authorId } });\n  }\n}\n",
        _P + "export async function count(ids: string[]) {\n  let i = 0;\n"
        "  while (i < ids.length) {\n    await prisma.post.count({ where: { authorId: ids[i++] } });\n  }\n}\n",
    )


class PrismaQueryPerItemParallel(_QueryInLoop):
    id = "SA212"
    PARALLEL = True
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export async function f(ids: string[]) {\n"
        "  return prisma.user.findMany({ where: { id: { in: ids } }, take: 100 });\n}\n",
        _P + "export async function f(users) { return users.map((u) => u.name); }\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _P + "export async function f(req, res) {\n  const posts = await prisma.post.findMany({ take: 10 });\n"
        "  const authors = await Promise.all(\n"
        "    posts.map((p) => prisma.user.findUnique({ where: { id: p.authorId } })),\n  );\n"
        "  res.json(authors);\n}\n",
        _P + "export function f(ids) {\n"
        "  ids.forEach(async (id) => { await prisma.user.findFirst({ where: { id } }); });\n}\n",
    )


__all__ = ["Confidence", "PrismaQueryInLoop", "PrismaQueryPerItemParallel"]
