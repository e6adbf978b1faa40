"""SA201 n-plus-one-relation-in-loop: loop-item accesses joined with the model registry.

Each `orm-loop-access` fact says "inside a loop over a query of model M, the
item's `attr` is touched, and the query loads these relations". The registry
says what `attr` is; `nplusone_decide` says whether it queries per item.

Confidence: high when the loop iterates the query itself or a variable
assigned from it in the same function, and the model name resolves to exactly
one declared model; medium when the query comes from the view class
(`self.get_queryset()`), whose subclasses or mixins may add loading.
"""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Confidence, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.models import Registry, span_location
from scaleaudit.project.nplusone_decide import per_item_query, severity_for


def relation_in_loop(ctx: ProjectContext) -> Iterator[Finding]:
    facts = ctx.of_kind("orm-loop-access")
    if not facts:
        return
    meta = ctx.book.rule("SA201")
    registry = Registry.for_context(ctx)
    for fact in facts:
        model = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or ""))
        if model is None or fact.get("scope") in ("test", "migration"):
            continue
        problem = per_item_query(model, str(fact.get("attr")), fact.get("next"), fact.data)
        if problem is None:
            continue
        path = fact.location.path
        related = [
            loc
            for loc in (
                span_location(path, fact.get("loop"), "the loop"),
                span_location(path, fact.get("query"), f"the {model.name} query"),
            )
            if loc is not None
        ]
        confidence = Confidence.MEDIUM if fact.get("source") == "view" else Confidence.HIGH
        yield meta.finding(
            fact.location,
            severity=severity_for(str(fact.get("scope"))),
            confidence=confidence,
            related=(*related, Location(model.fact.location.path, model.fact.location.span, "the model")),
            anchor=f"{model.name}.{problem.relation}",
            model=model.name,
            what=problem.what,
            fix=problem.fix,
        )


RULES = {"SA201": relation_in_loop}
