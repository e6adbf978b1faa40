"""Code × live: findings only a tool that has read both the code and the server can make.

Inputs are the static facts of a scan (plain data, see docs/architecture.md)
and what the live probes read (indexes, row counts, max_connections, Redis
policy and a key sample). Each join yields `Hit`s located at the code that
causes the problem, with the live evidence in the message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from scaleaudit.capacity import fleet_connections
from scaleaudit.live.base import Hit, Thresholds
from scaleaudit.live.postgres import Index, covers
from scaleaudit.live.redis_checks import SampledKey
from scaleaudit.model import Confidence, Fact, Severity

# Library defaults for a pool the code does not size (documented by each library).
_POOL_DEFAULTS: Mapping[str, tuple[tuple[str, int], ...]] = {
    "sqlalchemy-engine": (("pool_size", 5), ("max_overflow", 10)),
    "psycopg-pool": (("max_size", 4),),
    "asyncpg-pool": (("max_size", 10),),
    "databases-pool": (("max_size", 10),),
    "prisma-client": (("connection_limit", 0),),  # num_cpus * 2 + 1: unknown from here
}
_PROCESS_SCOPES = {"module", "once"}
_QUEUE_COMMANDS = {"lpush", "rpush", "lmove", "blmove", "brpop", "blpop", "rpoplpush", "xadd", "brpoplpush"}
_QUEUE_KINDS = ("celery", "rq", "bull", "dramatiq", "huey", "arq", "sidekiq", "queue")


@dataclass(frozen=True)
class PgState:
    max_connections: int
    reserved: int
    indexes: Sequence[Index] = ()
    tables: Mapping[str, int] = field(default_factory=dict)

    @property
    def usable(self) -> int:
        return max(1, self.max_connections - self.reserved)

    def table(self, name: str | None) -> str | None:
        if not name:
            return None
        if name in self.tables:
            return name if "." in name else f"public.{name}" if f"public.{name}" in self.tables else name
        return None

    def indexes_on(self, table: str) -> list[Index]:
        bare = table.split(".", 1)[-1]
        return [i for i in self.indexes if i.table in (table, bare) or i.table.split(".", 1)[-1] == bare]


@dataclass(frozen=True)
class RedisState:
    policy: str
    maxmemory: int
    sample: Sequence[SampledKey] = ()


@dataclass(frozen=True)
class Fleet:
    workers: int
    instances: int
    basis: str


def fleet(facts: Sequence[Fact], workers: int | None, instances: int | None) -> Fleet:
    """Flags first, then what the code's process files say, then 1 (the least it can be)."""
    found_w = [int(f.get("workers")) for f in facts if f.kind == "process-model" and f.get("workers")]
    found_i = [int(f.get("instances")) for f in facts if f.kind == "process-model" and f.get("instances")]
    sources = sorted({str(f.get("source")) for f in facts if f.kind == "process-model"})
    w = workers or (max(found_w) if found_w else None)
    i = instances or (max(found_i) if found_i else None)
    basis = [
        f"{w} worker(s)" + (" (--workers)" if workers else f" ({', '.join(sources)})" if found_w else "")
        if w else "1 worker (none found; pass --workers)",
        f"{i} instance(s)" + (" (--instances)" if instances else "" if not found_i else f" ({', '.join(sources)})")
        if i else "1 instance (none found; pass --instances)",
    ]
    return Fleet(w or 1, i or 1, " × ".join(basis))


def pool_of(fact: Fact) -> int | None:
    """Connections one process's pool may open, from literal values or the library's defaults."""
    defaults = _POOL_DEFAULTS.get(str(fact.get("kind")))
    if defaults is None:
        return None
    values = fact.get("pool_values") or {}
    total = 0
    for key, default in defaults:
        value = values.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or (value <= 0 and default == 0):
            return None
        total += value
    return total


