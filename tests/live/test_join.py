"""Code × live joins, with facts built the way the front ends emit them."""

from __future__ import annotations

from typing import Any

import pytest

from live.helpers import anchors, run
from scaleaudit.model import Fact, Location, Span

pytestmark = pytest.mark.live


def fact(fact_kind: str, path: str = "app/models.py", line: int = 3, **data: Any) -> Fact:
    return Fact(fact_kind, Location(path, Span(line, 1, line, 10)), data)


def engine(pool_size: int, max_overflow: int, path: str = "app/db.py") -> Fact:
    return fact("client-site", path, 8, kind="sqlalchemy-engine", service="sql", scope="module", pooled=True,
                pool_values={"pool_size": pool_size, "max_overflow": max_overflow})


def test_connection_budget_needs_code_and_server(pg_server) -> None:
    url = pg_server.url("healthy")
    result = run(url, facts=[engine(10, 20)], workers=4, instances=2, select=["SA690"])
    (finding,) = result.findings
    assert finding.location.path == "app/db.py" and finding.location.span.line == 8
    assert "can open 240 connections" in finding.message and "allows 17" in finding.message
    assert "4 worker(s) (--workers) × 2 instance(s) (--instances)" in finding.message
    assert run(url, facts=[engine(2, 1)], workers=2, instances=2, select=["SA690"]).findings == ()


def test_process_model_facts_size_the_fleet(pg_server) -> None:
    facts = [engine(3, 2), fact("process-model", "gunicorn.conf.py", 1, source="gunicorn", workers=5, instances=None)]
    (finding,) = run(pg_server.url("healthy"), facts=facts, select=["SA690"]).findings
    assert "5 worker(s) (gunicorn)" in finding.message and "25 connections" in finding.message


def test_library_default_pool_counts_when_the_code_sets_none(pg_server) -> None:
    facts = [fact("client-site", "app/a.py", 2, kind="sqlalchemy-engine", service="sql", scope="module",
                  pooled=True, pool_values={})]
    (finding,) = run(pg_server.url("healthy"), facts=facts, workers=2, select=["SA690"]).findings
    assert "30 connections" in finding.message  # (5 + 10) × 2


def test_query_columns_without_a_live_index_on_a_big_table(pg_server) -> None:
    url = pg_server.url("sick")
    facts = [
        fact("query-filter", "app/views.py", 10, orm="django", model="Order", table="orders", columns=["amount"],
             clause="where"),
        fact("query-filter", "app/views.py", 11, orm="django", model="Event", table="events", columns=["payload"],
             clause="where"),
        fact("query-filter", "app/views.py", 12, orm="django", model="User", table="users", columns=["email"],
             clause="where"),
        fact("query-filter", "app/views.py", 13, orm="django", model="Order", table=None, columns=["total"],
             clause="order_by"),
        # The attribute `total` is stored in the column `amount` (db_column).
        fact("model", orm="django", name="Order", table="orders", indexes=[],
             fields=[{"name": "total", "column": "amount", "fk_table": None, "indexed": False, "unique": False,
                      "pk": False}]),
    ]
    result = run(url, facts=facts, select=["SA691"])
    assert anchors(result, "SA691") == {"filter:public.orders(amount):where", "filter:public.orders(amount):order_by"}
    assert {f.location.span.line for f in result.findings} == {10, 13}
    assert "30,000 rows" in result.findings[0].message


def test_model_indexes_against_the_database(pg_server) -> None:
    order = fact("model", orm="sqlalchemy", name="Order", table="orders", fields=[
        {"name": "id", "column": "id", "fk_table": None, "indexed": False, "unique": False, "pk": True},
        {"name": "user_id", "column": "user_id", "fk_table": "users", "indexed": True, "unique": False, "pk": False},
        {"name": "status", "column": "status", "fk_table": None, "indexed": True, "unique": False, "pk": False},
    ], indexes=[])
    result = run(pg_server.url("sick"), facts=[order], select=["SA692", "SA693"])
    assert anchors(result, "SA692") == {"model-index:public.orders(user_id)"}  # migration not applied
    assert anchors(result, "SA693") == {"db-index:orders_status_created"}  # in the database only
    assert all(f.location.path == "app/models.py" for f in result.findings)


def test_redis_prefix_without_ttl_confirmed_by_live_keys(redis_servers) -> None:
    sick, _ = redis_servers
    facts = [
        fact("redis-write", "app/sessions.py", 5, command="set", prefix="session:", ttl=False),
        fact("redis-write", "app/cache.py", 6, command="set", prefix="cache:product:", ttl=True),
        fact("redis-write", "app/other.py", 7, command="set", prefix="never-written:", ttl=False),
    ]
    result = run(redis_url=sick.url, facts=facts, select=["SA694"])
    (finding,) = result.findings
    assert finding.anchor == "redis-prefix:session:" and finding.location.path == "app/sessions.py"
    assert "300 of 300 sampled" in finding.message


def test_eviction_policy_against_the_codes_use(redis_servers) -> None:
    sick, good = redis_servers
    cache_only = [fact("redis-write", "app/cache.py", 6, command="set", prefix="cache:product:", ttl=True)]
    (finding,) = run(redis_url=sick.url, facts=cache_only, select=["SA695"]).findings  # noeviction for a cache
    assert "noeviction" in finding.message and finding.location.path == "app/cache.py"
    assert run(redis_url=good.url, facts=cache_only, select=["SA695"]).findings == ()  # volatile-lru


def test_allkeys_policy_on_a_cache_that_is_also_a_queue() -> None:
    from live.test_redis_checks import throwaway, url_of

    facts = [fact("redis-write", "app/cache.py", 6, command="set", prefix="cache:", ttl=True),
             fact("redis-write", "app/jobs.py", 9, command="rpush", prefix="queue:emails", ttl=False)]
    with throwaway("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru") as client:
        (finding,) = run(redis_url=url_of(client), facts=facts, select=["SA695"]).findings
        assert finding.severity.value == "high" and finding.location.path == "app/jobs.py"
        assert "cache and queue" in finding.message
        assert run(redis_url=url_of(client), facts=facts[:1], select=["SA695"]).findings == ()
