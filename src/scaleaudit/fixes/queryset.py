"""What the N+1 fixers share: find the query a finding points at, and make it load a relation.

A finding names an expression — the loop's iterable, the view's `queryset = ...`,
the queryset passed to a serializer. `locate` follows it to the query chain it
denotes: the expression itself when it is `Model.objects...`, `select(Model)...`,
`session.query(Model)...` or `Model.query...`, or — for a plain name — the one
assignment to that name earlier in the same function. It refuses (returns the
reason) when the name is a parameter, bound more than once, or bound inside a
branch or loop: then which query runs is not visible here.

`settle` then changes each chain once whatever number of
findings asked for it (two relations of one queryset never become two
overlapping rewrites): Django gets `.select_related(...)` for forward keys and
one-to-ones, `.prefetch_related(...)` for reverse and many-to-many managers —
an existing call is extended instead — inserted right after the manager, so
slices and `.values()` stay last. SQLAlchemy gets `.options(selectinload(M.rel))`
and the import. `selectinload` rather than `joinedload` even for many-to-one:
it is correct for every relationship (a joined collection needs `.unique()`
under 2.0 `scalars()`), and the registry's "is it a collection" is a guess when
the annotation is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from scaleaudit.fixes.base import Proposal, Skipped, key_of
from scaleaudit.fixes.pyscope import names_in, param_names
from scaleaudit.fixes.pysource import (
    PyFile,
    add_import,
    with_arguments,
)
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Finding
from scaleaudit.project.models import ModelInfo, Registry
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import DJANGO_MANAGERS, SA_EXECUTORS, SA_SELECTS

# Django queryset methods that return a queryset: a relation can be loaded before or after them.
_CHAINABLE = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "distinct",
        "annotate",
        "alias",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "using",
        "reverse",
        "extra",
        "get_queryset",
        "complex_filter",
    }
)
# Chains whose shape forbids the edit, and why (Django).
_DJANGO_REFUSED = {
    "union": "a combined query (union()) cannot load relations on one side only",
    "intersection": "a combined query (intersection()) cannot load relations on one side only",
    "difference": "a combined query (difference()) cannot load relations on one side only",
    "values": "values() returns dicts, not model instances",
    "values_list": "values_list() returns tuples, not model instances",
    "raw": "a raw query cannot load relations",
}
_SA_REFUSED = {
    "subquery": "the select is used as a subquery",
    "cte": "the select is used as a CTE",
    "scalar_subquery": "the select is used as a subquery",
    "with_only_columns": "with_only_columns() changes what the select returns",
    "from_statement": "from_statement() decides what is loaded",
    **{
        name: f"a combined select ({name}()) cannot load relations on one side only"
        for name in ("union", "union_all", "intersect", "intersect_all", "except_", "except_all")
    },
}
PREFETCH_CACHED = frozenset({"all", "__iter__", "__len__"})  # read from a prefetched manager's cache
SELECTINLOAD = "sqlalchemy.orm.selectinload"


@dataclass(frozen=True)
class Need:
    """One relation a query must load: `method` is select_related, prefetch_related or selectinload."""

    method: str
    path: str  # "ticket", "ticket__queue", "orders"
    model: str  # model name, for messages

    @property
    def suggestion(self) -> str:
        if self.method == "selectinload":
            return f"`.options(selectinload({self.model}.{self.path}))` on the `select({self.model})`"
        return f'`.{self.method}("{self.path}")` on the `{self.model}` queryset'


@dataclass(frozen=True)
class Link:
    name: str  # method name; "[]" for a subscript
    node: cst.BaseExpression  # the Call or Subscript (its code ends where this link ends)


@dataclass(frozen=True)
class Chain:
    """A query expression to edit: the root (`Ticket.objects`, `select(Order)`) and what follows it."""

    orm: str  # django | sqlalchemy
    root: cst.BaseExpression
    links: tuple[Link, ...]
    model: str  # the model as written (`Ticket`, `models.User`)
    outer: tuple[str, ...] = ()  # methods applied where the name was used (`qs.iterator()`)

    @property
    def names(self) -> tuple[str, ...]:
        return (*(link.name for link in self.links), *self.outer)


# --- the registry and the facts -------------------------------------------------------


def need_for(registry: Registry, model: ModelInfo, attr: str, nxt: str | None) -> Need | str:
    """What loads `item.attr` (then `.nxt`) with the query, or why no loader option does."""
    rel = model.relations.get(attr)
    if rel is None:
        return f"`{model.name}.{attr}` is not a relation in the model registry (a deferred field or a property)"
    if model.orm == "sqlalchemy":
        if rel.lazy in ("dynamic", "write_only"):
            why = "loader options do not apply; query it for all items at once"
            return f"`{model.name}.{attr}` is lazy='{rel.lazy}': {why}"
        return Need("selectinload", attr, model.name)
    if rel.forward:
        target = registry.resolve(rel.target)
        hop = target.relations.get(nxt) if target is not None and nxt else None
        # `c.ticket.queue`: one JOIN more loads the second hop too (the scan follows only the first).
        path = f"{attr}__{nxt}" if hop is not None and hop.kind in ("fk", "o2o", "reverse-o2o") else attr
        return Need("select_related", path, model.name)
    if nxt in PREFETCH_CACHED:
        return Need("prefetch_related", attr, model.name)
    if nxt in ("count", "exists"):
        return (
            f"`{attr}.{nxt}()` per item: prefetching would load every related row to count them; annotate the "
            f'`{model.name}` queryset instead (`.annotate({attr}_count=Count("{attr}"))`) and read '
            f"`item.{attr}_count`"
        )
    return (
        f"`{attr}.{nxt}()` queries even when `{attr}` is prefetched: prefetch the rows it needs with "
        f'`Prefetch("{attr}", queryset=..., to_attr=...)` and read that attribute'
    )


# --- finding the query ----------------------------------------------------------------


def locate(file: PyFile, expr: cst.BaseExpression, function: cst.FunctionDef | None, depth: int = 0) -> Chain | str:
    """The query chain `expr` evaluates, or why it cannot be followed."""
    if depth > 4:
        return "the queryset is passed through too many names to follow"
    expr = _unwrap(expr)
    if isinstance(expr, cst.Name):
        found = single_assignment(file, function, expr)
        if isinstance(found, str):
            return found
        value, refined = found
        inner = locate(file, value, function, depth + 1)
        if isinstance(inner, str) or not refined:
            return inner
        return Chain(inner.orm, inner.root, inner.links, inner.model, (*inner.outer, *refined))
    links, base = _unchain(expr)
    if isinstance(base, cst.Attribute) and _model_like(base.value):
        model = file.code(base.value)
        if base.attr.value in DJANGO_MANAGERS:
            return Chain("django", base, tuple(links), model)
        if base.attr.value == "query":  # Flask-SQLAlchemy
            return Chain("sqlalchemy", base, tuple(links), model)
    if isinstance(base, cst.Call) and file.imports.resolve(base.func) in SA_SELECTS and base.args:
        return _sa_chain(file, base, links)
    for index, link in enumerate(links):
        call = link.node
        if not isinstance(call, cst.Call) or not call.args:
            continue
        if file.imports.resolve(call.func) in SA_SELECTS or (link.name == "query" and _model_like(call.args[0].value)):
            return _sa_chain(file, call, links[index + 1 :])
        if link.name in SA_EXECUTORS:
            return locate(file, call.args[0].value, function, depth + 1)
    if isinstance(base, cst.Name) and base.value in ("self", "cls"):
        return "the queryset comes from the view class (`self...`)"
    if isinstance(base, cst.Name) and links:
        inner = locate(file, base, function, depth + 1)
        if isinstance(inner, str):
            return inner
        return Chain(inner.orm, inner.root, inner.links, inner.model, (*(lk.name for lk in links), *inner.outer))
    return "not a query expression this fix can follow"


def _sa_chain(file: PyFile, call: cst.Call, links: Sequence[Link]) -> Chain | str:
    first = call.args[0].value
    if not _model_like(first):
        return "the select's first entity is not a model class"
    return Chain("sqlalchemy", call, tuple(links), file.code(first))


def _model_like(node: cst.BaseExpression) -> bool:
    name = dotted(node)
    return bool(name) and name is not None and name.rsplit(".", 1)[-1][:1].isupper()


def _unwrap(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`list(qs)` and `await x` evaluate the same query."""
    while True:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        elif isinstance(expr, cst.Call) and dotted(expr.func) == "list" and len(expr.args) == 1:
            expr = expr.args[0].value
        else:
            return expr


