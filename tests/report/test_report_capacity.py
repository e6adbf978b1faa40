"""The capacity formula, on cases computed by hand."""

from __future__ import annotations

import pytest

from scaleaudit.capacity import fleet_connections, redis_connections, request_concurrency
from scaleaudit.config import Settings
from scaleaudit.model import Fact, Location, Span
from scaleaudit.report.build import Load, build_capacity, pool_size, users_for


def _site(kind: str, service: str, **values: object) -> Fact:
    return Fact(
        "client-site",
        Location("app/db.py", Span(1, 1, 1, 2)),
        {"kind": kind, "service": service, "scope": "module", "pooled": True, "pool_values": values},
    )


def test_little_law_review_default() -> None:
    # 1000 users × 0.2 req/s = 200 req/s; × 0.020 s = 4 busy; × 3 peak = 12
    c = request_concurrency(1000, 0.2, 20, 3)
    assert (c.requests_per_second, c.mean_db_busy, c.peak_db_busy) == (200, 4, 12)


def test_little_law_rounds_peak_up() -> None:
    # 750 × 0.1 = 75 req/s; × 0.045 s = 3.375 busy; × 2 = 6.75 -> 7
    c = request_concurrency(750, 0.1, 45, 2)
    assert c.requests_per_second == pytest.approx(75)
    assert c.mean_db_busy == pytest.approx(3.375)
    assert c.peak_db_busy == 7
    assert "75 req/s" in c.basis


def test_exact_peak_is_not_rounded_up() -> None:
    # 10_000 × 0.3 = 3000 req/s; × 0.010 = 30 busy; × 1.5 = 45 exactly
    assert request_concurrency(10_000, 0.3, 10, 1.5).peak_db_busy == 45


def test_fleet_connections_review_case() -> None:
    # SQLAlchemy defaults 5 + 10, 4 workers, 2 instances: 15 × 8 = 120
    assert fleet_connections(5, 10, 4, 2) == 120


def test_redis_connections() -> None:
    assert redis_connections([20, 10], 8) == 240  # (20 + 10) × 8 processes
    assert redis_connections([20, None], 8) is None  # one unbounded pool makes the fleet unbounded


def test_pool_size_defaults_and_literals() -> None:
    assert pool_size(_site("sqlalchemy-engine", "sql")) == 15
    assert pool_size(_site("sqlalchemy-engine", "sql", pool_size=7, max_overflow=4)) == 11
    assert pool_size(_site("psycopg-connection", "postgres")) == 1


def test_budget_sums_every_pool_of_every_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # two engines (7+4, 2+0) per process = 13; 3 workers × 2 instances = 6 processes -> 78 of 90 usable
    facts = [
        _site("sqlalchemy-engine", "sql", pool_size=7, max_overflow=4),
        _site("sqlalchemy-engine", "sql", pool_size=2, max_overflow=0),
    ]
    c = build_capacity(facts, Load(users=1000, workers=3, instances=2), Settings(root=tmp_path))
    assert (c.pool_per_process, c.processes, c.fleet_connections, c.usable, c.fits) == (13, 6, 78, 90, True)
    c = build_capacity(facts, Load(users=1000, workers=4, instances=2), Settings(root=tmp_path))
    assert (c.fleet_connections, c.fits) == (104, False)
    sources = {a.name: a.source for a in c.assumptions}
    assert sources["workers per instance"] == "flag" and sources["max_connections"] == "default"


def test_users_for_inverts_the_estimate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 0.2 req/s × 0.02 s × 3 = 0.012 busy connections per user; 90 usable / 0.012 = 7500 users
    c = build_capacity([], Load(users=1000), Settings(root=tmp_path))
    assert users_for(c, 90) == 7500
