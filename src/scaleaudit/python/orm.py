"""ORM query expressions, read from syntax: what a query loads and whether it is bounded.

Rules about N+1 queries, pagination and indexes all ask the same questions of
an expression such as `Ticket.objects.filter(x=1).select_related("owner")[:20]`
or `select(Order).options(selectinload(Order.items)).limit(50)`: which model,
which relations are loaded with it, is it sliced or limited, does it yield
model instances or plain values, is it one row. `parse_query` answers them
without a registry; project rules join the answers with the model registry.

`QueryVars` follows a query through simple assignments in one function
(`qs = Ticket.objects.all(); qs = qs.filter(...)`), which is where real views
build their querysets.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import libcst as cst

from scaleaudit.python.imports import ImportTable, dotted

DJANGO_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
# Queryset methods that evaluate to one object, a number or nothing.
DJANGO_SINGLE = frozenset(
    {
        "get",
        "first",
        "last",
        "latest",
        "earliest",
        "count",
        "exists",
        "aggregate",
        "create",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
        "bulk_create",
        "bulk_update",
        "in_bulk",
        "contains",
    }
)
DJANGO_VALUES = frozenset({"values", "values_list"})
SA_SELECTS = frozenset({"sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.select", "sqlmodel.select"})
SA_LOADERS = frozenset({"selectinload", "joinedload", "subqueryload", "contains_eager", "immediateload"})
# Terminal calls on a result or legacy Query: which ones fetch one row.
SA_ONE = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "get", "count"})
SA_MANY = frozenset({"all", "fetchall", "partitions"})
SA_PASS = frozenset({"scalars", "unique", "mappings", "tuples"})
SA_EXECUTORS = frozenset({"execute", "scalars", "scalar", "exec"})


@dataclass(frozen=True)
class Query:
    """What one query expression loads. Plain data, so it can go into facts."""

    orm: str  # "django" | "sqlalchemy"
    model: str  # class name as written, last segment ("Ticket")
    qualname: str  # resolved through the module's imports ("helpdesk.models.Ticket")
    node: cst.CSTNode
    methods: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()  # "*" for a bare select_related()
    prefetch: tuple[str, ...] = ()  # prefetch_related / selectinload / joinedload paths
    only: tuple[str, ...] = ()
    defer: tuple[str, ...] = ()
    rows: bool = True  # yields model instances (False after values()/values_list())
    bounded: bool = False  # sliced, limited, or one row
    single: bool = False  # evaluates to one object or a number
    executed: bool = False  # SQLAlchemy: already fetched (`.all()`), Django: always lazy
    aggregate: bool = False  # select(func.count(...)), GROUP BY and friends
    # Model attributes this query already filters on (Django lookups' first segment, so
    # `project__key=x` gives "project"): an index on any of them narrows the rows first.
    filtered: tuple[str, ...] = ()
    # Filtered by a value known only at run time (`owner=request.user`, `User.id == uid`): the rows
    # of one parent or one lookup, usually few, rather than a whole table.
    scoped: bool = False

    def data(self) -> dict[str, Any]:
        return {
            "orm": self.orm,
            "model": self.model,
            "qualname": self.qualname,
            "select_related": list(self.select_related),
            "prefetch": list(self.prefetch),
            "only": list(self.only),
            "defer": list(self.defer),
            "rows": self.rows,
        }

    def loads(self, relation: str) -> bool:
        return "*" in self.select_related or "*" in self.prefetch or relation in (*self.select_related, *self.prefetch)


def string_args(call: cst.Call) -> Iterator[str]:
    for arg in call.args:
        if arg.keyword is None and isinstance(arg.value, cst.SimpleString):
            value = arg.value.evaluated_value
            if isinstance(value, str):
                yield value


def keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _first_segment(path: str) -> str:
    return path.split("__", 1)[0]


def _prefetch_paths(call: cst.Call) -> Iterator[str]:
    for arg in call.args:
        value = arg.value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            yield _first_segment(value.evaluated_value)
        elif isinstance(value, cst.Call) and (dotted(value.func) or "").endswith("Prefetch"):
            to_attr = keyword(value, "to_attr")
            if isinstance(to_attr, cst.SimpleString) and isinstance(to_attr.evaluated_value, str):
                yield to_attr.evaluated_value
            for path in string_args(value):
                yield _first_segment(path)
                break
        else:
            yield "*"  # `prefetch_related(*paths)`, a variable: unknown, so assume it loads what is touched


def _links(node: cst.BaseExpression) -> tuple[list[tuple[str, cst.Call]], cst.BaseExpression, bool]:
    """`a.b(x).c(y)[:5]` -> ([("b", call), ("c", call)], a, sliced)."""
    links: list[tuple[str, cst.Call]] = []
    sliced = False
    while True:
        if isinstance(node, cst.Await):
            node = node.expression
        elif isinstance(node, cst.Subscript):
            sliced = sliced or any(isinstance(e.slice, cst.Slice) for e in node.slice)
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            links.append((node.func.attr.value, node))
            node = node.func.value
        else:
            break
    links.reverse()
    return links, node, sliced


chain_links = _links  # the public name: the fixers read a method chain the way the scan does


def _apply_django(query: Query, links: list[tuple[str, cst.Call]], sliced: bool) -> Query:
    sr, pf, only, defer = list(query.select_related), list(query.prefetch), list(query.only), list(query.defer)
    rows, single, aggregate = query.rows, query.single, query.aggregate
    filtered, scoped = list(query.filtered), query.scoped
    for name, call in links:
        if name == "select_related":
            paths = [_first_segment(p) for p in string_args(call)]
            literal = len(paths) == len(call.args)
            sr.extend(paths if paths and literal else ["*"])  # select_related(*names): unknown, assume loaded
        elif name == "prefetch_related":
            pf.extend(_prefetch_paths(call))
        elif name == "only":
            only.extend(string_args(call))
        elif name == "defer":
            defer.extend(string_args(call))
        elif name in DJANGO_VALUES:
            rows = False
        elif name == "annotate" and not rows:
            aggregate = True  # values(...).annotate(...) is a GROUP BY: one row per group
        elif name in DJANGO_SINGLE:
            single = True
        if name in ("filter", "get"):
            filtered.extend(_first_segment(a.keyword.value) for a in call.args if a.keyword is not None)
            scoped = scoped or any(a.keyword is not None and not is_constant(a.value) for a in call.args)
    methods = query.methods + tuple(n for n, _ in links)
    return replace(
        query,
        aggregate=aggregate,
        filtered=tuple(filtered),
        scoped=scoped,
        methods=methods,
        select_related=tuple(sr),
        prefetch=tuple(pf),
        only=tuple(only),
        defer=tuple(defer),
        rows=rows,
        single=single,
        bounded=query.bounded or sliced or single,
    )


def _sa_loaded(call: cst.Call) -> Iterator[str]:
    """Relations named in `.options(selectinload(A.b), joinedload(A.c).selectinload(C.d))`."""
    for arg in call.args:
        value = arg.value
        chain, _, _ = _links(value)
        head = value
        while isinstance(head, cst.Call) and isinstance(head.func, cst.Attribute):
            head = head.func.value
        calls = [head] if isinstance(head, cst.Call) else []
        calls += [c for _, c in chain]
        if calls and isinstance(calls[0], cst.Call):
            name = (dotted(calls[0].func) or "").rsplit(".", 1)[-1]
            if name in SA_LOADERS and calls[0].args:
                target = calls[0].args[0].value
                if isinstance(target, cst.Attribute):
                    yield target.attr.value
                elif isinstance(target, cst.SimpleString) and isinstance(target.evaluated_value, str):
                    yield target.evaluated_value


def _apply_sqlalchemy(query: Query, links: list[tuple[str, cst.Call]], sliced: bool) -> Query:
    loaded, filtered, scoped = list(query.prefetch), list(query.filtered), query.scoped
    bounded, single, executed, aggregate = query.bounded or sliced, query.single, query.executed, query.aggregate
    for name, call in links:
        if name == "options":
            loaded.extend(_sa_loaded(call))
        elif name == "group_by" or (name == "with_entities" and any(_is_sql_function(a.value) for a in call.args)):
            aggregate = True  # one row per group, or one row: not a row per table row
        elif name == "filter_by":
            filtered.extend(a.keyword.value for a in call.args if a.keyword is not None)
            scoped = scoped or any(a.keyword is not None and not is_constant(a.value) for a in call.args)
        elif name in ("filter", "where"):
            filtered.extend(_compared_attrs(call))
            scoped = scoped or any(
                isinstance(a.value, cst.Comparison) and not is_constant(c.comparator)
                for a in call.args
                for c in getattr(a.value, "comparisons", ())
            )
        elif name in ("limit", "slice"):
            bounded = True
        elif name in SA_ONE:
            single = bounded = executed = True
        elif name in SA_MANY:
            executed = True
    methods = query.methods + tuple(n for n, _ in links)
    return replace(
        query,
        methods=methods,
        prefetch=tuple(loaded),
        bounded=bounded,
        single=single,
        executed=executed,
        aggregate=aggregate,
        filtered=tuple(filtered),
        scoped=scoped,
    )


def is_constant(node: cst.BaseExpression) -> bool:
    """A literal, True/False/None, or an ALL_CAPS name (`Status.OPEN`): the same rows on every request."""
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.ConcatenatedString)):
        return True
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(is_constant(e.value) for e in node.elements)
    name = (dotted(node) or "").rsplit(".", 1)[-1]
    return name in ("True", "False", "None") or (name.isupper() and len(name) > 1)


def _is_sql_function(node: cst.BaseExpression) -> bool:
    """`func.count(x)`, `db.func.sum(x)`, `func.count(x).label("n")`."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "label":
        node = node.func.value
    return isinstance(node, cst.Call) and ".func." in f".{dotted(node.func) or ''}"