def connection_budget(facts: Sequence[Fact], pg: PgState, fl: Fleet) -> list[Hit]:
    sites = [
        (f, pool_of(f)) for f in facts
        if f.kind == "client-site" and f.get("service") in ("sql", "postgres")
        and f.get("scope") in _PROCESS_SCOPES and f.get("pooled", True)
    ]
    sized = [(f, n) for f, n in sites if n]
    if not sized:
        return []
    per_process = sum(n for _, n in sized)
    total = fleet_connections(per_process, 0, fl.workers, fl.instances)
    if total <= pg.usable:
        return []
    biggest = max(sized, key=lambda s: s[1])[0]
    detail = ", ".join(f"{f.location.path}:{f.location.span.line} {n}" for f, n in sized[:6])
    values = {"total": total, "per_process": per_process, "sites": len(sized), "detail": detail, "fleet": fl.basis,
              "usable": pg.usable, "max": pg.max_connections, "reserved": pg.reserved}
    return [Hit("SA690", "connection-budget", values, location=biggest,
                related=tuple(f for f, _ in sized if f is not biggest))]


def _model_tables(facts: Sequence[Fact]) -> dict[str, str]:
    return {str(f.get("name")): str(f.get("table")) for f in facts if f.kind == "model" and f.get("table")}


def _model_columns(facts: Sequence[Fact]) -> dict[str, dict[str, str]]:
    """Model name -> attribute name -> column (query-filter facts name attributes as written)."""
    return {
        str(f.get("name")): {str(x.get("name")): str(x.get("column") or x.get("name")) for x in f.get("fields") or ()}
        for f in facts
        if f.kind == "model"
    }


def unindexed_filters(facts: Sequence[Fact], pg: PgState, limits: Thresholds) -> list[Hit]:
    tables, model_columns = _model_tables(facts), _model_columns(facts)
    hits: list[Hit] = []
    seen: set[str] = set()
    for fact in facts:
        if fact.kind != "query-filter":
            continue
        table = pg.table(fact.get("table") or tables.get(str(fact.get("model"))))
        attrs = model_columns.get(str(fact.get("model")), {})
        columns = [attrs.get(str(c), str(c)) for c in fact.get("columns") or ()]
        if table is None or not columns:
            continue
        rows = pg.tables[table]
        if rows < limits["index-join-min-rows"]:
            continue
        if any(i.valid and i.columns and i.columns[0] in columns for i in pg.indexes_on(table)):
            continue
        anchor = f"filter:{table}({','.join(sorted(columns))}):{fact.get('clause', 'where')}"
        if anchor in seen:
            continue
        seen.add(anchor)
        severity = Severity.HIGH if rows >= 1_000_000 else Severity.MEDIUM
        hits.append(Hit("SA691", anchor, {"table": table, "columns": ", ".join(columns), "rows": f"{rows:,}",
                                          "clause": str(fact.get("clause", "where")).replace("_", " ").upper()},
                        severity=severity, location=fact))
    return hits


def _declared(model: Fact) -> Iterator[tuple[str, ...]]:
    # Django indexes every ForeignKey unless told not to; SQLAlchemy and Prisma do not.
    fk_indexed = model.get("orm") == "django"
    for fld in model.get("fields") or ():
        if fld.get("indexed") or fld.get("unique") or fld.get("pk") or (fk_indexed and fld.get("fk_table")):
            yield (str(fld.get("column") or fld.get("name")),)
    for cols in model.get("indexes") or ():
        if cols:
            yield tuple(str(c) for c in cols)