def _unchain(node: cst.BaseExpression) -> tuple[list[Link], cst.BaseExpression]:
    """`a.b(x)[:5].c(y)` -> ([b(x), [:5], c(y)], a).

    Not orm.chain_links, which looks through subscripts: here a slice is a link of its own,
    because `.select_related()` must go before it."""
    links: list[Link] = []
    while True:
        if isinstance(node, cst.Await):
            node = node.expression
        elif isinstance(node, cst.Subscript):
            links.append(Link("[]", node))
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            links.append(Link(node.func.attr.value, node))
            node = node.func.value
        else:
            break
    links.reverse()
    return links, node


class _Bindings(cst.CSTVisitor):
    """Every statement of one function that binds `name`, and whether it sits in a branch or loop."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[tuple[cst.CSTNode, cst.BaseExpression | None, bool]] = []
        self.depth = 0

    def _bind(self, node: cst.CSTNode, value: cst.BaseExpression | None = None) -> None:
        self.found.append((node, value, self.depth > 0))

    def _nested(self, node: cst.FunctionDef | cst.ClassDef) -> bool:
        if node.name.value == self.name:
            self._bind(node)
        return False  # their bodies are other scopes

    visit_FunctionDef = visit_ClassDef = _nested

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def _scope(self, node: cst.CSTNode) -> bool:
        return False  # comprehension variables are their own scope

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scope

    def _enter(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_If = visit_While = visit_Try = visit_TryStar = visit_Match = _enter
    leave_If = leave_While = leave_Try = leave_TryStar = leave_Match = _leave  # type: ignore[assignment]

    def visit_For(self, node: cst.For) -> None:
        if self.name in names_in(node.target):
            self._bind(node)
        self.depth += 1

    def leave_For(self, node: cst.For) -> None:
        self.depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name) and target.target.value == self.name:
                self._bind(node, node.value if len(node.targets) == 1 else None)
            elif self.name in names_in(target.target):
                self._bind(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self._bind(node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self._bind(node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self._bind(node)

    def visit_AsName(self, node: cst.AsName) -> None:
        if self.name in names_in(node.name) if isinstance(node.name, cst.BaseExpression) else False:
            self._bind(node)

    def visit_Global(self, node: cst.Global) -> None:
        if any(item.name.value == self.name for item in node.names):
            self._bind(node)

    visit_Nonlocal = visit_Global  # type: ignore[assignment]

    def visit_Del(self, node: cst.Del) -> None:
        if self.name in names_in(node.target):
            self._bind(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not isinstance(node.names, cst.ImportStar) and any(
            isinstance(a.name, cst.Name) and a.asname is None and a.name.value == self.name for a in node.names
        ):
            self._bind(node)


def single_assignment(
    file: PyFile, function: cst.FunctionDef | None, name: cst.Name
) -> tuple[cst.BaseExpression, tuple[str, ...]] | str:
    """The value of the one plain assignment to `name` in `function` before `name` is used, and
    the methods of the refinements after it (`qs = qs.filter(...)` only narrows the same query).

    Not pyscope.sole_assignment, deliberately: the N+1 fix reads the query as it stands where
    it is used (later assignments do not count, refinements do, one in a branch or loop makes
    the query path-dependent), while SA301 needs the name to have no other binding at all."""
    where = f"`{function.name.value}()`" if function is not None else "this scope"
    if function is None:
        return f"`{name.value}` is not assigned in a function"
    if name.value in param_names(function.params):
        return f"the queryset comes from `{name.value}`, a parameter of {where}: it is built by the caller"
    visitor = _Bindings(name.value)
    body = function.body
    for stmt in body.body if isinstance(body, cst.IndentedBlock) else ():
        stmt.visit(visitor)
    use = file.positions[name].start.line
    found = [item for item in visitor.found if file.positions[item[0]].start.line < use]
    if not found:
        return f"`{name.value}` is not assigned in {where} before it is used (it comes from another scope)"
    if any(nested for _, _, nested in found):
        return f"`{name.value}` is assigned inside a branch or loop of {where}"
    if any(value is None for _, value, _ in found):
        return f"`{name.value}` is not bound by plain assignments in {where}"
    refined: list[str] = []
    for _, value, _ in found[1:]:
        assert value is not None
        links, base = _unchain(value)
        if not (isinstance(base, cst.Name) and base.value == name.value and links):
            return f"`{name.value}` is assigned {len(found)} times in {where}: which query runs depends on the path"
        refined.extend(link.name for link in links)
    first = found[0][1]
    assert first is not None
    return first, tuple(refined)


# --- changing the chain ---------------------------------------------------------------


def quote_of(file: PyFile) -> str:
    """The file's usual string quote (for code that sits among its strings)."""
    single = double = 0
    for node in file.positions:
        if isinstance(node, cst.SimpleString):
            quote = node.value.lstrip("rbuRBUfF")[:1]
            single += quote == "'"
            double += quote == '"'
    return "'" if single > double else '"'


