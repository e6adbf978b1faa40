"""Scan result (+ live result) -> Report. Every number the report shows is computed here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scaleaudit import capacity as cap
from scaleaudit.config import Settings
from scaleaudit.model import Fact, Finding, ScanResult, Severity
from scaleaudit.report.architecture import detect
from scaleaudit.report.checklist import checklist
from scaleaudit.report.compare import compare
from scaleaudit.report.grouping import group
from scaleaudit.report.model import Action, Assumption, Capacity, Issue, Report, Verdict
from scaleaudit.rulebook import Rulebook, load_rulebook

# Connections one process's pool opens when the code leaves the library default.
POOL_DEFAULTS: Mapping[str, tuple[tuple[str, int], ...]] = {
    "sqlalchemy-engine": (("pool_size", 5), ("max_overflow", 10)),
    "psycopg-pool": (("max_size", 4),),
    "asyncpg-pool": (("max_size", 10),),
    "prisma-client": (("connection_limit", 5),),  # Prisma: 2 × CPUs + 1, 2 CPUs assumed
}
SINGLE_CONNECTION = ("psycopg-connection", "psycopg2-connection", "asyncpg-connection")
LONG_LIVED = ("module", "once")
MICROSERVICES_USERS = 10_000  # the review's "reconsider at 10,000+ concurrent users"


@dataclass(frozen=True)
class Load:
    """The stated assumptions of the capacity estimate (CLI flags, shown in the report)."""

    users: int = 1000
    requests_per_user_per_s: float = cap.DEFAULT_REQUESTS_PER_USER_PER_S
    db_time_ms: float = cap.DEFAULT_DB_TIME_MS
    peak_factor: float = cap.DEFAULT_PEAK_FACTOR
    workers: int | None = None
    instances: int | None = None
    max_connections: int | None = None
    user_set: frozenset[str] = frozenset()  # which of the above came from flags


def _long_lived(facts: Sequence[Fact], services: tuple[str, ...]) -> list[Fact]:
    return [
        f
        for f in facts
        if f.kind == "client-site"
        and f.get("scope") in LONG_LIVED
        and f.get("service") in services
        and not str(f.location.path).startswith(("tests/", "scripts/"))
    ]


def pool_size(fact: Fact) -> int:
    if fact.get("kind") in SINGLE_CONNECTION or not fact.get("pooled", True):
        return 1
    values = fact.get("pool_values") or {}
    total = 0
    for key, default in POOL_DEFAULTS.get(str(fact.get("kind")), (("pool", 5),)):
        value = values.get(key, default)
        total += value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    return total


def _processes(facts: Sequence[Fact], load: Load, settings: Settings) -> tuple[int, int, list[Assumption]]:
    models = [f for f in facts if f.kind == "process-model"]
    found_w = [int(f.get("workers")) for f in models if isinstance(f.get("workers"), int)]
    found_i = [int(f.get("instances")) for f in models if isinstance(f.get("instances"), int)]
    out = []
    values = []
    for name, flag, configured, found, default in (
        ("workers per instance", load.workers, settings.capacity.workers, found_w, cap.DEFAULT_WORKERS),
        ("instances", load.instances, settings.capacity.instances, found_i, cap.DEFAULT_INSTANCES),
    ):
        if flag:
            value, source = flag, "flag"
        elif configured:
            value, source = configured, "config"
        elif found:
            value, source = max(found), "code"
        else:
            value, source = default, "default"
        values.append(value)
        out.append(Assumption(name, str(value), source))
    return values[0], values[1], out


def build_capacity(facts: Sequence[Fact], load: Load, settings: Settings) -> Capacity:
    workers, instances, assumptions = _processes(facts, load, settings)
    processes = workers * instances
    max_conn = load.max_connections or settings.capacity.max_connections or cap.DEFAULT_MAX_CONNECTIONS
    mc_source = "flag" if load.max_connections else "config" if settings.capacity.max_connections else "default"
    reserved = settings.capacity.reserved_connections
    usable = max(1, max_conn - reserved)
    db = _long_lived(facts, ("postgres", "sql"))
    per_process = sum(pool_size(f) for f in db) if db else None
    fleet = per_process * processes if per_process is not None else None
    redis = _long_lived(facts, ("redis",))
    per_client = [
        v if isinstance(v := (f.get("pool_values") or {}).get("max_connections"), int) else None for f in redis
    ]
    conc = cap.request_concurrency(load.users, load.requests_per_user_per_s, load.db_time_ms, load.peak_factor)
    src = "flag"
    assumptions += [
        Assumption("max_connections", str(max_conn), mc_source),
        Assumption("reserved connections", str(reserved), "config" if settings.config_path else "default"),
        Assumption(
            "requests per user per second",
            f"{load.requests_per_user_per_s:g}",
            src if "rps" in load.user_set else "default",
        ),
        Assumption(
            "mean DB time per request (ms)", f"{load.db_time_ms:g}", src if "db_ms" in load.user_set else "default"
        ),
        Assumption("peak factor", f"{load.peak_factor:g}", src if "peak" in load.user_set else "default"),
    ]
    notes = [conc.basis]
    if db:
        notes.append(f"{len(db)} long-lived database client(s) per process, {per_process} connection(s) in all")
    return Capacity(
        target_users=load.users,
        instances=instances,
        workers=workers,
        processes=processes,
        pool_per_process=per_process,
        fleet_connections=fleet,
        max_connections=max_conn,
        reserved=reserved,
        usable=usable,
        fits=None if fleet is None else fleet <= usable,
        redis_clients_per_process=len(redis),
        redis_connections_per_process=None if None in per_client else sum(v for v in per_client if v is not None),
        redis_maxclients=cap.DEFAULT_REDIS_MAXCLIENTS,
        requests_per_second=conc.requests_per_second,
        mean_db_busy=round(conc.mean_db_busy, 2),
        peak_db_busy=conc.peak_db_busy,
        peak_factor=load.peak_factor,
        assumptions=tuple(assumptions),
        notes=tuple(notes),
    )


def verdict(capacity: Capacity, issues: Sequence[Issue], facts: Sequence[Fact]) -> Verdict:
    """The review's central question, argued from the numbers and the issues found."""
    users, usable, peak = capacity.target_users, capacity.usable, capacity.peak_db_busy
    enough = peak <= usable and users < MICROSERVICES_USERS
    reasons = [
        f"At {users:,} users the stated load is {capacity.requests_per_second:g} req/s, keeping about "
        f"{capacity.mean_db_busy:g} database connections busy ({peak} at peak) against {usable} usable: "
        + (
            "the database has room; what fails first is how the code uses it."
            if peak <= usable
            else "more than one PostgreSQL server can serve — add read replicas or a pooler (PgBouncer) first."
        )
    ]
    if capacity.fits is False:
        reasons.append(
            f"The configured pools could open {capacity.fleet_connections} connections "
            f"({capacity.processes} process(es) × {capacity.pool_per_process}) against {usable} usable: connection "
            "exhaustion comes long before CPU — a pool-sizing fix, not an architecture change."
        )
    critical = [i for i in issues if i.severity in ("critical", "high")]
    if critical:
        reasons.append(
            f"{len(critical)} critical/high issue(s) ({', '.join(i.rule for i in critical[:6])}) are fixes inside the "
            "monolith; none needs a service boundary."
        )
    elif not issues:
        reasons.append("No scalability issue was found in the code: a well-tuned monolith is what this already is.")
    would_change = [
        f"{MICROSERVICES_USERS:,}+ concurrent users, or a peak above {usable} busy connections "
        f"(at the stated load, about {users_for(capacity, usable):,} users)",
        "separate teams owning separate features, or needing independent deployments",
    ]
    if any(f.kind == "socketio-server" or f.get("feature") == "socket-io-server" for f in facts):
        would_change.append("chat/realtime traffic growing faster than the API: extract the Socket.IO server first")
    if any(f.kind in ("object-storage", "local-upload") for f in facts):
        would_change.append("upload processing competing with requests for CPU: move it to a file service or jobs")
    # "Enough" is a claim about the architecture, not about the code as it stands: with
    # critical/high issues open, a lead reading only the headline must not hear "ship it".
    if not enough:
        headline = f"A single monolith is not enough for {users:,} concurrent users as stated."
    elif critical:
        headline = (
            f"A well-tuned monolith is enough for {users:,} concurrent users once the {len(critical)} "
            "critical/high issue(s) below are fixed; as it stands, it is not."
        )
    elif capacity.fits is False:
        headline = (
            f"A well-tuned monolith is enough for {users:,} concurrent users once its pools fit the "
            "connection budget below; as it stands, it is not."
        )
    else:
        headline = f"A well-tuned monolith is enough for {users:,} concurrent users."
    return Verdict(enough, headline, tuple(reasons), tuple(would_change))


