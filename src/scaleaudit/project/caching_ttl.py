"""SA562 cache-write-without-ttl: Redis cache writes with no expiry, joined with the clients."""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Confidence, Fact, Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.caching_common import client_targets
from scaleaudit.project.scaling_common import finding, is_app_path

JUDGED = frozenset({"set", "setnx", "mset", "msetnx", "hset", "hmset", "hsetnx", "getset"})


def _is_redis(ctx: ProjectContext, write: Fact, targets: set[str]) -> bool:
    return bool(write.get("known")) or str(write.get("target")) in targets


def writes_without_ttl(ctx: ProjectContext) -> Iterator[Finding]:
    targets = {t for c in ctx.of_kind("redis-client") for t in client_targets(ctx, c)}
    for write in ctx.of_kind("redis-write"):
        if write.get("ttl") or write.get("command") not in JUDGED or not is_app_path(write.location.path):
            continue
        if not _is_redis(ctx, write, targets):
            continue
        prefix = str(write.get("prefix") or "")
        yield finding(
            ctx,
            "SA562",
            write,
            anchor=f"{write.get('command')}:{prefix or write.get('key')}",
            # a literal key prefix is what the live check can match against sampled keys
            confidence=Confidence.HIGH if write.get("known") else Confidence.MEDIUM,
            command=f"{str(write.get('target')).rsplit('.', 1)[-1]}.{write.get('command')}",
            how="no `ex`/`px` and no `expire` on the key",
            prefix=f" (keys `{prefix}…`)" if prefix else "",
        )


RULES = {"SA562": writes_without_ttl}
