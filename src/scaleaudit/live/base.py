"""What a live check returns, and the thresholds it judges by.

A check is a small function that reads the server and yields `Hit`s (a rule
id, a position-free anchor and the values its YAML message needs). It never
builds a `Finding` itself: `api.py` turns hits into findings from the rule's
YAML, so live and static findings share text, severities and renderers.

A check that cannot run (no privilege, extension missing, timed out) raises
`Skip` with the reason and the grant that would enable it; the runner records
it and carries on with the next check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scaleaudit.model import Confidence, Fact, Severity


@dataclass(frozen=True)
class Hit:
    rule: str
    anchor: str
    values: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # None: the rule's YAML severity
    confidence: Confidence | None = None
    # Joined checks point at the code: the fact that causes it, and others involved.
    location: Fact | None = None
    related: tuple[Fact, ...] = ()


class Skip(Exception):
    """A check that could not run: why, and what would let it run."""

    def __init__(self, reason: str, grant: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.grant = grant


@dataclass(frozen=True)
class Note:
    """Something worth knowing that is not a problem (e.g. no replica attached)."""

    check: str
    message: str


@dataclass(frozen=True)
class Threshold:
    default: float
    unit: str
    source: str  # which tool uses it, or why we chose differently


# Every threshold a live check uses, overridable as `[check.thresholds] name = value`.
THRESHOLDS: Mapping[str, Threshold] = {
    # PostgreSQL
    "connections-warn": Threshold(0.75, "share of usable", "pg:diagnose warns at 75 %"),
    "connections-high": Threshold(0.90, "share of usable", "pg:diagnose 90 %, check_postgres 90/95 %"),
    "churn-bad-s": Threshold(60, "s mean backend age", "postgresqltuner: < 1 min, use a pooler"),
    "churn-warn-s": Threshold(600, "s mean backend age", "postgresqltuner: < 10 min"),
    "churn-min-sessions": Threshold(5, "client sessions", "ours: a mean over fewer sessions is noise"),
    "idle-in-transaction-s": Threshold(60, "s", "pg:diagnose: idle in transaction > 1 min"),
    "long-query-s": Threshold(60, "s", "PgHero and pg:diagnose: 60 s"),
    "blocked-s": Threshold(10, "s waiting on a lock", "ours: PgHero lists any; 10 s outlasts a normal row lock"),
    "cache-hit-ratio": Threshold(0.99, "ratio", "PgHero and pg:diagnose: 99 %"),
    "cache-min-blocks": Threshold(1000, "blocks read+hit", "ours: below it the ratio is start-up noise"),
    "seq-scan-min-rows": Threshold(10_000, "live rows", "PgHero: 10k rows"),
    "seq-scan-index-share": Threshold(0.95, "idx_scan share", "PgHero: index use < 95 %"),
    "unused-index-min-bytes": Threshold(10 * 1024 * 1024, "bytes", "PgHero: 0 scans and >= 10 MB"),
    "slow-query-mean-ms": Threshold(20, "ms mean", "PgHero: mean >= 20 ms"),
    "slow-query-min-calls": Threshold(100, "calls", "PgHero: >= 100 calls"),
    "sequence-used": Threshold(0.90, "share of type max", "PgHero: > 90 %"),
    "xid-age": Threshold(1_300_000_000, "transactions", "check_postgres warns at 1.3 billion"),
    "xid-age-critical": Threshold(1_400_000_000, "transactions", "check_postgres critical at 1.4 billion"),
    "replica-lag-s": Threshold(30, "s replay lag", "ours: reads older than 30 s surprise users"),
    "shared-buffers-min": Threshold(0.15, "share of RAM", "pgtune: 25 % of RAM; we flag below 15 %"),
    "shared-buffers-max": Threshold(0.40, "share of RAM", "pgtune 25 %; above 40 % starves the OS cache"),
    "effective-cache-min": Threshold(0.50, "share of RAM", "pgtune: 75 % of RAM; we flag below 50 %"),
    "maintenance-work-mem-min": Threshold(1 / 64, "share of RAM", "pgtune: RAM/16; we flag below RAM/64"),
    # Redis
    "redis-memory-used": Threshold(0.90, "share of maxmemory", "85-90 % (RedisInsight, Datadog monitors)"),
    "redis-hit-rate": Threshold(0.90, "ratio", "common monitors: < 0.9"),
    "redis-hit-min-lookups": Threshold(1000, "hits+misses", "ours: below it the rate is noise"),
    "redis-clients": Threshold(0.85, "share of maxclients", "85-90 %"),
    "redis-no-ttl-share": Threshold(0.50, "share of keys", "ours: more than half the keys never expire"),
    "redis-no-ttl-min-keys": Threshold(100, "keys", "ours: tiny keyspaces are not worth a finding"),
    "redis-big-string-bytes": Threshold(100 * 1024, "bytes", "RedisInsight/redis-cli --bigkeys: 100 kB"),
    "redis-big-hash-fields": Threshold(5000, "fields", "RedisInsight: 5,000"),
    "redis-big-collection": Threshold(1000, "elements", "RedisInsight: set/list > 1,000"),
    "redis-slowlog-us": Threshold(10_000, "microseconds", "Redis default slowlog-log-slower-than: 10 ms"),
    "redis-fragmentation": Threshold(1.5, "ratio", "1.4-1.5 in common monitors"),
    "redis-fragmentation-min-bytes": Threshold(64 * 1024 * 1024, "bytes rss", "ours: small instances read high"),
    "redis-save-age-h": Threshold(48, "hours", "common monitors: last save > 48 h"),
    # Joins
    "index-join-min-rows": Threshold(10_000, "live rows", "as the seq-scan check (PgHero 10k)"),
}


@dataclass(frozen=True)
class Thresholds:
    overrides: Mapping[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        if name in self.overrides:
            return float(self.overrides[name])
        return THRESHOLDS[name].default


def unknown_thresholds(overrides: Mapping[str, float]) -> list[str]:
    return sorted(set(overrides) - set(THRESHOLDS))
