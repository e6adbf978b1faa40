"""SA312 and SA412: Prisma queries joined with the models of schema.prisma.

`prisma-query` facts name the delegate (`prisma.user` -> "user"), the fields
of the top-level `where` and the relations included; `model` facts (orm
prisma) say which fields are lists of another model and which are indexed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaleaudit.model import Confidence, Fact, Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding


def prisma_models(ctx: ProjectContext) -> dict[str, Fact]:
    """Delegate name (`user` for model `User`) -> model fact."""
    out: dict[str, Fact] = {}
    for fact in ctx.of_kind("model"):
        if fact.get("orm") == "prisma":
            name = str(fact.get("name"))
            out[name[:1].lower() + name[1:]] = fact
    return out


def _field(model: Fact, name: str) -> dict[str, Any] | None:
    return next((f for f in model.get("fields", ()) if f.get("name") == name), None)


def _finding(ctx: ProjectContext, rule: str, fact: Fact, anchor: str, **values: Any) -> Finding:
    """The query's own confidence (from its receiver and scope), capped by the rule's."""
    cap = ctx.book.rule(rule).confidence
    confidence = Confidence(fact.get("confidence", cap.value))
    return finding(
        ctx, rule, fact, anchor=anchor, confidence=confidence if confidence.rank <= cap.rank else cap, **values
    )


def includes_without_take(ctx: ProjectContext) -> Iterator[Finding]:
    models = prisma_models(ctx)
    for fact in ctx.of_kind("prisma-query"):
        model = models.get(str(fact.get("model")))
        if model is None:
            continue
        for name, bounded in fact.get("include", ()):
            field = _field(model, str(name))
            if bounded or field is None or not field.get("list") or not field.get("relation"):
                continue
            yield _finding(
                ctx,
                "SA312",
                fact,
                f"{model.get('name')}.{name}",
                model=fact.get("model"),
                method=fact.get("method"),
                relation=name,
                target=field.get("relation"),
            )


def filters_without_index(ctx: ProjectContext) -> Iterator[Finding]:
    models = prisma_models(ctx)
    for fact in ctx.of_kind("prisma-query"):
        model = models.get(str(fact.get("model")))
        if model is None:
            continue
        indexes = [list(cols) for cols in model.get("indexes", ())]
        for name in fact.get("where", ()):
            field = _field(model, str(name))
            # relations and FK scalars are SA411's; a boolean alone is a poor index key
            if field is None or field.get("relation") or field.get("list") or field.get("references"):
                continue
            if field.get("type") == "Boolean":
                continue
            if field.get("pk") or field.get("unique") or any(cols and cols[0] == name for cols in indexes):
                continue
            yield _finding(
                ctx,
                "SA412",
                fact,
                f"{model.get('name')}.{name}",
                model=fact.get("model"),
                method=fact.get("method"),
                field=name,
                table=model.get("table"),
                model_name=model.get("name"),
            )


RULES = {"SA312": includes_without_take, "SA412": filters_without_index}
