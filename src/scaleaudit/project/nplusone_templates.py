"""SA203 n-plus-one-in-template: the view's queryset joined with what its template's loops touch.

A `template-context` fact (Python: "view V renders template T with variable
`tickets` = this queryset") meets `template-loop-access` facts (template
front end: "in T, a loop over `tickets` touches `t.assignee.name`") through
the template name: a template file whose path ends with `/<name>` (Django's
`templates/` directories, Jinja loaders). The registry then decides, as for
loops in Python, whether the attribute queries per item.

Confidence medium: the link between view and template goes through a name
that a template loader resolves, and another loader path could shadow it.
Reported at the template line, with the view's queryset as related location.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from scaleaudit.model import Confidence, Fact, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.models import Registry
from scaleaudit.project.nplusone_decide import per_item_query


def _matches(template_path: str, name: str) -> bool:
    return template_path == name or template_path.endswith("/" + name)


def template_n_plus_one(ctx: ProjectContext) -> Iterator[Finding]:
    accesses = ctx.of_kind("template-loop-access")
    contexts = ctx.of_kind("template-context")
    if not accesses or not contexts:
        return
    meta = ctx.book.rule("SA203")
    registry = Registry.for_context(ctx)
    by_var: dict[str, list[Fact]] = defaultdict(list)
    for fact in contexts:
        by_var[str(fact.get("var"))].append(fact)
    reported: set[tuple[str, int, str]] = set()
    for access in accesses:
        for view in by_var.get(str(access.get("collection")), ()):
            if not _matches(access.location.path, str(view.get("template"))):
                continue
            model = registry.resolve(str(view.get("model")), str(view.get("qualname") or ""))
            problem = per_item_query(model, str(access.get("attr")), access.get("next"), view.data) if model else None
            key = (access.location.path, access.location.span.line, str(access.get("attr")))
            if problem is None or model is None or key in reported:
                continue
            reported.add(key)
            yield meta.finding(
                access.location,
                confidence=Confidence.MEDIUM,
                related=(Location(view.location.path, view.location.span, f"the {model.name} queryset rendered here"),),
                anchor=f"{model.name}.{problem.relation}",
                model=model.name,
                what=problem.what,
                fix=problem.fix,
                view=f"{view.location.path}:{view.location.span.line}",
            )


RULES = {"SA203": template_n_plus_one}
