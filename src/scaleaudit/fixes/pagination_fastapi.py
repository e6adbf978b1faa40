"""SA301 (unsafe): page an unbounded SQLAlchemy result in a FastAPI handler with `limit`/`offset`.

FastAPI's standard way to page is a pair of query parameters with a default
and a maximum, validated by `Query`; so

    @router.get("/items")
    def list_items(session: Session = Depends(get_session)):
        return session.scalars(select(Item).order_by(Item.id)).all()

becomes

    @router.get("/items")
    def list_items(
        session: Session = Depends(get_session),
        limit: int = Query(50, ge=1, le=200),
        offset: int = Query(0, ge=0),
    ):
        return session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)).all()

(`limit: Annotated[int, Query(ge=1, le=200)] = 50` in a file that already
writes FastAPI parameters with `Annotated`). The `.limit().offset()` goes on
the statement handed to `execute`/`scalars`/`exec` — inline or a local
variable bound only to `select(...)` chains — or, for the legacy
`session.query(Model)...all()`, just before `.all()`.

Unsafe: a client that read the whole list now gets the first 50 rows unless
it asks for more pages. Left to a human, with the edit to make as the
reason: handlers that already take a paging parameter under any usual name
(`skip`, `offset`, `page`, `page_size`, `per_page`, `size`, `cursor`, ...),
a statement already offset, a function that binds `limit`/`offset` itself,
a handler that needs every row (it also writes — session.add/commit, an
attribute set on the rows — or computes len()/sum()/max()... over them: a
page would change what it writes or computes), and everything SA301 reports outside FastAPI + SQLAlchemy (Django and DRF
views, Flask, raw SQL, Prisma): each has its own paging idiom that changes
what the template or the client receives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT
from scaleaudit.fixes.pyscope import (
    assignments,
    contains,
    enclosing_function,
    expression_at,
    local_names,
    names_in,
    param_names,
    root_name,
    sole_assignment,
    walk,
)
from scaleaudit.fixes.pysignature import comments_in_place, with_params
from scaleaudit.fixes.pysource import (
    PyFile,
    add_import,
    is_docstring,
    is_import_line,
    load,
    replace_node,
)
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Finding
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import SA_EXECUTORS, SA_SELECTS, chain_links

PRIORITY = 70  # see scaleaudit.fixes.api; edits only handler signatures and statements

# Parameter names that already page a handler: adding `limit`/`offset` beside them
# would give the endpoint two paging schemes.
PAGING_NAMES = frozenset(
    {"limit", "offset", "skip", "page", "page_size", "per_page", "size", "cursor", "start", "take", "first"}
)
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "api_route"})
_FASTAPI_APPS = frozenset({"fastapi.FastAPI", "fastapi.APIRouter", "fastapi.routing.APIRouter"})
_OTHER_FRAMEWORKS = ("flask", "quart", "sanic", "django", "rest_framework", "litestar", "starlette")
_BOUNDING = frozenset({"limit", "offset", "slice", "fetch"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})


def fix_pagination_fastapi(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    for finding in ctx.findings("SA301"):
        yield _proposal(ctx, finding)


def _skip(finding: Finding, reason: str) -> Skipped:
    return Skipped("SA301", finding.path, finding.line, reason)


def _proposal(ctx: FixContext, finding: Finding) -> Proposal | Skipped:
    file = load(ctx, finding.path)
    if isinstance(file, str):
        return _skip(finding, file)
    node = expression_at(file, finding.location.span)
    function = enclosing_function(file.module, node) if node is not None else None
    if node is None or function is None:
        return _skip(finding, "the reported expression was not found again: page the query by hand")
    if not _is_fastapi_route(file, function):
        return _skip(finding, _elsewhere(file, finding, node, function))
    taken = sorted(param_names(function.params) & PAGING_NAMES)
    if taken:
        return _skip(
            finding,
            f"`{function.name.value}` already takes `{'`, `'.join(taken)}`: apply {_use_existing(set(taken))} "
            "to the query — no second set of paging parameters is added",
        )
    pager = _paging_dependency(file, function.params)
    if pager:
        return _skip(
            finding,
            f"`{function.name.value}` takes `{pager}`, which looks like a paging dependency: apply it to the query "
            "— no second set of paging parameters is added",
        )
    target = _paging_target(file, function, node)
    if isinstance(target, str):
        return _skip(finding, target)
    clash = local_names(function) & {"limit", "offset"}
    if clash:
        return _skip(finding, f"`{function.name.value}` binds `{'`, `'.join(sorted(clash))}` itself: page it by hand")
    every_row = _needs_every_row(file, function, node)
    if every_row:
        return _skip(finding, f"{every_row}; page it by hand only if the response is just the list")
    return _rewrite(file, finding, function, target)


# Session calls that write: a handler making them changes the rows it reads, and paging
# that read would change only the first page of them.
_WRITES = frozenset(
    {"commit", "flush", "add", "add_all", "merge", "delete", "bulk_save_objects", "bulk_update_mappings"}
)
_DML = frozenset({"sqlalchemy.update", "sqlalchemy.insert", "sqlalchemy.delete"})
# Builtins whose result over a page differs from their result over every row.
_OVER_ALL = frozenset({"len", "sum", "min", "max", "sorted", "any", "all", "set", "Counter"})


def _needs_every_row(file: PyFile, function: cst.FunctionDef, node: cst.CSTNode) -> str:
    """Why the handler needs every row, not a page ("" when it only sends them)."""
    rows = _row_names(function, node)
    containers = _containers(function)  # `seen.add(x)` is no write
    for found in walk(function.body):
        why = _writes(file, found, rows, containers) or _over_all(found, node, rows)
        if why:
            return why
    return ""


def _writes(file: PyFile, found: cst.CSTNode, rows: set[str], containers: set[str]) -> str:
    if isinstance(found, cst.Call):
        func = found.func
        receiver = func.value if isinstance(func, cst.Attribute) and func.attr.value in _WRITES else None
        if (receiver is not None and root_name(receiver) not in containers) or file.imports.resolve(func) in _DML:
            return f"the handler also writes (`{_short(file, found, 40)}`): paging would change what it writes"
    targets = [a.target for a in found.targets] if isinstance(found, cst.Assign) else []
    targets += [found.target] if isinstance(found, cst.AugAssign) else []
    if any(isinstance(t, cst.Attribute) and root_name(t) in rows for t in targets):
        return "the handler changes the rows it reads: paging would change only the first page of them"
    return ""


def _over_all(found: cst.CSTNode, node: cst.CSTNode, rows: set[str]) -> str:
    if not (isinstance(found, cst.Call) and isinstance(found.func, cst.Name) and found.func.value in _OVER_ALL):
        return ""
    if any(contains(arg.value, node) or _mentions(arg.value, rows) for arg in found.args):
        return f"the handler computes `{found.func.value}()` over the rows: over one page it would differ"
    return ""


def _containers(function: cst.FunctionDef) -> set[str]:
    """Local names bound to a set, list or dict built here."""
    out: set[str] = set()
    for found in walk(function.body):
        if isinstance(found, cst.Assign):
            value = found.value
            built = isinstance(value, (cst.Set, cst.List, cst.Dict, cst.SetComp, cst.ListComp, cst.DictComp)) or (
                isinstance(value, cst.Call) and dotted(value.func) in ("set", "list", "dict")
            )
            if built:
                out |= {n for t in found.targets for n in names_in(t.target)}
    return out


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    return any(isinstance(n, cst.Name) and n.value in names for n in walk(node))


def _row_names(function: cst.FunctionDef, node: cst.CSTNode) -> set[str]:
    """Local names holding the fetched rows or what is derived from them (loop variables too)."""
    names = {node.value} if isinstance(node, cst.Name) else set()
    statements = [n for n in walk(function.body) if isinstance(n, (cst.Assign, cst.For, cst.CompFor))]
    grown = True
    while grown:
        grown = False
        for stmt in statements:
            value = stmt.value if isinstance(stmt, cst.Assign) else stmt.iter
            targets = [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
            if contains(value, node) or _mentions(value, names):
                new = {n for t in targets for n in names_in(t)} - names
                names |= new
                grown = grown or bool(new)
    return names


def _paging_dependency(file: PyFile, params: cst.Parameters) -> str:
    """A parameter whose type or default names paging (`p: PageParams = Depends()`, `Params`)."""
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        parts = [param.annotation.annotation if param.annotation else None, param.default]
        code = " ".join(file.code(part) for part in parts if part is not None).lower()
        if "pagina" in code or "pageparams" in code or "page_params" in code:
            return param.name.value
    return ""


def _use_existing(taken: set[str]) -> str:
    """The chain to add for the paging parameters a handler already has."""
    size = next((n for n in ("limit", "page_size", "per_page", "size", "take", "first") if n in taken), "")
    start = next((n for n in ("offset", "skip", "start") if n in taken), "")
    if size and start:
        return f"`.offset({start}).limit({size})`"
    if size and "page" in taken:
        return f"`.offset((page - 1) * {size}).limit({size})`"
    if size:
        return f"`.limit({size})`"
    if start:
        return f"`.offset({start}).limit({DEFAULT_LIMIT})`"
    if "page" in taken:
        return f"`.offset((page - 1) * {DEFAULT_LIMIT}).limit({DEFAULT_LIMIT})`"
    return f"a filter on the cursor and `.limit({DEFAULT_LIMIT})`"


def _rewrite(file: PyFile, finding: Finding, function: cst.FunctionDef, target: _Target) -> Proposal | Skipped:
    query = _local_for(file, "fastapi.Query", "Query")
    if query is None:
        return _skip(finding, "`Query` names something else in this module: add the limit/offset parameters by hand")
    annotated = _annotated_name(file) if _uses_annotated_params(file) else None
    params = _paging_params(query, annotated)
    body_changed = function.deep_replace(target.old, target.new)
    assert isinstance(body_changed, cst.FunctionDef)
    column = file.positions[function].start.column
    indent = file.module.default_indent
    new_function = with_params(body_changed, params, indent=indent, column=column)
    if not comments_in_place(function, new_function):  # a layout with_params does not know
        return _skip(finding, "the signature's comments would move: add the limit/offset parameters by hand")
    module = replace_node(file.module, function, new_function)
    if query == "Query" and "Query" not in file.imports.bindings:
        body = module.body
        first_code = next((i for i, s in enumerate(body) if not (is_import_line(s) or is_docstring(s))), len(body))
        module = add_import(module, "fastapi", "Query", first_code)
    description = (
        f"page `{function.name.value}` with `limit` (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}) and `offset` "
        "query parameters; clients that read the whole list now get the first page"
    )
    if not target.ordered:
        description += " (the query has no order_by: add one so pages do not overlap)"
    edits = line_edits(file.source, module.code, rule="SA301", description=description, group=f"SA301:{finding.path}")
    return Proposal("SA301", finding.path, finding.line, description, {finding.path: tuple(edits)}, (key_of(finding),))


# --- what to page -------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    old: cst.CSTNode  # the statement (or legacy query) as written
    new: cst.CSTNode  # the same with `.limit(limit).offset(offset)`
    ordered: bool  # an order_by is visible: pages are stable


def _paging_target(file: PyFile, function: cst.FunctionDef, node: cst.CSTNode) -> _Target | str:
    """(node to replace, its replacement) — or why there is none."""
    chain = _executed_chain(function, node)
    if isinstance(chain, str):
        return chain
    links, base = chain
    for index, (name, call) in enumerate(links):
        if name in SA_EXECUTORS and call.args:
            return _page_statement(file, function, call.args[0].value)
        if name == "query" and call.args:
            return _page_legacy(links[index + 1 :])
    if isinstance(base, cst.Call) and (file.imports.resolve(base.func) or "") in SA_SELECTS:
        return "the select is not executed here: page it where it is executed"
    return "not a SQLAlchemy select or session.query executed in this handler: page it by hand with `.limit()`"


def _executed_chain(
    function: cst.FunctionDef, node: cst.CSTNode, depth: int = 0
) -> tuple[list[tuple[str, cst.Call]], cst.BaseExpression] | str:
    """The method chain that fetches the rows, following one local variable at a time."""
    if not isinstance(node, cst.BaseExpression):
        return "the reported node is not an expression"
    node = _unwrap_list(node)
    links, base = _method_chain(node)
    if isinstance(base, cst.Name) and not _links_have_executor(links) and depth < 3:
        value = sole_assignment(function, base.value)
        if value is None:
            return f"`{base.value}` is bound more than once or not by a plain assignment: page its query by hand"
        inner = _executed_chain(function, value, depth + 1)
        if isinstance(inner, str):
            return inner
        return [*inner[0], *links], inner[1]
    return links, base


def _links_have_executor(links: Sequence[tuple[str, cst.Call]]) -> bool:
    return any((name in SA_EXECUTORS or name == "query") and call.args for name, call in links)


def _page_statement(file: PyFile, function: cst.FunctionDef, statement: cst.BaseExpression) -> _Target | str:
    chains: list[list[tuple[str, cst.Call]]] = []
    if isinstance(statement, cst.Name):
        values = assignments(function, statement.value)
        if values is None or not values:
            return f"`{statement.value}` is not a local bound only by assignments: add `.limit(...)` to its select"
        for value in values:
            links, base = _method_chain(value)
            if not (_is_select(file, base) or (isinstance(base, cst.Name) and base.value == statement.value)):
                return f"`{statement.value}` is not always a `select(...)`: add `.limit(...)` to it by hand"
            chains.append(links)
    else:
        links, base = _method_chain(statement)
        if not _is_select(file, base):
            return "the executed statement is not a `select(...)` chain: add `.limit(...)` to it by hand"
        chains.append(links)
    bounding = {name for links in chains for name, _ in links} & _BOUNDING
    if bounding:
        return f"the select already calls `.{sorted(bounding)[0]}()`: add the missing `.limit(...)` by hand"
    ordered = any(name == "order_by" for links in chains for name, _ in links)
    return _Target(statement, _limited(statement), ordered)


def _page_legacy(links: Sequence[tuple[str, cst.Call]]) -> _Target | str:
    names = [name for name, _ in links]
    if set(names) & _BOUNDING:
        return "the query already calls `.offset()`/`.slice()`: add the missing `.limit(...)` by hand"
    if not names or names[-1] != "all":
        return "the query is not fetched with `.all()` in this chain: add `.limit(...)` to it by hand"
    fetch = links[-1][1]
    assert isinstance(fetch.func, cst.Attribute)
    receiver = fetch.func.value
    return _Target(receiver, _limited(receiver), "order_by" in names)


def _limited(statement: cst.BaseExpression) -> cst.BaseExpression:
    """`statement.limit(limit).offset(offset)`."""
    limited = cst.Call(func=cst.Attribute(value=statement, attr=cst.Name("limit")), args=[cst.Arg(cst.Name("limit"))])
    return cst.Call(func=cst.Attribute(value=limited, attr=cst.Name("offset")), args=[cst.Arg(cst.Name("offset"))])


def _is_select(file: PyFile, base: cst.BaseExpression) -> bool:
    return isinstance(base, cst.Call) and (file.imports.resolve(base.func) or "") in SA_SELECTS


def _method_chain(node: cst.BaseExpression) -> tuple[list[tuple[str, cst.Call]], cst.BaseExpression]:
    """`a.b(x).c(y)` -> ([("b", call), ("c", call)], a); awaits and subscripts are looked through."""
    links, base, _ = chain_links(node)
    return links, base


def _unwrap_list(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Call) and dotted(node.func) == "list" and len(node.args) == 1:
        return node.args[0].value
    return node


# --- FastAPI --------------------------------------------------------------------


def _is_fastapi_route(file: PyFile, function: cst.FunctionDef) -> bool:
    """A route decorator (`@router.get(...)`) on an app or router that is FastAPI's.

    The router is FastAPI's when this module builds it from `fastapi.APIRouter`/`FastAPI`,
    or when it comes from elsewhere and the module imports FastAPI and no other web framework.
    """
    apps = _module_apps(file)
    bound = {name for name, _ in apps.items()}
    fastapi_only = any(q.startswith("fastapi") for q in file.imports.bindings.values()) and not any(
        q.split(".")[0] in _OTHER_FRAMEWORKS for q in file.imports.bindings.values()
    )
    for decorator in function.decorators:
        call = decorator.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            continue
        if call.func.attr.value not in _ROUTE_METHODS:
            continue
        owner = dotted(call.func.value) or ""
        if apps.get(owner) or (owner not in bound and fastapi_only):
            return True
    return False


def _module_apps(file: PyFile) -> dict[str, bool]:
    """Module-level names bound to a call: name -> is it a FastAPI app or router."""
    out: dict[str, bool] = {}
    for stmt in file.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets = small.targets if isinstance(small, cst.Assign) else ()
            if not (isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)):
                continue
            resolved = file.imports.resolve(small.value.func) or ""
            for target in targets:
                if isinstance(target.target, cst.Name):
                    out[target.target.value] = resolved in _FASTAPI_APPS
    return out


def _local_for(file: PyFile, qualname: str, default: str) -> str | None:
    """The name this module uses for `qualname`, `default` when it is free, None when taken."""
    for local, bound in file.imports.bindings.items():
        if bound == qualname:
            return local
    taken = default in file.imports.bindings or file.top_level_bindings(default) > 0
    return None if taken else default


def _annotated_name(file: PyFile) -> str | None:
    return next((local for local, q in file.imports.bindings.items() if q in _ANNOTATED), None)


class _AnnotatedParams(cst.CSTVisitor):
    def __init__(self, file: PyFile, annotated: str) -> None:
        super().__init__()
        self.file, self.annotated, self.found = file, annotated, False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if dotted(node.value) != self.annotated:
            return
        for element in node.slice:
            value = element.slice.value if isinstance(element.slice, cst.Index) else None
            if isinstance(value, cst.Call) and (self.file.imports.resolve(value.func) or "").startswith("fastapi."):
                self.found = True


def _uses_annotated_params(file: PyFile) -> bool:
    """Does this module write FastAPI parameters as `Annotated[T, Query(...)]`? Then so do we."""
    annotated = _annotated_name(file)
    if annotated is None:
        return False
    visitor = _AnnotatedParams(file, annotated)
    file.module.visit(visitor)
    return visitor.found


def _paging_params(query: str, annotated: str | None) -> list[cst.Param]:
    if annotated:
        codes = [
            ("limit", f"{annotated}[int, {query}(ge=1, le={MAX_LIMIT})]", str(DEFAULT_LIMIT)),
            ("offset", f"{annotated}[int, {query}(ge=0)]", "0"),
        ]
    else:
        codes = [
            ("limit", "int", f"{query}({DEFAULT_LIMIT}, ge=1, le={MAX_LIMIT})"),
            ("offset", "int", f"{query}(0, ge=0)"),
        ]
    space = cst.SimpleWhitespace(" ")
    return [
        cst.Param(
            name=cst.Name(name),
            annotation=cst.Annotation(cst.parse_expression(annotation)),
            default=cst.parse_expression(default),
            equal=cst.AssignEqual(whitespace_before=space, whitespace_after=space),
        )
        for name, annotation, default in codes
    ]


def _elsewhere(file: PyFile, finding: Finding, node: cst.CSTNode, function: cst.FunctionDef) -> str:
    """The edit to make by hand outside FastAPI (the reason of the Skipped)."""
    code = _short(file, node)
    value = sole_assignment(function, node.value) if isinstance(node, cst.Name) else None
    query = _short(file, value) if value is not None else code  # what the variable was fetched with
    what = finding.anchor
    frameworks = {q.split(".")[0] for q in file.imports.bindings.values()}
    if what.startswith("raw SQL"):
        return (
            "not a FastAPI handler: add `LIMIT %s OFFSET %s` to the SQL and pass a page size "
            f"(default {DEFAULT_LIMIT}, at most {MAX_LIMIT}) and an offset read from the request"
        )
    if what.startswith("prisma"):
        return (
            f"not a FastAPI handler: pass `take={DEFAULT_LIMIT}, skip=<offset>` to find_many() "
            f"(take at most {MAX_LIMIT})"
        )
    if "rest_framework" in frameworks:
        return (
            f"not a FastAPI handler: page it with DRF — `paginator = PageNumberPagination(); "
            f"page = paginator.paginate_queryset({code}, request)`, serialize `page` and return "
            "`paginator.get_paginated_response(data)` (clients then get {count, next, previous, results})"
        )
    if "django" in frameworks:
        return (
            f"not a FastAPI handler: page it with "
            f"`Paginator({code}, {DEFAULT_LIMIT}).get_page(request.GET.get('page'))` and send that page "
            "(a template loops over it and links to the next; a JSON response lists its object_list and has_next())"
        )
    if "flask" in frameworks or "flask_sqlalchemy" in frameworks:
        return _flask(file, value if value is not None else node, query)
    return f"not a FastAPI handler: add `.limit(...)` (and an offset from the request) to `{query}`"


def _flask(file: PyFile, fetched: cst.CSTNode, query: str) -> str:
    """Flask-SQLAlchemy pages a legacy `Model.query` with `.paginate()`, a select with `db.paginate()`."""
    sizes = f"per_page={DEFAULT_LIMIT}, max_per_page={MAX_LIMIT}"
    links, _ = _method_chain(fetched) if isinstance(fetched, cst.BaseExpression) else ([], fetched)
    executed = next((call for name, call in links if name in SA_EXECUTORS and call.args), None)
    if executed is not None:
        edit = f"db.paginate({_short(file, executed.args[0].value)}, {sizes})"
    elif ".query" in (full := _short(file, fetched, 10_000)) and full.endswith(".all()"):
        if len(full) > 100:
            return (
                f"not a FastAPI handler: with Flask-SQLAlchemy, end `{query}` with `.paginate({sizes})`, not `.all()`"
            )
        edit = f"{full[: -len('.all()')]}.paginate({sizes})"
    else:
        return f"not a FastAPI handler: with Flask-SQLAlchemy, page `{query}` with `.paginate({sizes})`"
    return (
        f"not a FastAPI handler: with Flask-SQLAlchemy, write `{edit}` instead of `{query}` "
        "(it reads ?page= and ?per_page=; use the page's `.items`)"
    )


def _short(file: PyFile, node: cst.CSTNode, width: int = 80) -> str:
    """One line of source for a reason, without the expression's own parentheses."""
    if isinstance(node, cst.BaseExpression) and node.lpar:
        node = node.with_changes(lpar=[], rpar=[])
    code = " ".join(file.code(node).split()).replace("( ", "(").replace(" )", ")")
    return code if len(code) <= width else code[: width - 3] + "..."


FIXER = fix_pagination_fastapi
