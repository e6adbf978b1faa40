"""Recognising client constructor calls, shared by the client rules and the fixer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.rulebook import ClientSpec, Rulebook


def client_table(book: Rulebook, options: Mapping[str, Any]) -> dict[str, ClientSpec]:
    """The shipped catalogue plus the user's `extra-clients`."""
    extra: Mapping[str, ClientSpec] = options.get("extra_clients", {})
    return {**book.clients_by_qualname("python"), **extra}


@dataclass(frozen=True)
class ClientCall:
    spec: ClientSpec
    qualname: str
    keywords: frozenset[str]
    has_star_kwargs: bool
    url: str  # identity of the target: literal, env var name, or expression text


def keyword_value(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def literal_keywords(call: cst.Call, names: tuple[str, ...]) -> dict[str, int | bool | str]:
    """Keyword arguments among `names` whose values are literals (for the budget join)."""
    out: dict[str, int | bool | str] = {}
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value not in names:
            continue
        value = arg.value
        if isinstance(value, cst.Integer):
            out[arg.keyword.value] = int(value.value.replace("_", ""), 0)
        elif isinstance(value, cst.Name) and value.value in ("True", "False"):
            out[arg.keyword.value] = value.value == "True"
        elif isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            out[arg.keyword.value] = value.evaluated_value
    return out


def _env_name(node: cst.BaseExpression) -> str | None:
    """`os.environ["X"]`, `os.getenv("X")`, `os.environ.get("X")`, `config("X")` -> X."""
    if isinstance(node, cst.Subscript) and dotted(node.value) in ("os.environ", "environ"):
        element = node.slice[0].slice if node.slice else None
        if isinstance(element, cst.Index) and isinstance(element.value, cst.SimpleString):
            value = element.value.evaluated_value
            return value if isinstance(value, str) else None
    if isinstance(node, cst.Call) and node.args and isinstance(node.args[0].value, cst.SimpleString):
        name = dotted(node.func) or ""
        if name.endswith(("getenv", "environ.get", "config", "env", "env.str", "get_env")):
            value = node.args[0].value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def url_identity(call: cst.Call, spec: ClientSpec, module: cst.Module | None = None) -> str:
    node: cst.BaseExpression | None = None
    if spec.url_arg is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if len(positional) > spec.url_arg:
            node = positional[spec.url_arg].value
    for kw in ("url", "dsn", "conninfo", "datasource"):
        node = node or keyword_value(call, kw)
    if node is None:
        # No URL: the target is spelled out in keywords (host, port, db, ...).
        parts = [
            f"{kw}={_text(value)}"
            for kw in ("host", "port", "db", "dbname", "database", "unix_socket_path")
            if (value := keyword_value(call, kw)) is not None
        ]
        return "kw:" + ",".join(parts) if parts else "<default>"
    if isinstance(node, cst.SimpleString):
        return f"literal:{node.evaluated_value!s}"
    env = _env_name(node)
    if env:
        return f"env:{env}"
    return "expr:" + _text(node)


def _text(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return cst.Module([]).code_for_node(node).replace(" ", "").replace("\n", "")


def match_client(call: cst.Call, ctx: PyContext, clients: dict[str, ClientSpec]) -> ClientCall | None:
    qualname = ctx.imports.resolve(call.func)
    if qualname is None:
        return None
    spec = clients.get(qualname)
    if spec is None:
        return None
    # An unimported bare name (`Redis()` defined locally) is not the library's.
    if "." not in qualname and not ctx.imports.is_imported(call.func):
        return None
    keywords = frozenset(a.keyword.value for a in call.args if a.keyword is not None)
    star = any(a.star == "**" for a in call.args)
    return ClientCall(spec, qualname, keywords, star, url_identity(call, spec))


def is_sqlite(url: str) -> bool:
    return url.startswith("literal:sqlite")
