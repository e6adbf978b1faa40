"""`run_check`: live checks (and their join with the code) as a `ScanResult`.

Hits become findings through each rule's YAML exactly like static findings,
so every renderer, `--fail-on`, `--select` and the baseline work unchanged.
Live findings sit at a password-free pseudo path such as
`postgresql://db.internal:5432/shop`, line 1; joined findings at the code.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import psycopg
import redis

from scaleaudit.config import ConfigError, Settings
from scaleaudit.engine.runner import Selection
from scaleaudit.live import join as joins
from scaleaudit.live import postgres as pgc
from scaleaudit.live import redis_checks as rc
from scaleaudit.live.base import Hit, Note, Skip, Thresholds, unknown_thresholds
from scaleaudit.live.connect import LiveError, Target, connect_postgres, connect_redis, pg_target, redact, redis_target
from scaleaudit.live.connect import sanitize as _sanitize
from scaleaudit.model import Diagnostic, Fact, Finding, Location, ScanResult, ScanSummary, Span
from scaleaudit.rulebook import Rulebook, load_rulebook

__all__ = ["LiveError", "redact", "run_check"]

P = TypeVar("P")


@dataclass
class Outcome:
    """What one server's checks produced, before it becomes findings."""

    target: Target
    hits: list[Hit] = field(default_factory=list)
    skips: list[tuple[str, Skip]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0


def _run_checks(
    probe: P,
    checks: Sequence[tuple[str, Callable[[P], list[Hit]]]],
    enabled: frozenset[str],
    outcome: Outcome,
    to_skip: Callable[[Exception], Skip | None],
) -> None:
    for rule_ids, check in checks:
        if not enabled.intersection(rule_ids.split()):
            continue
        rule_id = rule_ids.split()[0]  # a check may report several rules ("SA650 SA651")
        try:
            outcome.hits.extend(h for h in check(probe) if h.rule in enabled)
        except Skip as skip:
            outcome.skips.append((rule_id, skip))
        except Exception as exc:
            converted = to_skip(exc)
            if converted is None:
                raise
            outcome.skips.append((rule_id, converted))


def _pg_error_to_skip(probe: pgc.PgProbe, timeout_ms: int) -> Callable[[Exception], Skip | None]:
    def convert(exc: Exception) -> Skip | None:
        if probe.conn.closed or (isinstance(exc, psycopg.OperationalError) and probe.conn.broken):
            return None  # the connection died: not a skipped check but a failed run
        return pgc.skip_for_error(exc, probe, timeout_ms) if isinstance(exc, psycopg.Error) else None

    return convert


def _redis_error_to_skip(exc: Exception) -> Skip | None:
    if isinstance(exc, redis.ResponseError):
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Skip(f"refused by the server: {text}", "allow the command for this user (ACL) or read it elsewhere")
    if isinstance(exc, redis.TimeoutError):
        return Skip("timed out", "raise [check] statement-timeout-ms, or run it off-peak")
    return None


def check_postgres(
    url: str, settings: Settings, enabled: frozenset[str], limits: Thresholds, server_memory: int | None
) -> tuple[Outcome, joins.PgState | None]:
    started = time.perf_counter()
    conn = connect_postgres(url, settings.check)
    try:
        probe = pgc.PgProbe(conn, limits, server_memory=server_memory)
        outcome = Outcome(pg_target(conn))
        pgc.capabilities(probe)
        _run_checks(probe, pgc.CHECKS, enabled, outcome, _pg_error_to_skip(probe, settings.check.statement_timeout_ms))
        state = _pg_state(probe)
        outcome.notes.extend(probe.notes)
    except psycopg.Error as exc:
        raise LiveError(f"PostgreSQL {redact(url)}: {_sanitize(str(exc), [url])}") from None
    finally:
        conn.close()
    outcome.seconds = time.perf_counter() - started
    return outcome, state


def _pg_state(probe: pgc.PgProbe) -> joins.PgState | None:
    try:
        r = probe.one("""SELECT current_setting('max_connections')::int AS max_conn,
                                current_setting('superuser_reserved_connections')::int
                                  + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved""")
        return joins.PgState(r["max_conn"], r["reserved"], tuple(probe.indexes), dict(probe.tables))
    except psycopg.errors.QueryCanceled:
        return None


def check_redis(
    url: str, settings: Settings, enabled: frozenset[str], limits: Thresholds
) -> tuple[Outcome, joins.RedisState | None]:
    started = time.perf_counter()
    client = connect_redis(url, settings.check)
    try:
        probe = rc.RedisProbe(client, limits, settings.check.redis_sample)
        outcome = Outcome(redis_target(client))
        _run_checks(probe, rc.CHECKS, enabled, outcome, _redis_error_to_skip)
        policy = probe.setting("maxmemory-policy", "maxmemory_policy")
        state = joins.RedisState(policy, int(probe.setting("maxmemory", "maxmemory") or 0), tuple(probe.sample))
        outcome.notes.extend(probe.notes)
    except (redis.ConnectionError, redis.TimeoutError, redis.AuthenticationError) as exc:
        raise LiveError(f"Redis {redact(url)}: {_sanitize(str(exc), [url])}") from None
    finally:
        client.close()
    outcome.seconds = time.perf_counter() - started
    return outcome, state


def _finding(hit: Hit, target: Target | None, book: Rulebook, secrets: Sequence[str | None]) -> Finding:
    meta = book.rule(hit.rule)
    if hit.location is not None:
        location = hit.location.location
    else:
        assert target is not None
        location = Location(target.path, Span(1, 1, 1, 1))
    return Finding(
        rule=meta.id,
        name=meta.name,
        category=meta.category,
        severity=hit.severity or meta.severity,
        confidence=hit.confidence or meta.confidence,
        location=location,
        message=_sanitize(meta.format(**hit.values, target=target.display if target else ""), secrets),
        checklist=meta.checklist,
        related=tuple(f.location for f in hit.related),
        anchor=hit.anchor,
    )


def server_memory_bytes(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return pgc.parse_bytes(value)
    except ValueError as exc:
        raise ConfigError(f"--server-memory: {exc}") from None


def run_check(
    database_url: str | None,
    redis_url: str | None,
    settings: Settings,
    facts: Sequence[Fact] = (),
    *,
    instances: int | None = None,
    workers: int | None = None,
    server_memory: str | None = None,
) -> ScanResult:
    """Run every enabled live check against the given servers; join with `facts` from a scan."""
    if database_url is None and redis_url is None:
        raise ConfigError("nothing to check: give --database-url and/or --redis-url (or DATABASE_URL/REDIS_URL)")
    bad = unknown_thresholds(settings.check.thresholds)
    if bad:
        raise ConfigError(f"unknown threshold {bad[0]!r} in [check.thresholds] (see `scaleaudit rules SA6`)")
    memory = server_memory_bytes(server_memory)
    book = load_rulebook()
    selection = Selection.resolve(book, settings.select, settings.ignore)
    limits = Thresholds(settings.check.thresholds)
    outcomes: list[Outcome] = []
    pg_state = rs_state = None
    if database_url:
        outcome, pg_state = check_postgres(database_url, settings, selection.enabled, limits, memory)
        outcomes.append(outcome)
    if redis_url:
        outcome, rs_state = check_redis(redis_url, settings, selection.enabled, limits)
        outcomes.append(outcome)
    fleet = joins.fleet(facts, workers or settings.capacity.workers, instances or settings.capacity.instances)
    joined = [h for h in joins.join(facts, pg_state, rs_state, limits, fleet) if h.rule in selection.enabled]
    return _result(settings, outcomes, joined, facts, book, (database_url, redis_url))


def _result(
    settings: Settings,
    outcomes: Sequence[Outcome],
    joined: Sequence[Hit],
    facts: Sequence[Fact],
    book: Rulebook,
    secrets: Sequence[str | None],
) -> ScanResult:
    findings = [_finding(h, o.target, book, secrets) for o in outcomes for h in o.hits]
    findings += [_finding(h, None, book, secrets) for h in joined]
    findings = [_override(f, settings, book) for f in findings if f.confidence.rank >= settings.min_confidence.rank]
    findings.sort(key=Finding.sort_key)
    diagnostics = [_diagnostic(o.target, rule_id, skip, book, secrets) for o in outcomes for rule_id, skip in o.skips]
    diagnostics += [
        Diagnostic("check-note", o.target.path, _sanitize(f"{n.check}: {n.message}", secrets)) for o in outcomes
        for n in o.notes
    ]
    summary = ScanSummary(
        files_scanned=len({f.location.path for f in facts}),
        files_skipped=0,
        lines=0,
        by_severity=dict(Counter(f.severity.value for f in findings)),
        by_category=dict(Counter(f.category.value for f in findings)),
        suppressed=0,
        baselined=0,
    )
    return ScanResult(str(settings.root), tuple(findings), tuple(diagnostics), summary, tuple(facts))


def _override(finding: Finding, settings: Settings, book: Rulebook) -> Finding:
    for selector, severity in settings.severity.items():
        if finding.rule in {m.id for m in book.lookup(selector)}:
            return replace(finding, severity=severity)
    return finding


def _diagnostic(target: Target, rule_id: str, skip: Skip, book: Rulebook, secrets: Sequence[str | None]) -> Diagnostic:
    name = book.rule(rule_id).name
    grant = f"; to enable: {skip.grant}" if skip.grant else ""
    message = _sanitize(f"{rule_id} {name} skipped: {skip.reason}{grant}", secrets)
    return Diagnostic("check-skipped", target.path, message)