def literal(text: str, quote: str) -> str:
    return f"{quote}{text}{quote}"


def strings(call: cst.Call) -> list[str] | None:
    """The call's string arguments (None when one is not a plain string: a name, `*paths`, a keyword)."""
    out: list[str] = []
    for arg in call.args:
        if arg.keyword is not None or arg.star:
            return None
        value = arg.value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            out.append(value.evaluated_value)
        elif not (isinstance(value, cst.Call) and (dotted(value.func) or "").endswith("Prefetch")):
            return None
    return out


def _covered(path: str, present: Iterable[str]) -> bool:
    return any(p == path or p.startswith(path + "__") for p in present)


@dataclass
class Plan:
    """The node edits of one chain, applied with every other chain of its file in one pass."""

    edits: dict[cst.CSTNode, Edit] = field(default_factory=dict)
    described: list[str] = field(default_factory=list)
    imports: bool = False  # needs `from sqlalchemy.orm import selectinload`


def plan_for(file: PyFile, chain: Chain, needs: Sequence[Need]) -> Plan | str:
    return _django(file, chain, needs) if chain.orm == "django" else _sqlalchemy(file, chain, needs)


Edit = Callable[[cst.CSTNode], cst.CSTNode]  # from the node as already rewritten inside


def _then(edits: dict[cst.CSTNode, Edit], node: cst.CSTNode, edit: Edit) -> None:
    """Apply `edit` to `node` after any edit already planned for it."""
    before = edits.get(node)
    edits[node] = edit if before is None else (lambda n: edit(before(n)))


