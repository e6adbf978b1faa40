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
MAX_RELATED = 25
_FAMILY = {"javascript": "typescript"}


def _groups(facts: list[Fact]) -> dict[tuple[str, str, str], list[Fact]]:
    groups: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)
    for fact in facts:
        if fact.get("scope") in IMPORT_TIME:
            # .js and .ts files of one project share clients: one language family
            language = _FAMILY.get(fact.get("language", "python"), fact.get("language", "python"))
            groups[(language, fact.get("kind"), fact.get("url"))].append(fact)
    return groups


def _importer_index(imported: dict[tuple[str, str], set[str]]) -> dict[str, set[str]]:
    """module id -> the files importing anything from it (built once, not per site)."""
    by_module: dict[str, set[str]] = defaultdict(set)
    for (module, _name), files in imported.items():
        by_module[module] |= files
    return by_module


def _sharedness(
    ctx: ProjectContext,
    site: Fact,
    imported: dict[tuple[str, str], set[str]],
    by_module: dict[str, set[str]],
) -> tuple[int, int]:
    """(files importing the site's binding, files importing anything from its module).

    The second counts `pool = ConnectionPool(...)` in app/cache.py as shared
    when others import the `cache = Redis(connection_pool=pool)` built on it.
    """
    module = ctx.modules.module_id(site)
    here = site.location.path
    binding = site.get("binding") or ""
    direct = imported.get((module, binding), set()) - {here} if binding else set()
    return len(direct), len(by_module.get(module, set()) - {here})


def _shared_name(ctx: ProjectContext, shared: Fact, by_binding: bool) -> str:
    module = ctx.modules.module_id(shared)
    binding = shared.get("binding")
    if not by_binding or not binding:
        return f"`{module}`"
    if shared.location.path.endswith(".py"):
        return f"`{module}.{binding}`"
    return f"`{module}` (`{binding}`)"


def _related(site: Fact, sites: list[Fact], shared: Fact | None) -> tuple[Location, ...]:
    # The shared instance first, then the other sites; capped, because a
    # 1,000-site monorepo would otherwise list a million cross-references.
    others = [o for o in sites if o is not site and o is not shared]
    chosen = ([shared] if shared is not None else []) + others[: MAX_RELATED - (shared is not None)]
    return tuple(
        Location(
            o.location.path,
            o.location.span,
            "the shared instance" if o is shared else f"also constructed here ({o.get('qualname')})",
        )
        for o in chosen
    )


def duplicate_clients(ctx: ProjectContext) -> Iterator[Finding]:
    meta = ctx.book.rule("SA101")
    imported = ctx.imported
    by_module = _importer_index(imported)
    for (_lang, kind, _url), group in sorted(_groups(ctx.of_kind("client-site")).items()):
        modules = sorted({s.location.path for s in group})
        if len(modules) < 2:
            continue
        sites = sorted(group, key=lambda f: (f.location.path, f.location.span))
        users = {id(s): _sharedness(ctx, s, imported, by_module) for s in sites}
        best = max(sites, key=lambda s: users[id(s)])
        # Only a module that holds one client of this group can be "the" shared one.
        alone = sum(1 for s in sites if s.location.path == best.location.path) == 1
        shared = best if users[id(best)] > (0, 0) and alone else None
        advice = "build it once in a shared module and import it everywhere"
        if shared is not None:
            advice = f"import the shared client from {_shared_name(ctx, shared, users[id(shared)][0] > 0)} instead"
        for site in sites:
            if site is shared:
                continue
            yield meta.finding(
                site.location,
                related=_related(site, sites, shared),
                anchor=f"{kind}:{site.get('anchor')}",
                client=site.get("qualname"),
                library=site.get("library"),
                kind=kind,
                count=len(sites),
                modules=len(modules),
                advice=advice,
            )


RULES = {"SA101": duplicate_clients}
