"""Joining Redis clients (defined in one module) with their uses (in any module)."""

from __future__ import annotations

from collections import defaultdict

from scaleaudit.model import Fact
from scaleaudit.project import ProjectContext


def client_targets(ctx: ProjectContext, client: Fact) -> set[str]:
    """The names other modules import a client by: per-file and package-based module names."""
    binding = str(client.get("binding"))
    return {str(client.get("target")), f"{ctx.modules.module_id(client)}.{binding}"}


def uses_by_target(ctx: ProjectContext) -> dict[str, set[tuple[str, str]]]:
    """target -> {(kind, command)} over every `redis-use` fact."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for fact in ctx.of_kind("redis-use"):
        for target, kind, command in fact.get("uses", ()):
            out[str(target)].add((str(kind), str(command)))
    return out
