"""SA205 n-plus-one-in-admin-list: admin changelist columns joined with the model registry.

Each `admin-list` fact lists what the `list_display` methods touch on the
row object. What the changelist loads follows Django's rule: the
`list_select_related` tuple, everything for `True`, and when it is unset a
bare `select_related()` if some `list_display` column is itself a relation
field. `nplusone_decide` says whether each touch queries per row.

Confidence medium: the changelist is paged (`list_per_page`, 100 rows) and
only staff see it, so the cost is real but bounded; severity medium.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaleaudit.model import Confidence, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.models import ModelInfo, Registry, span_location
from scaleaudit.project.nplusone_decide import per_item_query


def _loaded(model: ModelInfo, columns: list[str], select_related: Any) -> dict[str, Any]:
    if isinstance(select_related, list):
        return {"select_related": select_related, "prefetch": [], "rows": True}
    joins_itself = any((rel := model.relations.get(c)) is not None and rel.forward for c in columns)
    return {"select_related": ["*"] if joins_itself else [], "prefetch": [], "rows": True}


def admin_n_plus_one(ctx: ProjectContext) -> Iterator[Finding]:
    facts = ctx.of_kind("admin-list")
    if not facts:
        return
    meta = ctx.book.rule("SA205")
    registry = Registry.for_context(ctx)
    for fact in facts:
        model = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or ""))
        if model is None:
            continue
        loaded = _loaded(model, [str(c) for c in fact.get("columns", ())], fact.get("select_related"))
        for touch in fact.get("touches", ()):
            problem = per_item_query(model, str(touch.get("attr")), touch.get("next"), loaded)
            where = span_location(fact.location.path, touch.get("node"))
            if problem is None or where is None:
                continue
            yield meta.finding(
                where,
                confidence=Confidence.MEDIUM,
                related=(
                    Location(fact.location.path, fact.location.span, "the admin"),
                    Location(model.fact.location.path, model.fact.location.span, "the model"),
                ),
                anchor=f"{fact.get('admin')}.{problem.relation}",
                admin=fact.get("admin"),
                model=model.name,
                what=problem.what,
                fix=problem.fix,
            )


RULES = {"SA205": admin_n_plus_one}
