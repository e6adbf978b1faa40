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

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from scaleaudit.config import Capacity
from scaleaudit.model import Fact

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


def with_detected(configured: Capacity, facts: Iterable[Fact]) -> tuple[Capacity, str]:
    """`configured`, with the workers and instances the project's own process configuration
    declares (gunicorn.conf.py, uvicorn.run, Procfile, compose replicas, PM2: `process-model`
    facts) filling what the configuration leaves unset — and where they came from.

    A detected count only ever raises the default, never lowers it: a `uvicorn.run(app)`
    dev entry point says one process, but sizing pools for one process when production
    runs four is how a fleet overruns max_connections. Fewer processes than assumed only
    leaves connections unused.
    """
    found: dict[str, tuple[int, str]] = {}
    for fact in facts:
        if fact.kind != "process-model":
            continue
        for key in ("workers", "instances"):
            value = fact.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > found.get(key, (0, ""))[0]:
                found[key] = (value, f"{value} {key} ({fact.get('source') or fact.location.path})")
    changes: dict[str, int] = {}
    notes: list[str] = []
    for key, default in (("workers", DEFAULT_WORKERS), ("instances", DEFAULT_INSTANCES)):
        value, note = found.get(key, (0, ""))
        if getattr(configured, key) is None and value > default:
            changes[key] = value
            notes.append(note)
    return (replace(configured, **changes) if changes else configured), ", ".join(notes)


def pool_plan(capacity: Capacity | None = None, detected: str = "") -> PoolPlan:
    """The pool sizes that fit `capacity`; `detected` names what the code declared (with_detected)."""
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
        + (f"; the code declares {detected}" if detected else "")
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


# --- the report's capacity estimate (scaleaudit report) ---------------------
# Defaults for what the code cannot tell; the report prints every one of them.
DEFAULT_REQUESTS_PER_USER_PER_S = 0.2  # an active user clicks or polls every ~5 s
DEFAULT_DB_TIME_MS = 20.0  # mean time a request holds a database connection
DEFAULT_PEAK_FACTOR = 3.0  # bursts over the mean arrival rate
DEFAULT_REDIS_MAXCLIENTS = 10_000  # Redis's default `maxclients`


@dataclass(frozen=True)
class Concurrency:
    requests_per_second: float
    mean_db_busy: float  # connections busy on average (Little's law: L = λ × W)
    peak_db_busy: int  # mean × peak factor, rounded up
    basis: str


def request_concurrency(
    users: int,
    requests_per_user_per_s: float = DEFAULT_REQUESTS_PER_USER_PER_S,
    db_time_ms: float = DEFAULT_DB_TIME_MS,
    peak_factor: float = DEFAULT_PEAK_FACTOR,
) -> Concurrency:
    """How many database connections the target load keeps busy.

    λ = users × requests per user per second; each request holds a connection
    for W = db_time_ms; by Little's law L = λ × W connections are busy on
    average, and a burst of `peak_factor` × the mean arrival rate needs that
    many times more.
    """
    rate = users * requests_per_user_per_s
    mean = rate * db_time_ms / 1000.0
    peak = math.ceil(round(mean * peak_factor, 9))
    basis = (
        f"{users} users × {requests_per_user_per_s:g} req/s = {rate:g} req/s; × {db_time_ms:g} ms DB time = "
        f"{mean:g} connections busy on average, {peak} at {peak_factor:g}× peak"
    )
    return Concurrency(rate, mean, peak, basis)


def redis_connections(per_client_max: Sequence[int | None], processes: int) -> int | None:
    """The most Redis connections a fleet opens: Σ max_connections × processes; None when a pool is unbounded."""
    if any(m is None for m in per_client_max):
        return None
    return sum(m for m in per_client_max if m is not None) * processes
