"""SA302 drf-list-view-without-pagination: DRF list views joined with their bases and the settings.

A view is reported when it declares a queryset, inherits a DRF list class
(`ListAPIView`, `ListCreateAPIView`, `ModelViewSet`, `ReadOnlyModelViewSet`,
`ListModelMixin`) through bases we can all see, no class on that path sets
`pagination_class` or overrides `list()`/`paginate_queryset()`, and no
`REST_FRAMEWORK` setting names `DEFAULT_PAGINATION_CLASS`.

Confidence: medium when a `REST_FRAMEWORK` setting was scanned and sets no
default; low when none was found (the settings may live outside the scanned
paths). A base class from outside the project and outside DRF may page, so
it silences the view; so does an explicit `pagination_class = None`.
"""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Confidence, Fact, Finding
from scaleaudit.project import ProjectContext

_LISTS = frozenset({"ListAPIView", "ListCreateAPIView", "ModelViewSet", "ReadOnlyModelViewSet", "ListModelMixin"})
# Bases that add nothing about listing or paging: walking past them is safe.
_NEUTRAL = ("rest_framework.", "django.", "object", "typing.", "abc.")


def _verdict(view: Fact, by_name: dict[str, list[Fact]], seen: frozenset[str]) -> str:
    """ "pages", "lists" (without paging), "no" (does not list) or "unknown"."""
    if view.get("pagination") == "set" or view.get("overrides_list"):
        return "pages"
    lists = False
    for base in (str(b) for b in view.get("bases", ())):
        short = base.rsplit(".", 1)[-1]
        parents = by_name.get(short, [])
        if short in _LISTS and (base.startswith("rest_framework.") or "." not in base) and not parents:
            lists = True
        elif len(parents) == 1 and short not in seen:
            verdict = _verdict(parents[0], by_name, seen | {short})
            if verdict in ("pages", "unknown"):
                return verdict
            lists = lists or verdict == "lists"
        elif not base.startswith(_NEUTRAL):
            return "unknown"  # a third-party or ambiguous base: it may page
    return "lists" if lists else "no"


def list_without_pagination(ctx: ProjectContext) -> Iterator[Finding]:
    views = ctx.of_kind("drf-view")
    settings = ctx.of_kind("drf-settings")
    if not views or any(s.get("paginated") for s in settings):
        return
    meta = ctx.book.rule("SA302")
    by_name: dict[str, list[Fact]] = {}
    for view in views:
        by_name.setdefault(str(view.get("name")), []).append(view)
    confidence = Confidence.MEDIUM if settings else Confidence.LOW
    where = "`REST_FRAMEWORK` sets no `DEFAULT_PAGINATION_CLASS`" if settings else "no `REST_FRAMEWORK` setting found"
    for view in views:
        if not view.get("declares_queryset") or view.get("pagination") == "none":
            continue
        if _verdict(view, by_name, frozenset({str(view.get("name"))})) == "lists":
            yield meta.finding(
                view.location,
                confidence=confidence,
                related=tuple(s.location for s in settings[:1]),
                anchor=str(view.get("name")),
                view=view.get("name"),
                settings=where,
            )


RULES = {"SA302": list_without_pagination}