def _append_call(method: str, codes: Sequence[str]) -> Edit:
    # Built as nodes, not re-parsed from text: the receiver of a chain written one call per
    # line in parentheses holds line breaks (and comments) that do not parse on their own.
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.BaseExpression)
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args = [cst.Arg(cst.parse_expression(code), comma=comma) for code in codes]
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return cst.Call(func=cst.Attribute(value=node, attr=cst.Name(method)), args=args)

    return edit


def _extend(codes: Sequence[str]) -> Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return with_arguments(node, codes)

    return edit


def _django(file: PyFile, chain: Chain, needs: Sequence[Need]) -> Plan | str:
    for name in chain.names:
        if name in _DJANGO_REFUSED:
            return _DJANGO_REFUSED[name]
    calls = [(lk.name, lk.node) for lk in chain.links if isinstance(lk.node, cst.Call)]
    only = [call for name, call in calls if name == "only"]
    deferred = [strings(call) for name, call in calls if name == "defer"]
    quote = quote_of(file)
    edits: dict[cst.CSTNode, Edit] = {}
    described: list[str] = []
    for method in ("select_related", "prefetch_related"):
        wanted = list(dict.fromkeys(n.path for n in needs if n.method == method))
        if not wanted:
            continue
        if method == "select_related":
            if "select_for_update" in chain.names:
                return "select_for_update() would lock the joined rows too (and fails on a nullable join)"
            later = sorted({"only", "defer"} & set(chain.outer))
            if later:  # not read here: Django raises FieldError for a field both deferred and joined
                return (
                    f"the queryset calls {' and '.join(f'{n}()' for n in later)} where it is refined or used, "
                    "which must then name the joined relation too"
                )
            if only:  # only() must then name every hop: keep to the first
                wanted = list(dict.fromkeys(p.split("__")[0] for p in wanted))
            heads = {p.split("__")[0] for p in wanted}
            if any(names is None or heads & {d.split("__")[0] for d in names} for names in deferred):
                return "the queryset defers fields with defer(): select_related cannot load a deferred relation"
        elif "iterator" in chain.names:
            return "iterator() does not prefetch without chunk_size: pass chunk_size or load the relation another way"
        elif "aiterator" in chain.names:  # Django 4.1 and 4.2 raise NotSupportedError
            return "aiterator() does not prefetch before Django 5.0"
        existing = [call for name, call in calls if name == method]
        if existing:
            present = strings(existing[-1])
            if present is None:
                return f"`{method}(...)` has arguments that are not plain strings"
            missing = [p for p in wanted if not _covered(p, present)]
            if not missing:
                return f"`{method}(...)` already names {', '.join(wanted)}"
            _then(edits, existing[-1], _extend([literal(p, quote) for p in missing]))
        else:
            # next to the other loader when there is one: what the query loads reads in one place
            siblings = [call for name, call in calls if name in ("select_related", "prefetch_related")]
            where = siblings[-1] if siblings else _insertion_point(chain)
            if isinstance(where, str):
                return where
            missing = wanted
            _then(edits, where, _append_call(method, [literal(p, quote) for p in missing]))
        described.append(f"{method}({', '.join(missing)})")
    if only:
        present = strings(only[0])
        if len(only) > 1 or present is None:
            return "the queryset calls only() with names this fix cannot read"
        hops = [n.path.split("__")[0] for n in needs if n.method == "select_related"]
        extra = [h for h in dict.fromkeys(hops) if not _covered(h, present)]
        if extra:  # Django refuses select_related on a field that only() defers
            _then(edits, only[0], _extend([literal(h, quote) for h in extra]))
            described.append(f"only(+{', '.join(extra)})")
    return Plan(edits, described)


