"""The planted problems (database `sick`, Redis `sick`) and their healthy twins.

Statistics-based checks need a workload first, so this module runs one: seq
scans on a big table, cache misses through a 16 MB shared_buffers, slow
statements for pg_stat_statements, hits and misses in Redis.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import redis

if TYPE_CHECKING:
    from live.conftest import PgServer, RedisServer

SICK_SCHEMA = """
CREATE EXTENSION pg_stat_statements;
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),
                     status text NOT NULL, amount numeric NOT NULL, created_at timestamptz DEFAULT now());
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_status_created ON orders (status, created_at);
CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL);
CREATE INDEX events_payload ON events (payload);
CREATE SEQUENCE ticket_no AS smallint;
SELECT setval('ticket_no', 32000);
INSERT INTO users (email) SELECT 'u' || (g % 1000) || '@example.com' FROM generate_series(1, 2000) g;
INSERT INTO orders (user_id, status, amount)
  SELECT 1 + g % 2000, (ARRAY['new','paid','shipped'])[1 + g % 3], g % 500 FROM generate_series(1, 30000) g;
INSERT INTO events (payload) SELECT md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 150000) g;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
"""

HEALTHY_SCHEMA = """
CREATE EXTENSION pg_stat_statements;
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), status text NOT NULL);
CREATE INDEX orders_user_id ON orders (user_id);
CREATE INDEX orders_status ON orders (status) WHERE status <> 'done';
INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 500) g;
INSERT INTO orders (user_id, status) SELECT 1 + g % 500, 'new' FROM generate_series(1, 2000) g;
ALTER DATABASE healthy SET statement_timeout = '30s';
ALTER DATABASE healthy SET idle_in_transaction_session_timeout = '60s';
ALTER DATABASE healthy SET work_mem = '2MB';
"""


def connect(server: PgServer, db: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(server.url(db), autocommit=True, **kwargs)


def settle_insert_stats(conn: psycopg.Connection[Any], inserted: dict[str, int], timeout_s: float = 15.0) -> None:
    """Wait until the inserting backend's statistics have reached the shared counters.

    A backend flushes its table counters lazily (PostgreSQL 15: at most once a second,
    or when it exits). If VACUUM ANALYZE sets n_live_tup first, the late flush adds the
    inserts on top: 30,000 rows read as 60,000 on a loaded machine.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = conn.execute("SELECT relname, n_tup_ins FROM pg_stat_user_tables").fetchall()
        seen = {name: count for name, count in rows}
        if all(seen.get(table, 0) >= count for table, count in inserted.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"insert statistics never arrived: {inserted}")


def plant_postgres(server: PgServer) -> None:
    with connect(server, "postgres") as admin:
        admin.execute("CREATE DATABASE sick")
        admin.execute("CREATE DATABASE healthy")
        admin.execute("CREATE ROLE monitor LOGIN IN ROLE pg_monitor")
        admin.execute("CREATE ROLE nobody LOGIN")
        admin.execute("CREATE ROLE app LOGIN PASSWORD 's3cr%t-pa55word'")
    with connect(server, "sick") as conn:
        conn.execute(SICK_SCHEMA)
        # A unique index built concurrently over duplicates fails and stays INVALID.
        with contextlib.suppress(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_unique ON users (email)")
    with connect(server, "sick") as conn:
        settle_insert_stats(conn, {"orders": 30000, "events": 150000})
        conn.execute("VACUUM ANALYZE")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO app")
        sick_workload(conn)
    with connect(server, "healthy") as conn:
        conn.execute(HEALTHY_SCHEMA)
    with connect(server, "healthy") as conn:
        settle_insert_stats(conn, {"users": 500, "orders": 2000})
        conn.execute("VACUUM ANALYZE")
        for user_id in range(1, 200):
            conn.execute("SELECT * FROM orders WHERE user_id = %s", (user_id,)).fetchall()
            conn.execute("SELECT * FROM users WHERE email = %s", (f"u{user_id}@example.com",)).fetchall()


def sick_workload(conn: psycopg.Connection[Any]) -> None:
    """Seq scans on a big table, reads that miss shared_buffers, and slow statements."""
    for _ in range(5):
        conn.execute("SELECT count(*) FROM orders WHERE amount = 7").fetchall()
        conn.execute("SELECT count(*) FROM events WHERE payload LIKE '%ff%'").fetchall()
    for _ in range(100):
        conn.execute("SELECT pg_sleep(0.021)").fetchall()


@contextlib.contextmanager
def held_sessions(server: PgServer, count: int, db: str = "sick") -> Iterator[list[psycopg.Connection[Any]]]:
    conns = [connect(server, db) for _ in range(count)]
    pids = [conn.info.backend_pid for conn in conns]
    try:
        yield conns
    finally:
        for conn in conns:
            conn.close()
        _wait_for_backends_gone(server, db, pids)


def _wait_for_backends_gone(server: PgServer, db: str, pids: list[int], timeout: float = 10.0) -> None:
    """A closed client's backend exits asynchronously; a check run right after
    would still count it (the churn test failed that way once in CI)."""
    deadline = time.monotonic() + timeout
    with connect(server, db) as probe:
        while time.monotonic() < deadline:
            row = probe.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()
            if row is None or row[0] == 0:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def idle_in_transaction(server: PgServer) -> Iterator[None]:
    conn = psycopg.connect(server.url("sick"))
    conn.execute("SELECT 1 FROM users LIMIT 1")  # opens a transaction and leaves it open
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@contextlib.contextmanager
def long_and_blocked(server: PgServer) -> Iterator[None]:
    """A session holding a lock for the duration, one waiting on it, and one long sleep."""
    holder = psycopg.connect(server.url("sick"))
    holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    waiters: list[psycopg.Connection[Any]] = []

    def run(sql: str) -> None:
        conn = connect(server, "sick")
        waiters.append(conn)
        with contextlib.suppress(psycopg.Error):
            conn.execute(sql)

    threads = [threading.Thread(target=run, args=(sql,), daemon=True)
               for sql in ("SELECT count(*) FROM orders", "SELECT pg_sleep(60)")]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        for conn in list(waiters):
            conn.cancel_safe()
        for thread in threads:
            thread.join(timeout=10)
        for conn in waiters:
            conn.close()


def plant_redis(sick: RedisServer, good: RedisServer) -> None:
    bad = redis.Redis(port=sick.port, password=sick.password)
    pipe = bad.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"session:{i}", "x" * 50)  # sessions without expiry
        pipe.set(f"cache:product:{i}", "y" * 50, ex=3600)
    pipe.rpush("queue:emails", *[f"job{i}" for i in range(1500)])  # a big list
    pipe.set("blob:report", "z" * 200_000)  # a big string
    pipe.execute()
    for i in range(2000):
        pipe.get(f"missing:{i}")  # misses drive the hit rate down
    pipe.execute()
    # A Lua busy loop is slow enough (well over 10 ms) to land in the slowlog.
    bad.eval("local i = 0 while i < 3000000 do i = i + 1 end return i", 0)
    bad.close()
    ok = redis.Redis(port=good.port)
    for i in range(200):
        ok.set(f"cache:product:{i}", "y" * 50, ex=3600)
    for _ in range(5):
        for i in range(200):
            ok.get(f"cache:product:{i}")
    ok.close()