def _compared_attrs(call: cst.Call) -> Iterator[str]:
    """`Model.attr` names compared in `.filter(Model.a == x, Model.b > y)`."""
    for arg in call.args:
        value = arg.value
        if isinstance(value, cst.Comparison) and isinstance(value.left, cst.Attribute):
            yield value.left.attr.value


def _sa_select(call: cst.Call, imports: ImportTable) -> Query | None:
    resolved = imports.resolve(call.func) or ""
    if resolved not in SA_SELECTS and not resolved.endswith(".query"):
        return None
    if not call.args:
        return None
    first = call.args[0].value
    name = dotted(first)
    if name is None:
        # select(func.count(...)), select(User.id): aggregates and columns are not rows of a model
        aggregate = isinstance(first, cst.Call) and (dotted(first.func) or "").split(".")[0] in ("func", "sa")
        inner = first.value if isinstance(first, cst.Attribute) else None
        model = (dotted(inner) or "") if inner is not None else ""
        return Query(
            "sqlalchemy", model.rsplit(".", 1)[-1], imports.resolve_dotted(model), call, rows=False, aggregate=aggregate
        )
    if "." in name and name.split(".")[-1][:1].islower():
        # select(User.email): a column
        model = name.rsplit(".", 1)[0]
        return Query("sqlalchemy", model.rsplit(".", 1)[-1], imports.resolve_dotted(model), call, rows=False)
    return Query("sqlalchemy", name.rsplit(".", 1)[-1], imports.resolve_dotted(name), call)