def users_for(capacity: Capacity, connections: int) -> int:
    """Users whose peak keeps `connections` busy, at the same per-user load (inverse of the estimate)."""
    per_user = capacity.mean_db_busy * capacity.peak_factor / capacity.target_users if capacity.target_users else 0
    return int(connections / per_user) if per_user > 0 else 0


def actions(issues: Sequence[Issue], capacity: Capacity) -> tuple[Action, ...]:
    out = [Action(i.priority, f"{i.title}: {i.fix}" if i.fix else i.title, (i.id,)) for i in issues]
    if capacity.fits is False:
        plan = cap.pool_plan(_capacity_settings(capacity))
        out.append(
            Action(
                1,
                f"Size every pool to fit the budget: pool_size={plan.pool_size}, "
                f"max_overflow={plan.max_overflow} per process ({plan.basis})",
                (),
            )
        )
    return tuple(sorted(out, key=lambda a: a.priority))


def _capacity_settings(capacity: Capacity) -> Any:
    from scaleaudit.config import Capacity as CapacityConfig

    return CapacityConfig(
        workers=capacity.workers,
        instances=capacity.instances,
        max_connections=capacity.max_connections,
        reserved_connections=capacity.reserved,
    )


def by_category(findings: Sequence[Finding]) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    counts = Counter((f.category.value, f.severity.value) for f in findings)
    categories = sorted({c for c, _ in counts})
    return tuple(
        (c, tuple((s.value, counts[(c, s.value)]) for s in Severity if counts[(c, s.value)])) for c in categories
    )


