"""SA104 database-url-without-pool-params: join URLs with the evidence of Prisma.

`connection_limit`/`pool_timeout` are Prisma's URL parameters; a SQLAlchemy
project's DATABASE_URL without them is fine. So a `database-url` fact is
judged only when the project uses Prisma (a schema datasource or a
`new PrismaClient()`), and only for the variable the datasource reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.capacity import pool_plan, with_detected
from scaleaudit.model import Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding

SQL_SCHEMES = ("postgres", "postgresql", "mysql", "sqlserver", "cockroachdb")


def prisma_url_vars(ctx: ProjectContext) -> set[str] | None:
    """Variables Prisma reads its URL from; None when the project does not use Prisma."""
    sources = ctx.of_kind("prisma-datasource")
    uses_prisma = bool(sources) or any(
        f.get("kind") == "prisma-client" and f.get("language") in ("typescript", "javascript")
        for f in ctx.of_kind("client-site")
    )
    if not uses_prisma:
        return None
    names = {str(s.get("url_env")) for s in sources if s.get("url_env")}
    return (names or {"DATABASE_URL"}) | {"url"}  # "url": a literal in the datasource block


def database_urls_without_pool(ctx: ProjectContext) -> Iterator[Finding]:
    names = prisma_url_vars(ctx)
    if names is None:
        return
    plan = pool_plan(*with_detected(ctx.settings.capacity, ctx.of_kind("process-model")))
    for fact in ctx.of_kind("database-url"):
        if fact.get("var") not in names or fact.get("scheme") not in SQL_SCHEMES or fact.get("has_pool_params"):
            continue
        yield finding(
            ctx,
            "SA104",
            fact,
            anchor=str(fact.get("var")),
            var=fact.get("var"),
            file=fact.get("file"),
            limit=plan.prisma_connection_limit,
            timeout=plan.pool_timeout,
            basis=plan.basis,
        )


RULES = {"SA104": database_urls_without_pool}