def _insertion_point(chain: Chain) -> cst.BaseExpression | str:
    """Where `.select_related(...)` goes: right after the manager (or a leading `.all()`), before
    any slice; after the last custom manager method when the chain has one."""
    links = list(chain.links)
    custom = [i for i, lk in enumerate(links) if lk.name != "[]" and lk.name not in _CHAINABLE]
    if custom:
        last = custom[-1]
        if last == len(links) - 1 or links[last + 1].name == "[]":
            name = links[last].name
            return f"the chain ends in `{name}()`, which may not return a queryset"
        if any(lk.name == "[]" for lk in links[: last + 1]):
            return "the queryset is sliced before the place to add the relation"
        return links[last].node
    # after a leading `.all()`; after `get_queryset()` always: a QuerySet has no such method
    first = links[0].node if links and links[0].name in ("all", "get_queryset") else None
    if isinstance(first, cst.Call) and not first.args:
        return first
    return chain.root


def _sqlalchemy(file: PyFile, chain: Chain, needs: Sequence[Need]) -> Plan | str:
    for name in chain.names:
        if name in _SA_REFUSED:
            return _SA_REFUSED[name]
    local = _loader_name(file)
    if local is None:
        return "`selectinload` is already bound to something else in this module"
    options = [
        f"{local or 'selectinload'}({chain.model}.{n.path})" for n in dict.fromkeys(needs) if n.method == "selectinload"
    ]
    existing = [lk.node for lk in chain.links if lk.name == "options" and isinstance(lk.node, cst.Call)]
    edits: dict[cst.CSTNode, Edit] = {}
    if existing:
        call = existing[-1]
        assert isinstance(call, cst.Call)
        if any(a.keyword is not None or a.star for a in call.args):
            return "the query's options() has arguments this fix cannot extend"
        _then(edits, call, _extend(options))
    else:
        _then(edits, chain.root, _append_call("options", options))
    return Plan(edits, [f"options({', '.join(options)})"], imports=not local)


