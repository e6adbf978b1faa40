"""The one decision every N+1 join shares: does touching `item.<attr>` query, per item?

Inputs are plain data — what the query loads (`select_related`, `prefetch`,
`only`, `defer`) and what is touched (`attr`, then the method or attribute
after it) — plus the registry's answer for what `attr` is. Used by the loop,
template, serializer and admin joins alike, so they agree on every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scaleaudit.model import Severity
from scaleaudit.project.models import SA_EAGER_OR_GUARDED, ModelInfo, Relation

# Manager methods that run a query; on a prefetched manager the first group reads the cache.
_CACHED_WHEN_PREFETCHED = frozenset({"all", "count", "exists", "__iter__", "__len__"})
_QUERYING = frozenset(
    {
        "all",
        "count",
        "exists",
        "first",
        "last",
        "filter",
        "exclude",
        "order_by",
        "get",
        "aggregate",
        "annotate",
        "values",
        "values_list",
        "latest",
        "earliest",
        "__iter__",
        "__len__",
        "distinct",
        "select_related",
    }
)


@dataclass(frozen=True)
class PerItemQuery:
    relation: str
    what: str  # human description: "foreign key `owner`"
    fix: str  # what to add, and where


def _django(model: ModelInfo, rel: Relation, loaded: Mapping[str, Any], nxt: str | None) -> PerItemQuery | None:
    attr = rel.name
    select_related = list(loaded.get("select_related", ()))
    prefetch = list(loaded.get("prefetch", ()))
    if "*" in prefetch:
        prefetch.append(attr)  # prefetch_related(*names): the names are not in the source, assume this one
    if rel.forward:
        if "*" in select_related or attr in select_related or attr in prefetch:
            return None
        if rel.kind == "reverse-o2o":
            what = f"reverse one-to-one `{attr}` ({rel.target})"
        else:
            what = f"foreign key `{attr}` ({rel.target})"
        return PerItemQuery(attr, what, f'add `.select_related("{attr}")` to the `{model.name}` queryset')
    if nxt not in _QUERYING:
        return None
    what = f"related manager `{attr}.{nxt.strip('_')}()`" if not nxt.startswith("__") else f"related manager `{attr}`"
    if attr in prefetch:
        if nxt in _CACHED_WHEN_PREFETCHED:
            return None
        fix = (
            f"`.{nxt}()` ignores the prefetched `{attr}`: filter in Python over `{attr}.all()`, or prefetch the "
            f'filtered set with `Prefetch("{attr}", queryset=..., to_attr=...)`'
        )
        return PerItemQuery(attr, what, fix)
    if nxt in ("count", "exists"):
        fix = (
            f'annotate the `{model.name}` queryset (`.annotate(n=Count("{attr}"))`) or add '
            f'`.prefetch_related("{attr}")`'
        )
    else:
        fix = f'add `.prefetch_related("{attr}")` to the `{model.name}` queryset'
    return PerItemQuery(attr, what, fix)


def _sqlalchemy(model: ModelInfo, rel: Relation, loaded: Mapping[str, Any]) -> PerItemQuery | None:
    if rel.lazy in SA_EAGER_OR_GUARDED or rel.name in loaded.get("prefetch", ()):
        return None
    what = f"relationship `{rel.name}` ({rel.target}, lazy={rel.lazy or 'select'})"
    if rel.lazy in ("dynamic", "write_only"):
        fix = f"a lazy='{rel.lazy}' relationship queries on every use: load `{rel.name}` for all items in one query"
        return PerItemQuery(rel.name, what, fix)
    loader = "selectinload" if rel.many else "joinedload"
    fix = f'add `.options({loader}({model.name}.{rel.name}))` to the query, or declare it lazy="selectin"'
    return PerItemQuery(rel.name, what, fix)


def _deferred(model: ModelInfo, attr: str, loaded: Mapping[str, Any]) -> PerItemQuery | None:
    item = model.field(attr)
    if item is None or item.get("pk") or item.get("name") != attr:
        return None
    only, defer = list(loaded.get("only", ())), list(loaded.get("defer", ()))
    if (only and attr not in only) or attr in defer:
        loader = "only()" if only else "defer()"
        fix = f'add `"{attr}"` to `{loader}` on the `{model.name}` queryset (or stop deferring it)'
        return PerItemQuery(attr, f"deferred field `{attr}`", fix)
    return None


def per_item_query(model: ModelInfo, attr: str, nxt: str | None, loaded: Mapping[str, Any]) -> PerItemQuery | None:
    """What touching `item.attr` (then `.nxt`) costs per item, or None when it costs no query."""
    if not loaded.get("rows", True):
        return None
    rel = model.relations.get(attr)
    if rel is None:
        return _deferred(model, attr, loaded) if model.orm == "django" else None
    if model.orm == "sqlalchemy":
        return _sqlalchemy(model, rel, loaded)
    return _django(model, rel, loaded, nxt)


def severity_for(scope: str) -> Severity:
    return {"handler": Severity.HIGH, "batch": Severity.LOW}.get(scope, Severity.MEDIUM)
