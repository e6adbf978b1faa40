"""The review's implementation checklist, each item ticked or not from evidence.

An item is *open* when an issue belongs to it; *done* when the facts show the
practice in place and no issue contradicts it; *unknown* when neither the code
nor the live check can tell (the report says what would tell).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scaleaudit.model import Fact
from scaleaudit.report.model import ChecklistLine, Evidence, Issue
from scaleaudit.rulebook import Rulebook

Probe = Callable[[Sequence[Fact], bool], tuple[str, str, tuple[Evidence, ...]]]  # status, reason, evidence
_LOAD_TEST_MODULES = ("locust", "k6", "k6/http", "artillery", "autocannon")


def _ev(facts: Sequence[Fact]) -> tuple[Evidence, ...]:
    ordered = sorted(facts, key=lambda f: (f.location.path, f.location.span.line))
    return tuple(Evidence(f.location.path, f.location.span.line) for f in ordered[:3])


def _of(facts: Sequence[Fact], kind: str, **match: object) -> list[Fact]:
    return [f for f in facts if f.kind == kind and all(f.get(k) == v for k, v in match.items())]


def _clients(facts: Sequence[Fact]) -> list[Fact]:
    return [
        f
        for f in _of(facts, "client-site")
        if f.get("scope") in ("module", "once") and f.get("service") in ("postgres", "sql", "mongodb")
    ]


def singleton(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    clients = _clients(facts)
    if not clients:
        return "unknown", "no database client construction found", ()
    return "done", f"{len(clients)} long-lived database client(s), none duplicated", _ev(clients)


def shared_use(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    clients = _clients(facts)
    if not clients:
        return "unknown", "no database client construction found", ()
    return "done", "no client is built per request", _ev(clients)


def pool(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    sized = [f for f in _clients(facts) if f.get("pool_args")]
    urls = _of(facts, "database-url", has_pool_params=True)
    if sized or urls:
        return "done", "pool size set explicitly", _ev([*sized, *urls])
    return "unknown", "no pooled client with explicit sizing seen", ()


def redis_caching(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    reads = [f for f in _of(facts, "redis-use") if any(kind == "read" for _, kind, _c in f.get("uses", ()))]
    if reads:
        return "done", "Redis is read on request paths", _ev(reads)
    if _of(facts, "client-site", service="redis"):
        return "open", "a Redis client exists but no read through it was found", ()
    return "open", "no Redis (or other shared cache) client found", ()


def indexes(_facts: Sequence[Fact], live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    if live:
        return "done", "no missing index found in the code or the live database", ()
    return "unknown", "no missing index found in the code; run with --database-url to check the live schema", ()


def cluster(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    multi = [f for f in _of(facts, "process-model") if int(f.get("workers") or 1) * int(f.get("instances") or 1) > 1]
    if multi:
        return "done", "more than one process is configured", _ev(multi)
    if _of(facts, "process-model"):
        return "open", "the process configuration runs a single process", _ev(_of(facts, "process-model"))
    return "unknown", "no process configuration (gunicorn, uvicorn, PM2, compose, Procfile) found", ()


def balancer(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    instances = [f for f in _of(facts, "process-model") if int(f.get("instances") or 1) > 1]
    if instances:
        return "done", "several instances configured and no per-process state found", _ev(instances)
    return "unknown", "no per-process state found, but no second instance is configured either", ()


def monitoring(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    found = _of(facts, "error-tracking") + _of(facts, "js-feature", feature="error-tracking")
    if found:
        return "done", "error tracking / APM is initialised", _ev(found)
    return "unknown", "no web app entry point found to judge", ()


def load_test(facts: Sequence[Fact], _live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    found = [
        f
        for f in facts
        if (
            f.kind == "py-imports"
            and any(str(m).split(".")[0] in _LOAD_TEST_MODULES for _l, m, _n in f.get("imports", ()))
        )
        or (f.kind == "module-imports" and any(str(m) in _LOAD_TEST_MODULES for m, _n in f.get("imports", ())))
    ]
    if found:
        return "done", "a load-test script is present", _ev(found)
    return "open", "no load-test script (locust, k6, artillery) found in the project", ()


def slow_queries(_facts: Sequence[Fact], live: bool) -> tuple[str, str, tuple[Evidence, ...]]:
    if live:
        return "done", "no N+1, unbounded query or slow statement found", ()
    return "unknown", "no N+1 or unbounded query found in the code; --database-url adds pg_stat_statements", ()


PROBES: dict[str, Probe] = {
    "singleton-client": singleton,
    "use-shared-client": shared_use,
    "pool-config": pool,
    "redis-caching": redis_caching,
    "indexes": indexes,
    "cluster-mode": cluster,
    "load-balancer": balancer,
    "monitoring": monitoring,
    "load-test": load_test,
    "slow-queries": slow_queries,
}


def checklist(book: Rulebook, issues: Sequence[Issue], facts: Sequence[Fact], live: bool) -> tuple[ChecklistLine, ...]:
    lines = []
    for item in sorted(book.checklist.values(), key=lambda i: i.number):
        linked = tuple(i.id for i in issues if i.checklist == item.key)
        if linked:
            reason = "; ".join(i.title for i in issues if i.checklist == item.key)
            lines.append(ChecklistLine(item.key, item.number, item.title, "open", reason, linked))
            continue
        probe = PROBES.get(item.key)
        status, reason, evidence = probe(facts, live) if probe else ("unknown", "no check for this item", ())
        lines.append(ChecklistLine(item.key, item.number, item.title, status, reason, (), evidence))
    return tuple(lines)
