"""The connection budget: how big each process's pool may be.

Every process holds its own pool, so the whole fleet opens at most

    instances × workers × (pool_size + max_overflow)

connections, and that must stay below the server's usable connections
(`max_connections` minus the slots reserved for superusers, migrations and
monitoring). We split each process's share two to one between the steady
pool and the overflow that absorbs bursts.

Defaults when the project does not say (documented in docs/capacity.md):
PostgreSQL's default `max_connections` of 100, 10 reserved, 2 instances
(the review's "2–4 app servers") of 4 workers each.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaleaudit.config import Capacity

DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_WORKERS = 4
DEFAULT_INSTANCES = 2
REDIS_MAX_CONNECTIONS_CAP = 50  # per process; enough for a web worker's concurrency
PRISMA_POOL_TIMEOUT_S = 20  # the review's example URL


@dataclass(frozen=True)
class PoolPlan:
    processes: int
    usable: int
    per_process: int
    pool_size: int
    max_overflow: int
    redis_max_connections: int
    prisma_connection_limit: int
    pool_timeout: int
    basis: str  # one sentence a user can check


def pool_plan(capacity: Capacity | None = None) -> PoolPlan:
    cap = capacity or Capacity()
    max_connections = cap.max_connections or DEFAULT_MAX_CONNECTIONS
    workers = cap.workers or DEFAULT_WORKERS
    instances = cap.instances or DEFAULT_INSTANCES
    usable = max(1, max_connections - cap.reserved_connections)
    processes = workers * instances
    per_process = max(1, usable // processes)
    pool_size = max(1, (per_process * 2) // 3)
    max_overflow = max(0, per_process - pool_size)
    basis = (
        f"{instances} instance(s) × {workers} worker(s) sharing {usable} usable connections "
        f"(max_connections {max_connections} − {cap.reserved_connections} reserved)"
    )
    return PoolPlan(
        processes=processes,
        usable=usable,
        per_process=per_process,
        pool_size=pool_size,
        max_overflow=max_overflow,
        redis_max_connections=min(REDIS_MAX_CONNECTIONS_CAP, max(4, per_process * 2)),
        prisma_connection_limit=per_process,
        pool_timeout=PRISMA_POOL_TIMEOUT_S,
        basis=basis,
    )


def fleet_connections(pool_size: int, max_overflow: int, workers: int, instances: int) -> int:
    """The most connections a fleet can open: Σ (pool + overflow) × workers × instances."""
    return (pool_size + max_overflow) * workers * instances
