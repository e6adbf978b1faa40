"""SA401 foreign-key-without-index and SA402 filtered-column-without-index.

Both join the model registry with what the code queries by:

* SA401: a foreign-key column no index leads. Django indexes ForeignKey
  columns unless `db_index=False`; SQLAlchemy never does, and PostgreSQL
  does not index the referencing side of a foreign key. Medium confidence
  when the code is seen to look rows up by it (a filter, a join, loading the
  reverse relationship); low otherwise — the parent's deletes still scan the
  table, but whether that matters depends on traffic we cannot see.
* SA402: a column the code filters or orders by (`query-filter` facts) that
  no index, unique constraint or primary key leads. Booleans are skipped
  (poor index keys on their own); foreign keys are SA401's. Medium: the
  table may be small.

Both report at the column's declaration, with the query sites as related
locations, and suggest the index in the ORM's own terms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from scaleaudit.model import Confidence, Fact, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.models import ModelInfo, Registry

_BOOLEAN_TYPES = ("BooleanField", "NullBooleanField", "Boolean")
# Containment lookups on these need GIN/GiST, not the B-tree index this rule suggests.
_NON_BTREE_TYPES = ("ArrayField", "JSONField", "HStoreField", "SearchVectorField", "ARRAY", "JSON", "JSONB")


def _type(field: dict[str, Any]) -> str:
    return str(field.get("type", "")).rsplit(".", 1)[-1]  # "db.Boolean" -> "Boolean"


def _suggestion(model: ModelInfo, field: str, column: str) -> str:
    if model.orm == "django":
        return (
            f'add `models.Index(fields=["{field}"])` to `{model.name}.Meta.indexes` and create it with '
            f"`AddIndexConcurrently` (django.contrib.postgres.operations) in a non-atomic migration"
        )
    return (
        f'declare `index=True` on `{model.name}.{field}` (or `Index("ix_{model.table}_{column}", "{column}")` '
        f"in `__table_args__`) and create it with `CREATE INDEX CONCURRENTLY` in the migration"
    )


def _sites(ctx: ProjectContext, registry: Registry) -> dict[tuple[int, str], list[Location]]:
    """(id(model), column) -> where the code looks rows up by that column."""
    sites: dict[tuple[int, str], list[Location]] = defaultdict(list)
    for fact in ctx.of_kind("query-filter"):
        model = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or ""))
        if model is None:
            continue
        # Batch code and staff pages look rows up a handful of times: they make no finding medium.
        note = "queried here" if fact.get("scope") not in ("batch", "staff") else "queried here (batch/staff)"
        for name in fact.get("columns", ()):
            column = model.column(str(name))
            if column:
                sites[(id(model), column)].append(Location(fact.location.path, fact.location.span, note))
    for fact in ctx.of_kind("orm-loop-access"):
        owner = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or ""))
        rel = owner.relations.get(str(fact.get("attr"))) if owner else None
        target = registry.resolve(rel.lookup[0]) if rel and rel.lookup else None
        if rel is not None and rel.lookup and target is not None:
            note = f"loading `{rel.name}` looks rows up by it"
            sites[(id(target), rel.lookup[1])].append(Location(fact.location.path, fact.location.span, note))
    return sites


def _finding(
    ctx: ProjectContext,
    rule: str,
    model: ModelInfo,
    field: dict[str, Any],
    sites: list[Location],
    confidence: Confidence,
    **values: Any,
) -> Finding:
    meta = ctx.book.rule(rule)
    name, column = str(field["name"]), str(field["column"])
    return meta.finding(
        model.field_location(name),
        confidence=confidence,
        related=tuple(sorted(set(sites))[:10]),
        anchor=f"{model.table}.{column}",
        model=model.name,
        table=model.table,
        column=column,
        fix=_suggestion(model, name, column),
        **values,
    )


def _is_fk(field: dict[str, Any]) -> bool:
    return bool(field.get("fk_table") or field.get("fk_model"))


def foreign_keys(ctx: ProjectContext) -> Iterator[Finding]:
    registry = Registry.for_context(ctx)
    sites = _sites(ctx, registry)
    for model in registry.all():
        if model.fact.get("abstract") or not model.table:
            continue
        for field in model.fields:
            column = str(field["column"])
            if not _is_fk(field) or model.covered(column):
                continue
            used = sites.get((id(model), column), [])
            per_request = [site for site in used if site.note == "queried here" or site.note.startswith("loading")]
            confidence = Confidence.MEDIUM if per_request else Confidence.LOW
            yield _finding(ctx, "SA401", model, field, used, confidence, uses=len(used))


def _uncovered(model: ModelInfo, fact: Fact) -> list[dict[str, Any]]:
    fields = [model.field(str(n)) for n in fact.get("columns", ())]
    known = [f for f in fields if f is not None]
    context = [model.field(str(n)) for n in fact.get("context", ())]
    if None in context:
        return []  # the query also goes through a relation (`owner__team=x`), whose index leads the plan
    if not known or any(model.covered(str(f["column"])) or _is_fk(f) for f in [*known, *context] if f is not None):
        # An index on another filtered column narrows the rows first; an unindexed foreign key
        # among them is SA401's finding, with the index that would serve this query too.
        return []
    return [f for f in known if _type(f) not in _BOOLEAN_TYPES + _NON_BTREE_TYPES][:1]


def filtered_columns(ctx: ProjectContext) -> Iterator[Finding]:
    registry = Registry.for_context(ctx)
    grouped: dict[tuple[int, str], tuple[ModelInfo, dict[str, Any], list[Location]]] = {}
    per_request: set[tuple[int, str]] = set()
    for fact in ctx.of_kind("query-filter"):
        if fact.get("clause") == "join":
            continue
        model = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or ""))
        if model is None or model.fact.get("abstract"):
            continue
        for field in _uncovered(model, fact):
            key = (id(model), str(field["column"]))
            entry = grouped.setdefault(key, (model, field, []))
            entry[2].append(Location(fact.location.path, fact.location.span, f"{fact.get('clause')} on it here"))
            if fact.get("scope") not in ("batch", "staff"):
                per_request.add(key)
    for key, (model, field, sites) in grouped.items():
        # A scan per request multiplies with the users; one in a nightly job, a management
        # command or a staff-only page runs a handful of times, whatever the traffic.
        confidence = Confidence.MEDIUM if key in per_request else Confidence.LOW
        yield _finding(ctx, "SA402", model, field, sites, confidence, uses=len(sites))


RULES = {"SA401": foreign_keys, "SA402": filtered_columns}
