"""SA101 client-constructed-in-many-modules: the join across files.

Groups import-time `client-site` facts by (language, client kind, target). A
target is what the constructor connects to as far as the code says: a literal
URL, an environment variable's name, or the expression text; two modules
reading `settings.DATABASE_URL` share one, a cache and a queue on different
hosts do not. A group spanning two or more modules is a duplicate.

When one site of a group is already the project's shared instance (its
binding is imported by other modules), that site is the answer, not the
problem: the other sites are reported, each pointing at it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from scaleaudit.model import Fact, Finding, Location
from scaleaudit.project import ProjectContext

# Scopes that make a long-lived client at import time. Per-call constructions
# are SA102's business; tests, scripts and migrations are their own processes.
IMPORT_TIME = ("module",)
_FAMILY = {"javascript": "typescript"}


def _groups(facts: list[Fact]) -> dict[tuple[str, str, str], list[Fact]]:
    groups: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)
    for fact in facts:
        if fact.get("scope") in IMPORT_TIME:
            # .js and .ts files of one project share clients: one language family
            language = _FAMILY.get(fact.get("language", "python"), fact.get("language", "python"))
            groups[(language, fact.get("kind"), fact.get("url"))].append(fact)
    return groups


def _sharedness(ctx: ProjectContext, site: Fact, imported: dict[tuple[str, str], set[str]]) -> tuple[int, int]:
    """(files importing the site's binding, files importing anything from its module).

    The second counts `pool = ConnectionPool(...)` in app/cache.py as shared
    when others import the `cache = Redis(connection_pool=pool)` built on it.
    """
    module = ctx.modules.module_id(site)
    here = site.location.path
    binding = site.get("binding") or ""
    direct = imported.get((module, binding), set()) - {here} if binding else set()
    anything = {f for (m, _), files in imported.items() if m == module for f in files} - {here}
    return len(direct), len(anything)


def duplicate_clients(ctx: ProjectContext) -> Iterator[Finding]:
    meta = ctx.book.rule("SA101")
    imported = ctx.modules.imported_names(ctx.facts)
    for (_lang, kind, _url), group in sorted(_groups(ctx.of_kind("client-site")).items()):
        modules = sorted({s.location.path for s in group})
        if len(modules) < 2:
            continue
        sites = sorted(group, key=lambda f: (f.location.path, f.location.span))
        users = {id(s): _sharedness(ctx, s, imported) for s in sites}
        best = max(sites, key=lambda s: users[id(s)])
        # Only a module that holds one client of this group can be "the" shared one.
        alone = sum(1 for s in sites if s.location.path == best.location.path) == 1
        shared = best if users[id(best)] > (0, 0) and alone else None
        advice = "build it once in a shared module and import it everywhere"
        if shared is not None:
            module = ctx.modules.module_id(shared)
            name = f"{module}.{shared.get('binding')}" if users[id(shared)][0] else module
            advice = f"import the shared client from `{name}` instead"
        for site in sites:
            if site is shared:
                continue
            others = tuple(
                Location(
                    o.location.path,
                    o.location.span,
                    "the shared instance" if o is shared else f"also constructed here ({o.get('qualname')})",
                )
                for o in sites
                if o is not site
            )
            yield Finding(
                rule=meta.id,
                name=meta.name,
                category=meta.category,
                severity=meta.severity,
                confidence=meta.confidence,
                location=site.location,
                message=meta.format(
                    client=site.get("qualname"),
                    library=site.get("library"),
                    kind=kind,
                    count=len(sites),
                    modules=len(modules),
                    advice=advice,
                ),
                checklist=meta.checklist,
                related=others,
                anchor=f"{kind}:{site.get('anchor')}",
            )


RULES = {"SA101": duplicate_clients}
