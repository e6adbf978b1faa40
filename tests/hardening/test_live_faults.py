"""Item 4 of issue 9: `scaleaudit check` against real servers that misbehave.

Each fault ends in one of two ways: the remaining checks still run (the
faulty one is a `check-skipped` diagnostic), or the run stops with one line
on stderr and exit 2. No output ever holds the password.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from live.conftest import PASSWORD, QUOTED_PASSWORD, PgServer, RedisServer, free_port
from live.conftest import pg_server as pg_server
from live.conftest import redis_servers as redis_servers
from live.helpers import settings as check_settings
from live.helpers import skipped

from scaleaudit.live.api import run_check

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]

ODD_PASSWORD = "p@ss:w/o?r#d%20&é ;'\""


def admin(server: PgServer, db: str = "sick") -> psycopg.Connection[Any]:
    return psycopg.connect(server.url(db), autocommit=True)


def cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """`scaleaudit check ARGS` in a fresh interpreter; `prelude` runs first (it picks the moment of a fault)."""
    code = prelude + "\nfrom scaleaudit.cli import main\nmain()\n"
    env = {"PATH": "/usr/bin:/bin", "SCALEAUDIT_NO_CONFIG": "1", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", code, "check", *args], capture_output=True, text=True, env=env,
                          timeout=90)


def assert_no_secret(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in (PASSWORD, QUOTED_PASSWORD, *secrets):
        assert secret not in done.stdout and secret not in done.stderr, secret


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaleaudit: error: "), done.stderr
    return lines[0]


# --- the session dies under us ------------------------------------------------------

_TERMINATE_AFTER_CAPABILITIES = """
import psycopg
from scaleaudit.live import postgres as pgc
_real = pgc.capabilities
def _capabilities(probe):
    _real(probe)
    with psycopg.connect({admin_url!r}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (probe.conn.info.backend_pid,))
pgc.capabilities = _capabilities
"""


def test_backend_terminated_mid_check_is_one_line_exit_2(pg_server: PgServer) -> None:
    prelude = _TERMINATE_AFTER_CAPABILITIES.format(admin_url=pg_server.url("sick"))
    done = cli("--database-url", pg_server.url("sick", user="app", password=True), prelude=prelude)
    line = assert_one_line_exit_2(done)
    assert "PostgreSQL" in line
    assert_no_secret(done)


_KILL_AFTER_CONNECT = """
import redis
from scaleaudit.live import api
_real = api.connect_redis
def _connect(url, settings):
    client = _real(url, settings)
    redis.Redis(port={port}, password={password!r}).client_kill_filter(_id=client.client_id())
    return client
api.connect_redis = _connect
"""


def test_redis_client_killed_mid_check(redis_servers: tuple[RedisServer, RedisServer]) -> None:
    sick, _ = redis_servers
    prelude = _KILL_AFTER_CONNECT.format(port=sick.port, password=PASSWORD)
    done = cli("--redis-url", sick.url, "--format", "json", prelude=prelude)
    assert_no_secret(done)
    if done.returncode == 2:
        assert "Redis" in assert_one_line_exit_2(done)
    else:  # redis-py reconnected: the checks ran on a new connection
        assert done.returncode in (0, 1), done.stderr
        json.loads(done.stdout)


# --- slow or locked catalogs ----------------------------------------------------------

@contextmanager
def locked(server: PgServer, statement: str) -> Iterator[None]:
    """Hold a lock in another session (an open transaction) for the duration."""
    conn = psycopg.connect(server.url("sick"))
    try:
        conn.execute(statement)
        yield
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("statement", [
    "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE",
    "LOCK TABLE pg_catalog.pg_class IN SHARE ROW EXCLUSIVE MODE",
])
def test_a_lock_held_by_another_session(pg_server: PgServer, statement: str) -> None:
    with locked(pg_server, statement):
        started = time.perf_counter()
        result = run_check(pg_server.url("sick"), None, check_settings(lock_timeout_ms=300, statement_timeout_ms=2000),
                           server_memory="8GB")
        elapsed = time.perf_counter() - started
    ran = {f.rule for f in result.findings}
    assert ran, result.diagnostics  # the checks the lock does not touch still report
    assert elapsed < 30, elapsed
    for message in skipped(result).values():
        assert "lock" in message or "timed out" in message, message


def test_catalog_locked_exclusively_times_out_each_check_and_goes_on(pg_server: PgServer) -> None:
    """An ACCESS EXCLUSIVE lock on pg_class: every catalog read waits for lock_timeout, then is skipped."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = run_check(pg_server.url("sick"), None,
                                        check_settings(lock_timeout_ms=200, statement_timeout_ms=1000),
                                        server_memory="8GB")
        except Exception as exc:
            result["error"] = exc

    with locked(pg_server, "LOCK TABLE pg_catalog.pg_class IN ACCESS EXCLUSIVE MODE"):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=60)
    worker.join(timeout=30)
    assert not worker.is_alive()
    if "error" in result:
        assert type(result["error"]).__name__ == "LiveError", result["error"]
        assert PASSWORD not in str(result["error"])
    else:
        skips = skipped(result["value"])
        assert skips and all("lock" in m or "timed out" in m for m in skips.values()), skips


