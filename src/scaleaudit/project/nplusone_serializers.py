"""SA204 n-plus-one-in-serializer: serializer fields joined with the querysets they serialize.

A `serializer-use` fact (a list view's `serializer_class` + `queryset`, or
`XSerializer(qs, many=True)`) meets the `serializer` fact of that name; each
relation the serializer touches goes through `nplusone_decide`, with what the
queryset loads. Reported at the serializer field, with the queryset as the
related location; one finding per field, whichever uses fail.

Silent when the view inherits from a project class that overrides
`get_queryset()` (it may load anything: netbox-style dynamic prefetching), or
from a base we cannot see that might; when the serializer name is ambiguous;
for forward keys listed in `Meta.fields` (serialized from `<fk>_id`).
Confidence medium: the join goes through names across files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaleaudit.model import Confidence, Fact, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.models import ModelInfo, Registry, span_location
from scaleaudit.project.nplusone_decide import per_item_query, severity_for

_NEUTRAL = ("rest_framework.", "django.")


def dynamic_queryset(use: Fact, views: dict[str, list[Fact]]) -> bool:
    """Does a base class override get_queryset(), or is a base unknown and so might?"""
    stack, seen = [str(b) for b in use.get("bases", ())], set()
    while stack:
        base = stack.pop()
        short = base.rsplit(".", 1)[-1]
        if short in seen:
            continue
        seen.add(short)
        found = views.get(short, [])
        if len(found) == 1:
            if found[0].get("get_queryset"):
                return True
            stack.extend(str(b) for b in found[0].get("bases", ()))
        elif not base.startswith(_NEUTRAL) and "." in base:
            return True
    return False


def _problem(model: ModelInfo, touch: dict[str, Any], loaded: Any) -> Any:
    rel = model.relations.get(str(touch.get("attr")))
    if touch.get("how") == "field" and (rel is None or rel.forward):
        return None  # PrimaryKeyRelatedField reads <fk>_id
    return per_item_query(model, str(touch.get("attr")), touch.get("next"), loaded)


def serializer_n_plus_one(ctx: ProjectContext) -> Iterator[Finding]:
    uses = ctx.of_kind("serializer-use")
    if not uses:
        return
    meta = ctx.book.rule("SA204")
    registry = Registry.for_context(ctx)
    serializers: dict[str, list[Fact]] = {}
    for fact in ctx.of_kind("serializer"):
        serializers.setdefault(str(fact.get("name")), []).append(fact)
    views: dict[str, list[Fact]] = {}
    for fact in ctx.of_kind("drf-view"):
        views.setdefault(str(fact.get("name")), []).append(fact)
    reported: set[tuple[str, int, str]] = set()
    for use in uses:
        found = serializers.get(str(use.get("serializer")), [])
        if len(found) != 1 or dynamic_queryset(use, views):
            continue
        ser = found[0]
        model = registry.resolve(str(ser.get("model")), str(ser.get("qualname") or ""))
        if model is None or model.name != use.get("model"):
            continue
        for touch in ser.get("touches", ()):
            problem = _problem(model, touch, use.data)
            where = span_location(ser.location.path, touch.get("node"))
            key = (ser.location.path, where.span.line if where else 0, str(touch.get("attr")))
            if problem is None or where is None or key in reported:
                continue
            reported.add(key)
            yield meta.finding(
                where,
                severity=severity_for("handler"),
                confidence=Confidence.MEDIUM,
                related=(Location(use.location.path, use.location.span, f"the {model.name} queryset serialized"),),
                anchor=f"{ser.get('name')}.{problem.relation}",
                serializer=ser.get("name"),
                model=model.name,
                what=problem.what,
                fix=problem.fix,
            )


RULES = {"SA204": serializer_n_plus_one}