def build_report(
    result: ScanResult,
    settings: Settings,
    load: Load,
    *,
    live: ScanResult | None = None,
    live_note: str = "not run (no --database-url / --redis-url given)",
    project: str = "",
    previous: Mapping[str, Any] | None = None,
    previous_name: str = "",
    book: Rulebook | None = None,
) -> Report:
    book = book or load_rulebook()
    findings = [*result.findings, *(live.findings if live else ())]
    capacity = build_capacity(result.facts, load, settings)
    root = Path(result.root)

    def impact(category: str, count: int, files: int) -> str:
        return impact_at(category, count, files, capacity)

    issues = group(findings, book, root if root.is_dir() else None, impact)
    report = Report(
        project=project or root.name,
        target_users=load.users,
        files_scanned=result.summary.files_scanned,
        lines=result.summary.lines,
        architecture=detect(result.facts),
        issues=issues,
        capacity=capacity,
        verdict=verdict(capacity, issues, result.facts),
        actions=actions(issues, capacity),
        checklist=checklist(book, issues, result.facts, live is not None),
        live=live_note,
        by_category=by_category(findings),
    )
    if previous is not None:
        report = replace(report, comparison=compare(report, previous, previous_name))
    return report


def impact_at(category: str, count: int, files: int, capacity: Capacity) -> str:
    """One sentence on what the issue does at the target user count."""
    users, procs = f"{capacity.target_users:,}", capacity.processes
    if category == "duplicate-client":
        return (
            f"{count} extra pool(s) in every one of {procs} process(es): up to {count * procs} pools competing for "
            f"{capacity.usable} usable connections at {users} users — the review's connection exhaustion."
        )
    if category == "client-per-request":
        return (
            f"a new connection per request: about {capacity.requests_per_second:g} connects/s at {users} users, "
            "each paying a TCP/TLS handshake and a PostgreSQL backend fork."
        )
    if category == "pool-config":
        return f"library-default pools × {procs} process(es) decide the connection count, not the server's limit."
    if category in ("n-plus-one", "pagination"):
        return f"query count or row count grows with the data; at {users} users it multiplies DB time per request."
    if category == "horizontal-scaling":
        return "breaks or caps the app as soon as it runs in more than one process or instance."
    return ""