def _loader_name(file: PyFile) -> str | None:
    """How this module spells selectinload ("" when it must be imported; None when the name is taken)."""
    for local, qualname in file.imports.bindings.items():
        if qualname == SELECTINLOAD:
            return local
    for local, qualname in file.imports.bindings.items():
        if qualname == "sqlalchemy.orm":
            return f"{local}.selectinload"
    return None if file.top_level_bindings("selectinload") else ""


def _with_import(module: cst.Module) -> cst.Module:
    """`from sqlalchemy.orm import selectinload`, above the first compound statement (def, class, if...)."""
    before = next(
        (i for i, stmt in enumerate(module.body) if not isinstance(stmt, cst.SimpleStatementLine)), len(module.body)
    )
    return add_import(module, "sqlalchemy.orm", "selectinload", before)


class _Replace(cst.CSTTransformer):
    """Apply each edit to its node as rewritten below it (an `only()` around a `select_related()`)."""

    def __init__(self, edits: dict[cst.CSTNode, Edit]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        edit = self.edits.get(original_node)
        return edit(updated_node) if edit is not None else updated_node


# --- one proposal per chain -------------------------------------------------------------


@dataclass
class Group:
    """The findings one query chain answers, and what it must load for them."""

    file: PyFile
    chain: Chain
    findings: list[Finding] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)


def settle(rule: str, groups: Sequence[Group]) -> Iterator[Proposal | Skipped]:
    """One proposal per file, whatever number of chains and findings it fixes: one rewrite of
    the module (two chains on one line, one import for both), so they never overlap. A finding
    that needs several chains (a serializer listed by two views) is resolved only if all are."""
    plans: list[tuple[Group, Plan]] = []
    failed: set[tuple[str, str, int]] = set()
    for group in groups:
        plan = plan_for(group.file, group.chain, group.needs)
        if isinstance(plan, Plan):
            plans.append((group, plan))
            continue
        for finding, need in zip(group.findings, group.needs, strict=True):
            failed.add(key_of(finding))
            yield Skipped(rule, finding.path, finding.line, f"{plan}; add {need.suggestion} by hand")
    by_file: dict[str, list[tuple[Group, Plan]]] = {}
    for group, plan in plans:
        by_file.setdefault(group.file.source.rel, []).append((group, plan))
    for members in by_file.values():
        yield _proposal(rule, members[0][0].file, members, failed)


def _proposal(rule: str, file: PyFile, plans: list[tuple[Group, Plan]], failed: set[tuple[str, str, int]]) -> Proposal:
    rel = file.source.rel
    edits: dict[cst.CSTNode, Edit] = {}
    for _, plan in plans:
        edits.update(plan.edits)  # distinct chains: distinct nodes
    module = file.module.visit(_Replace(edits))
    if any(plan.imports for _, plan in plans):
        module = _with_import(module)
    findings = sorted({f for group, _ in plans for f in group.findings}, key=lambda f: (f.path, f.line))
    lines = [
        f"line {file.positions[group.chain.root].start.line}: {'; '.join(plan.described)}" for group, plan in plans
    ]
    description = f"load with the query ({rel} {', '.join(lines)})"
    text_edits = line_edits(file.source, module.code, rule=rule, description=description, group=f"{rule}:{rel}")
    keys = tuple(key for key in dict.fromkeys(key_of(f) for f in findings) if key not in failed)
    return Proposal(rule, findings[0].path, findings[0].line, description, {rel: tuple(text_edits)}, keys)