def test_statement_timeout_on_a_slow_catalog_skips_checks_and_the_run_completes(pg_server: PgServer) -> None:
    """1,000 extra tables with keys make the index and foreign-key catalog queries slow; a 1 ms budget trips them."""
    with admin(pg_server) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bulk")
        for start in range(1, 1001, 100):  # batches: one transaction cannot hold 1,000 tables' locks
            conn.execute(f"DO $$ BEGIN FOR i IN {start}..{start + 99} LOOP EXECUTE format("
                         "'CREATE TABLE IF NOT EXISTS bulk.t%s (id int PRIMARY KEY, ref int REFERENCES bulk.t%s(id))',"
                         " i, greatest(i - 1, 1)); END LOOP; END $$")
    try:
        started = time.perf_counter()
        result = run_check(pg_server.url("sick"), None, check_settings(statement_timeout_ms=1, lock_timeout_ms=1),
                           server_memory="8GB")
        assert time.perf_counter() - started < 30
        skips = skipped(result)
        assert any("timed out after statement_timeout=1 ms" in m for m in skips.values()), skips
        assert all("timed out" in m or "lock" in m for m in skips.values()), skips
    finally:
        with admin(pg_server) as conn:
            for start in range(1000, 0, -100):  # newest first: each batch only references older tables
                conn.execute(f"DO $$ BEGIN FOR i IN REVERSE {start}..{start - 99} LOOP "
                             "EXECUTE format('DROP TABLE IF EXISTS bulk.t%s CASCADE', i); END LOOP; END $$")
            conn.execute("DROP SCHEMA bulk CASCADE")


# --- wrong targets ------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "url_of"), [
    ("database does not exist", lambda pg: pg.url("no_such_db", user="app", password=True)),
    ("wrong port", lambda pg: f"postgresql://app:{QUOTED_PASSWORD}@127.0.0.1:{free_port()}/sick"),
    ("tls required, server has none", lambda pg: f"postgresql://app:{QUOTED_PASSWORD}@127.0.0.1:{pg.port}/sick"
                                         "?sslmode=require"),
    ("odd user and db", lambda pg: f"postgresql://{quote('ü s/e@r:', safe='')}:{quote(ODD_PASSWORD, safe='')}"
                                   f"@127.0.0.1:{pg.port}/{quote('d b#?/é', safe='')}"),
    ("password in the query", lambda pg: f"postgresql://127.0.0.1:{pg.port}/sick?user=app&password={QUOTED_PASSWORD}x"),
    ("keyword form", lambda pg: f"host=127.0.0.1 port={pg.port} dbname=sick user=app password='{PASSWORD}x'"),
])
def test_wrong_targets_are_one_line_exit_2_without_the_password(pg_server: PgServer, case: str, url_of: Any) -> None:
    done = cli("--database-url", url_of(pg_server))
    assert_one_line_exit_2(done)
    assert_no_secret(done, ODD_PASSWORD, quote(ODD_PASSWORD, safe=""), PASSWORD + "x")


def test_redis_on_a_postgres_port_and_postgres_on_a_redis_port(pg_server: PgServer,
                                                               redis_servers: tuple[RedisServer, RedisServer]) -> None:
    sick, _ = redis_servers
    for args in (["--redis-url", f"redis://:{QUOTED_PASSWORD}@127.0.0.1:{pg_server.port}/0"],
                 ["--database-url", f"postgresql://app:{QUOTED_PASSWORD}@127.0.0.1:{sick.port}/sick"]):
        done = cli(*args)
        assert_one_line_exit_2(done)
        assert_no_secret(done)


def test_odd_characters_in_a_working_url(pg_server: PgServer) -> None:
    """A role whose password holds every URL delimiter connects when percent-encoded, and never leaks."""
    with admin(pg_server, "postgres") as conn:
        conn.execute("DROP ROLE IF EXISTS odd")
        conn.execute(psycopg.sql.SQL("CREATE ROLE odd LOGIN PASSWORD {}").format(psycopg.sql.Literal(ODD_PASSWORD)))
        conn.execute("GRANT pg_monitor TO odd")
    try:
        url = f"postgresql://odd:{quote(ODD_PASSWORD, safe='')}@127.0.0.1:{pg_server.port}/sick"
        done = cli("--database-url", url, "--format", "json", "--verbose")
        assert done.returncode in (0, 1), done.stderr
        assert json.loads(done.stdout)["findings"]
        assert_no_secret(done, ODD_PASSWORD, quote(ODD_PASSWORD, safe=""))
        wrong = cli("--database-url", url.replace("odd:", "odd:x"))
        assert_one_line_exit_2(wrong)
        assert_no_secret(wrong, ODD_PASSWORD, quote(ODD_PASSWORD, safe=""))
    finally:
        with admin(pg_server, "postgres") as conn:
            conn.execute("DROP OWNED BY odd")
            conn.execute("DROP ROLE odd")


def test_every_statement_under_faults_is_a_read(pg_server: PgServer) -> None:
    """log_statement=all on the throwaway server: even while locks and timeouts interfere, nothing writes."""
    before = len(pg_server.log_text())
    with locked(pg_server, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"):
        run_check(pg_server.url("sick"), None, check_settings(lock_timeout_ms=200, statement_timeout_ms=500))
    run_check(pg_server.url("sick"), None, check_settings(statement_timeout_ms=1))
    time.sleep(0.3)
    ours = pg_server.statements_by("scaleaudit", before)
    assert len(ours) >= 20
    assert all(s.split(None, 1)[0].upper() in ("SELECT", "SHOW") for s in ours), [
        s for s in ours if s.split(None, 1)[0].upper() not in ("SELECT", "SHOW")]
