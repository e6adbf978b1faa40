"""Recognise Prisma model queries: `<client>.<model>.<method>(args)`.

The receiver decides how sure we are that this is Prisma: a name that says so
(`prisma`, `this.prisma`, `prismaClient`) -> high; a conventional client name
(`db`, `tx`, `client`, `ctx.db`) -> medium; anything else is ignored, since
`<x>.<y>.findMany` on an arbitrary object could be another ORM (Drizzle's
`db.query.users.findMany` has three levels and is excluded by shape).
"""

from __future__ import annotations

from dataclasses import dataclass

from scaleaudit.model import Confidence
from scaleaudit.typescript.parser import Node, call_args, object_keys, text, unwrap

READS = frozenset(
    {
        "findUnique",
        "findUniqueOrThrow",
        "findFirst",
        "findFirstOrThrow",
        "findMany",
        "count",
        "aggregate",
        "groupBy",
    }
)
WRITES = frozenset({"create", "update", "upsert", "delete", "createMany", "updateMany", "deleteMany"})
MEDIUM_RECEIVERS = frozenset({"db", "tx", "trx", "client", "database", "ctx.db", "this.db", "orm", "ctx.prisma"})
TRIGGERS = (b".findMany", b".findUnique", b".findFirst", b".count(", b".aggregate(", b".groupBy(")


@dataclass(frozen=True)
class PrismaCall:
    node: Node
    receiver: str
    model: str  # the delegate name: `prisma.user` -> "user"
    method: str
    args: dict[str, Node]
    confidence: Confidence

    @property
    def where_fields(self) -> list[str]:
        fields = []
        for key, value in object_keys(self.args.get("where")).items():
            if key in ("AND", "OR", "NOT", "..."):
                continue
            inner = object_keys(value)
            if inner and set(inner) & {"some", "every", "none", "is", "isNot"}:
                continue  # a relation filter, not a column
            fields.append(key)
        return fields

    @property
    def includes(self) -> list[tuple[str, bool]]:
        """Relations loaded with the rows: (name, bounded by take)."""
        out: list[tuple[str, bool]] = []
        for clause in ("include", "select"):
            for name, raw in object_keys(self.args.get(clause)).items():
                value = unwrap(raw)
                if name in ("...", "_count") or value is None:
                    continue
                if value.type == "true":
                    out.append((name, False))
                elif (value.type == "object" and clause == "include") or (
                    value.type == "object" and _is_relation_select(value)
                ):
                    keys = object_keys(value)
                    out.append((name, "take" in keys or "..." in keys))
        return out


def _is_relation_select(value: Node) -> bool:
    keys = object_keys(value)
    return bool(set(keys) & {"select", "include", "where", "orderBy", "take"})


def receiver_confidence(receiver: str) -> Confidence | None:
    if "prisma" in receiver.lower():
        return Confidence.HIGH
    if receiver in MEDIUM_RECEIVERS:
        return Confidence.MEDIUM
    return None


def match_query(node: Node, methods: frozenset[str] = READS) -> PrismaCall | None:
    func = node.child_by_field_name("function")
    if func is None or func.type != "member_expression":
        return None
    method = text(func.child_by_field_name("property"))
    if method not in methods:
        return None
    delegate = unwrap(func.child_by_field_name("object"))
    if delegate is None or delegate.type != "member_expression":
        return None
    model = text(delegate.child_by_field_name("property"))
    receiver_node = unwrap(delegate.child_by_field_name("object"))
    if receiver_node is None or receiver_node.type not in ("identifier", "member_expression", "this"):
        return None
    receiver = text(receiver_node)
    if model.startswith("$") or receiver.count(".") > 1:
        return None
    confidence = receiver_confidence(receiver)
    if confidence is None:
        return None
    args = call_args(node)
    options = object_keys(args[0]) if args else {}
    return PrismaCall(node, receiver, model, method, options, confidence)