Lookup = Callable[[str], "Query | None"]


def _apply(query: Query, links: list[tuple[str, cst.Call]], sliced: bool, node: cst.CSTNode) -> Query:
    apply = _apply_django if query.orm == "django" else _apply_sqlalchemy
    return replace(apply(query, links, sliced), node=node)


def parse_query(
    node: cst.BaseExpression, imports: ImportTable, lookup: Lookup | None = None, self_query: Query | None = None
) -> Query | None:
    """The query an expression builds or evaluates, or None if it is not one we know.

    `self_query` is the view class's own queryset, for `self.get_queryset()...`.
    """
    links, base, sliced = _links(node)
    if self_query is not None:
        if dotted(base) in ("self.queryset", "self.object_list"):
            return _apply(self_query, links, sliced, node)
        if isinstance(base, cst.Name) and base.value == "self" and links and links[0][0] == "get_queryset":
            return _apply(self_query, links[1:], sliced, node)
    if isinstance(base, cst.Name) and lookup is not None:
        known = lookup(base.value)
        if known is not None:
            return _apply(known, links, sliced, node)
    # Django: <Model>.objects.<methods>
    if isinstance(base, cst.Attribute) and base.attr.value in DJANGO_MANAGERS:
        model = dotted(base.value)
        if model and model.rsplit(".", 1)[-1][:1].isupper():
            query = Query("django", model.rsplit(".", 1)[-1], imports.resolve_dotted(model), node)
            return replace(_apply_django(query, links, sliced), node=node)
        return None
    # Flask-SQLAlchemy: Model.query.filter(...).all()
    if isinstance(base, cst.Attribute) and base.attr.value == "query":
        model = dotted(base.value)
        if model and model.rsplit(".", 1)[-1][:1].isupper():
            flask = Query("sqlalchemy", model.rsplit(".", 1)[-1], imports.resolve_dotted(model), node)
            return replace(_apply_sqlalchemy(flask, links, sliced), node=node)
    # SQLAlchemy: select(Model)... / session.query(Model)...
    if isinstance(base, cst.Call):
        start = _sa_select(base, imports)
        if start is not None:
            return replace(_apply_sqlalchemy(start, links, sliced), node=node)
    for index, (name, call) in enumerate(links):
        if name == "query" and call.args:
            target = dotted(call.args[0].value)
            if target and target.rsplit(".", 1)[-1][:1].isupper():
                start = Query("sqlalchemy", target.rsplit(".", 1)[-1], imports.resolve_dotted(target), call)
                return replace(_apply_sqlalchemy(start, links[index + 1 :], sliced), node=node)
        if name in SA_EXECUTORS and call.args:
            inner = parse_query(call.args[0].value, imports, lookup)
            if inner is not None and inner.orm == "sqlalchemy":
                # session.execute(select(User)) yields Row tuples, not User objects, until .scalars()
                rows = inner.rows and (name != "execute" or any(n == "scalars" for n, _ in links[index + 1 :]))
                executed = replace(inner, executed=name == "scalar", rows=rows)
                return replace(_apply_sqlalchemy(executed, links[index + 1 :], sliced), node=node)
            return None
    return None


