"""SA561 redis-client-never-read: the review's "Redis configured, but how it is used is unclear".

A module-level Redis client is judged by what the whole project does with it:
any read, any non-cache command (publish, queues, counters, locks) or any
mention we cannot follow (passed to a session or rate-limit library,
returned, stored) means it is used. What remains is a client nobody touches,
or one that is only written to — a cache that is filled and never consulted.
"""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Fact, Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.caching_common import client_targets, uses_by_target
from scaleaudit.project.scaling_common import finding, is_app_path


def _unread_importers(
    ctx: ProjectContext, client: Fact, imported: dict[tuple[str, str], set[str]], read: set[str]
) -> bool:
    """Some file imports the client but was not read by the Redis tracker (no trigger in it):
    what it does with the client is unknown, so the client counts as used."""
    binding = str(client.get("binding"))
    importers: set[str] = set()
    for target in client_targets(ctx, client):
        importers |= imported.get((target.rpartition(".")[0], binding), set())
    return bool(importers - read)


def unread_clients(ctx: ProjectContext) -> Iterator[Finding]:
    uses = uses_by_target(ctx)
    imported = ctx.imported
    read = {f.location.path for f in ctx.of_kind("redis-use")}
    for client in ctx.of_kind("redis-client"):
        if not is_app_path(client.location.path) or _unread_importers(ctx, client, imported, read):
            continue
        seen = set().union(*(uses.get(t, set()) for t in client_targets(ctx, client)))
        if any(kind != "write" for kind, _ in seen):
            continue
        writes = sorted({command for _, command in seen})
        what = f"is only written to ({', '.join(writes)}) and never read" if writes else "is never used anywhere"
        yield finding(
            ctx,
            "SA561",
            client,
            anchor=f"redis-client:{client.get('target')}",
            binding=client.get("binding"),
            what=what,
        )


RULES = {"SA561": unread_clients}
