"""Recognise client constructors (`new PrismaClient()`, `createClient()`) via the catalogue."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scaleaudit.rulebook import ClientSpec, Rulebook
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, call_args, object_keys, string_value, text, unwrap

LANGUAGE_KEY = "typescript"  # the catalogue section shared by .ts and .js files
_URL_KEYS = ("url", "connectionString", "datasourceUrl", "uri", "host")
_CREDENTIALS = re.compile(r"//[^/@\s]*@")


@dataclass(frozen=True)
class TsClientCall:
    spec: ClientSpec
    qualname: str
    keys: frozenset[str]  # option keys present
    options: Mapping[str, Node]
    url: str


def client_table(book: Rulebook, options: Mapping[str, Any]) -> dict[str, ClientSpec]:
    table = book.clients_by_qualname(LANGUAGE_KEY)
    for spec in (options.get("extra_clients") or {}).values():
        if spec.language in (LANGUAGE_KEY, "javascript"):
            table[spec.qualname] = spec
    return table


def redact(url: str) -> str:
    """Never keep credentials: `postgres://u:pw@h/db` -> `postgres://***@h/db`."""
    return _CREDENTIALS.sub("//***@", url)


def env_name(node: Node | None) -> str | None:
    """`process.env.X`, `process.env["X"]`, `env.X`, `config.X` -> X (for identity only)."""
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "member_expression":
        obj = text(node.child_by_field_name("object"))
        if obj in ("process.env", "env", "import.meta.env", "Bun.env"):
            return text(node.child_by_field_name("property"))
    if node.type == "subscript_expression":
        obj = text(node.child_by_field_name("object"))
        index = string_value(node.child_by_field_name("index"))
        if obj == "process.env" and index:
            return index
    if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in ("||", "??"):
        return env_name(node.child_by_field_name("left"))
    return None


def url_of(node: Node | None, depth: int = 0) -> str:
    node = unwrap(node)
    if node is None:
        return "<default>"
    name = env_name(node)
    if name:
        return f"env:{name}"
    literal = string_value(node)
    if literal is not None:
        return f"literal:{redact(literal)}"
    if node.type == "object" and depth < 3:
        keys = object_keys(node)
        for key in _URL_KEYS:
            if key in keys:
                return url_of(keys[key], depth + 1)
        if "datasources" in keys:  # Prisma: { datasources: { db: { url } } }
            for value in object_keys(keys["datasources"]).values():
                return url_of(value, depth + 1)
        # options without a target (`{ log: ["error"] }`) connect where the default does
        return "<default>"
    return f"expr:{redact(text(node))[:80]}"


def match_client(node: Node, ctx: TsContext, table: Mapping[str, ClientSpec]) -> TsClientCall | None:
    """A `new X(...)` or `f(...)` whose callee resolves to a catalogued client."""
    callee = node.child_by_field_name("constructor" if node.type == "new_expression" else "function")
    qualname = ctx.imports.resolve(callee)
    spec = table.get(qualname)
    if spec is None:
        return None
    # `PrismaClient`, `Pool`, `Redis` are classes; `createClient`, `connect` are functions
    is_class = spec.qualname.rsplit(".", 1)[-1][:1].isupper() or spec.qualname in ("ioredis", "ioredis.default")
    if is_class and node.type != "new_expression":
        return None  # classes are constructed with `new`
    args = call_args(node)
    options: dict[str, Node] = {}
    for arg in args:
        options.update(object_keys(arg))
    url_node = args[spec.url_arg] if spec.url_arg is not None and len(args) > spec.url_arg else None
    if url_node is None and args:
        url_node = args[0] if unwrap(args[0]) is not None and unwrap(args[0]).type == "object" else None  # type: ignore[union-attr]
    return TsClientCall(spec, qualname, frozenset(options), options, url_of(url_node))


def binding_of(node: Node) -> str:
    """The name a construction is stored under: `const prisma = ...`, `export default ...`."""
    child = node
    parent = node.parent
    while parent is not None and parent.type in (
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "await_expression",
        "binary_expression",
    ):
        child, parent = parent, parent.parent
    del child
    if parent is None:
        return ""
    if parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        return text(name) if name is not None and name.type == "identifier" else ""
    if parent.type == "export_statement":
        return "default"
    if parent.type in ("assignment_expression", "augmented_assignment_expression"):
        left = text(parent.child_by_field_name("left"))
        if left in ("module.exports", "exports.default"):
            return "default"
        return left.rsplit(".", 1)[-1]
    return ""