class QueryVars:
    """Name -> query, per function, from simple assignments seen so far in the walk."""

    def __init__(self) -> None:
        self._scopes: dict[int, dict[str, Query]] = {}

    def scope(self, function: cst.CSTNode | None) -> dict[str, Query]:
        return self._scopes.setdefault(id(function), {})

    def lookup(self, function: cst.CSTNode | None) -> Lookup:
        scope = self.scope(function)
        return scope.get

    def assign(
        self,
        function: cst.CSTNode | None,
        node: cst.Assign | cst.AnnAssign,
        imports: ImportTable,
        self_query: Query | None = None,
    ) -> None:
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], cst.Name) or node.value is None:
            return
        scope = self.scope(function)
        value = node.value
        if isinstance(value, cst.Call) and dotted(value.func) == "list" and len(value.args) == 1:
            value = value.args[0].value  # list(qs) loads the same rows, now
        query = parse_query(value, imports, scope.get, self_query)
        if query is None:
            scope.pop(targets[0].value, None)
        else:
            scope[targets[0].value] = query


def is_constant_collection(node: cst.BaseExpression) -> bool:
    """A literal list/tuple/set of constants, or range(<literal>): a handful of items known in advance."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(
            isinstance(e, cst.Element) and isinstance(e.value, (cst.SimpleString, cst.Integer, cst.Float))
            for e in node.elements
        )
    if isinstance(node, cst.Call) and dotted(node.func) == "range":
        return all(isinstance(a.value, cst.Integer) for a in node.args)
    return False


def class_bases(node: cst.ClassDef, imports: ImportTable) -> list[str]:
    """Resolved base names; a generic base (`ModelAdmin[Ticket]`, typed stubs) counts as its class."""
    out: list[str] = []
    for arg in node.bases:
        if arg.keyword is None:
            value = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
            out.append(imports.resolve(value) or "")
    return out


# Decorator fragments of staff-only views: a handful of staff, not the 1,000 users.
_STAFF = ("admin", "staff", "superuser")


def staff_only(ctx: Any) -> bool:
    """An admin page (under `admin/`, in `admin.py`, or behind an admin/staff decorator)."""
    if "admin" in ctx.rel.split("/")[:-1] or ctx.filename == "admin.py":
        return True
    decorators = [d.lower() for f in ctx.enclosing("function", "class") for d in f.decorators]
    return any(word in d for d in decorators for word in _STAFF)


def scope_label(ctx: Any) -> str:
    """Where code runs, for grading: "test", "batch", "handler" or "function"."""
    if ctx.is_test:
        return "test"
    if ctx.is_migration:
        return "migration"
    if ctx.is_batch or ctx.in_main_guard:
        return "batch"
    return "handler" if ctx.in_handler else "function"


class ClassQueries:
    """`queryset = ...`, `model = X` and `get_queryset()` returns of view classes, by class node."""

    def __init__(self) -> None:
        self.by_class: dict[int, Query] = {}

    def note_assign(self, ctx: Any, node: cst.Assign | cst.AnnAssign, lookup: Lookup) -> None:
        cls = ctx.cls
        if cls is None or ctx.function is not None or node.value is None:
            return
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        name = targets[0].value if len(targets) == 1 and isinstance(targets[0], cst.Name) else ""
        if name == "queryset":
            query = parse_query(node.value, ctx.imports, lookup)
            if query is not None:
                self.by_class[id(cls.node)] = query
        elif name == "model" and id(cls.node) not in self.by_class:
            model = dotted(node.value)
            if model:
                resolved = ctx.imports.resolve_dotted(model)
                self.by_class[id(cls.node)] = Query("django", model.rsplit(".", 1)[-1], resolved, node.value)

    def note_return(self, ctx: Any, node: cst.Return, lookup: Lookup) -> None:
        function, cls = ctx.function, ctx.cls
        if function is None or cls is None or function.name != "get_queryset" or node.value is None:
            return
        query = parse_query(node.value, ctx.imports, lookup)
        if query is not None:
            self.by_class[id(cls.node)] = query

    def of_self(self, ctx: Any) -> Query | None:
        cls = ctx.cls
        return None if cls is None else self.by_class.get(id(cls.node))


def unbounded_select(sql: str) -> bool:
    """A SELECT that reads rows from a table with no LIMIT, and is not aggregate-only.

    Parsed with sqlglot (PostgreSQL dialect); anything it cannot parse, and
    anything that is not a plain SELECT, counts as bounded: silence over guesses.
    """
    import sqlglot  # imported here: only files with raw SQL pay for it
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except Exception:  # sqlglot raises several error types; all mean "not for us"
        return False
    if not isinstance(tree, exp.Select) or (tree.args.get("from") or tree.args.get("from_")) is None:
        return False
    if tree.args.get("limit") is not None or tree.args.get("fetch") is not None:
        return False
    group = tree.args.get("group")
    keys = {k.sql() for k in group.expressions} if group is not None else set()
    # Aggregates, optionally per group key: one row, or one per group (a status, a day), not per row.
    return not all(isinstance(e.unalias(), exp.AggFunc) or e.unalias().sql() in keys for e in tree.expressions)


OwnerT = TypeVar("OwnerT")


class PerItemMethods(Generic[OwnerT]):
    """Methods run once per listed row — admin `list_display` columns, serializer
    method fields: while inside one, which owner it belongs to and which
    attributes of its item parameter (`obj.author`, then `.name`) it reads."""

    def __init__(self) -> None:
        self.current: list[tuple[OwnerT, str, cst.FunctionDef]] = []
        self.next_attr: dict[int, str] = {}

    def enter(self, node: cst.FunctionDef, owner: OwnerT | None, methods: Container[str]) -> None:
        params = node.params.params
        if owner is not None and node.name.value in methods and len(params) >= 2:
            self.current.append((owner, params[1].name.value, node))

    def leave(self, node: cst.FunctionDef) -> None:
        if self.current and self.current[-1][2] is node:
            self.current.pop()

    def touch(self, node: cst.Attribute) -> tuple[OwnerT, str, str | None] | None:
        """(owner, attribute, the attribute read after it) when `node` reads the item."""
        inner = node.value
        if isinstance(inner, cst.Attribute):
            self.next_attr[id(inner)] = node.attr.value  # the outer attribute is visited first
        if self.current and isinstance(inner, cst.Name) and inner.value == self.current[-1][1]:
            return self.current[-1][0], node.attr.value, self.next_attr.get(id(node))
        return None