def model_index_drift(facts: Sequence[Fact], pg: PgState) -> list[Hit]:
    hits: list[Hit] = []
    for model in (f for f in facts if f.kind == "model" and not f.get("abstract")):
        table = pg.table(str(model.get("table") or ""))
        if table is None:
            continue
        live = [i for i in pg.indexes_on(table) if i.valid]
        declared = list(dict.fromkeys(_declared(model)))
        for cols in declared:
            if not any(covers(i, cols) for i in live):
                hits.append(Hit("SA692", f"model-index:{table}({','.join(cols)})",
                                {"model": model.get("name"), "table": table, "columns": ", ".join(cols)},
                                location=model))
        for index in live:
            if index.primary or not index.plain:
                continue
            if not any(set(cols) == set(index.columns) for cols in declared):
                hits.append(Hit("SA693", f"db-index:{index.name}",
                                {"model": model.get("name"), "index": index.name,
                                 "columns": ", ".join(index.columns), "table": table}, location=model))
    return hits


def redis_roles(facts: Sequence[Fact]) -> dict[str, list[Fact]]:
    """cache / queue / session -> the facts that show the code uses Redis that way."""
    roles: dict[str, list[Fact]] = {"cache": [], "queue": [], "session": []}
    for fact in facts:
        if fact.kind == "redis-write":
            prefix = str(fact.get("prefix") or "").lower()
            command = str(fact.get("command") or "").lower()
            if "session" in prefix:
                roles["session"].append(fact)
            elif command in _QUEUE_COMMANDS or "queue" in prefix or "job" in prefix:
                roles["queue"].append(fact)
            elif fact.get("ttl") or "cache" in prefix:
                roles["cache"].append(fact)
        elif fact.kind == "client-site" and any(q in str(fact.get("kind", "")) for q in _QUEUE_KINDS):
            roles["queue"].append(fact)
    return {role: found for role, found in roles.items() if found}


def eviction_policy(facts: Sequence[Fact], rs: RedisState) -> list[Hit]:
    roles = redis_roles(facts)
    durable = [r for r in ("queue", "session") if r in roles]
    if rs.policy.startswith("allkeys-") and durable and "cache" in roles:
        first = roles[durable[0]][0]
        return [Hit("SA695", f"policy:{rs.policy}",
                    {"policy": rs.policy, "roles": " and ".join(["cache", *durable]),
                     "problem": f"under memory pressure Redis evicts {' and '.join(durable)} keys as readily as "
                                "cache entries: jobs vanish and users are logged out"},
                    severity=Severity.HIGH, location=first, related=tuple(roles["cache"][:3]))]
    if rs.policy == "noeviction" and set(roles) == {"cache"}:
        return [Hit("SA695", f"policy:{rs.policy}",
                    {"policy": rs.policy, "roles": "cache only",
                     "problem": "when memory fills, every write fails with OOM instead of dropping old cache "
                                "entries; use allkeys-lru (or volatile-lru) with maxmemory set"},
                    severity=Severity.MEDIUM, location=roles["cache"][0])]
    return []


def prefixes_without_ttl(facts: Sequence[Fact], rs: RedisState) -> list[Hit]:
    hits: list[Hit] = []
    seen: set[str] = set()
    for fact in facts:
        prefix = str(fact.get("prefix") or "")
        if fact.kind != "redis-write" or fact.get("ttl") or not prefix or prefix in seen:
            continue
        matching = [k for k in rs.sample if k.key.startswith(prefix)]
        persistent = [k for k in matching if k.ttl_ms < 0]
        if not persistent:
            continue
        seen.add(prefix)
        values = {"prefix": prefix, "command": str(fact.get("command", "set")).upper(), "live": len(persistent),
                  "sampled": len(matching), "example": persistent[0].key[:60]}
        hits.append(Hit("SA694", f"redis-prefix:{prefix}", values, location=fact, confidence=Confidence.HIGH))
    return hits


def join(facts: Sequence[Fact], pg: PgState | None, rs: RedisState | None, limits: Thresholds, fl: Fleet) -> list[Hit]:
    hits: list[Hit] = []
    if pg is not None:
        hits += connection_budget(facts, pg, fl)
        hits += unindexed_filters(facts, pg, limits)
        hits += model_index_drift(facts, pg)
    if rs is not None:
        hits += eviction_policy(facts, rs)
        hits += prefixes_without_ttl(facts, rs)
    return hits
