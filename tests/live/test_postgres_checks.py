"""Each PostgreSQL check against a throwaway server: the planted case fires, the healthy one stays silent."""

from __future__ import annotations

import time

import psycopg
import pytest

from live.helpers import anchors, by_rule, run, skipped
from live.planting import connect, held_sessions, idle_in_transaction, long_and_blocked

pytestmark = pytest.mark.live


def test_sick_database_reports_every_planted_problem(pg_server) -> None:
    result = run(pg_server.url("sick"), server_memory="8GB")
    found = by_rule(result)
    assert anchors(result, "SA604") == {"setting:statement_timeout", "setting:idle_in_transaction_session_timeout"}
    assert "table:public.events" in anchors(result, "SA608")
    assert "fk:orders(user_id)" in anchors(result, "SA609")
    assert anchors(result, "SA610") == {"index:events_payload"}
    assert anchors(result, "SA611") == {"index:orders_status"}
    assert anchors(result, "SA612") == {"index:users_email_unique", "constraint:orders.orders_amount_positive"}
    assert any("pg_sleep" in f.message for f in found["SA614"])
    assert anchors(result, "SA617") == {"sequence:public.ticket_no"}
    assert "setting:shared_buffers" in anchors(result, "SA616")
    assert "SA607" in found, "16 MB of shared_buffers under a 20 MB seq scan must miss"
    assert all(f.location.path == f"postgresql://127.0.0.1:{pg_server.port}/sick" for f in result.findings)
    assert not skipped(result)


def test_healthy_database_is_silent(pg_server) -> None:
    result = run(pg_server.url("healthy"), server_memory="64MB")
    assert result.findings == ()
    assert not skipped(result)
    notes = [d.message for d in result.diagnostics if d.kind == "check-note"]
    assert notes == ["SA619: no streaming replica is attached: reads cannot be moved off the primary"]


def test_missing_fk_index_appears_then_disappears_once_created(pg_server) -> None:
    with connect(pg_server, "sick") as admin:
        admin.execute("CREATE TABLE fk_parent (id int PRIMARY KEY); "
                      "CREATE TABLE fk_child (id int, parent_id int REFERENCES fk_parent(id), x int)")
        try:
            url = pg_server.url("sick")
            assert "fk:fk_child(parent_id)" in anchors(run(url, select=["SA609"]), "SA609")
            # Not leading: does not count.
            admin.execute("CREATE INDEX fk_child_x_parent ON fk_child (x, parent_id)")
            assert "fk:fk_child(parent_id)" in anchors(run(url, select=["SA609"]), "SA609")
            # Partial on something else: still flagged, with the reason.
            admin.execute("CREATE INDEX fk_child_partial ON fk_child (parent_id) WHERE x > 0")
            finding = next(f for f in run(url, select=["SA609"]).findings if f.anchor == "fk:fk_child(parent_id)")
            assert "partial index fk_child_partial" in finding.message
            # Leading column of a composite index: covered.
            admin.execute("CREATE INDEX fk_child_parent_x ON fk_child (parent_id, x)")
            assert "fk:fk_child(parent_id)" not in anchors(run(url, select=["SA609"]), "SA609")
        finally:
            admin.execute("DROP TABLE fk_child, fk_parent")


def test_not_null_partial_index_covers_a_foreign_key(pg_server) -> None:
    with connect(pg_server, "sick") as admin:
        admin.execute("CREATE TABLE nn_parent (id int PRIMARY KEY); "
                      "CREATE TABLE nn_child (parent_id int REFERENCES nn_parent(id)); "
                      "CREATE INDEX nn_child_parent ON nn_child (parent_id) WHERE parent_id IS NOT NULL")
        try:
            assert "fk:nn_child(parent_id)" not in anchors(run(pg_server.url("sick"), select=["SA609"]), "SA609")
        finally:
            admin.execute("DROP TABLE nn_child, nn_parent")


def test_connections_near_the_limit_and_churn(pg_server) -> None:
    url = pg_server.url("healthy")
    with held_sessions(pg_server, 13, "healthy"):
        result = run(url, select=["SA601", "SA602"])
        assert by_rule(result)["SA601"][0].severity.value == "medium"  # 13 of 17 usable: 76 %
        assert "of 17 usable" in by_rule(result)["SA601"][0].message
        assert by_rule(result)["SA602"][0].severity.value == "high"  # seconds-old sessions
    assert run(url, select=["SA601", "SA602"]).findings == ()


def test_idle_in_transaction(pg_server) -> None:
    url, limits = pg_server.url("sick"), {"idle-in-transaction-s": 0.5}
    with idle_in_transaction(pg_server):
        time.sleep(1)
        assert anchors(run(url, select=["SA603"], thresholds=limits), "SA603") == {"idle-in-transaction"}
    assert run(url, select=["SA603"], thresholds=limits).findings == ()


def test_long_running_and_blocked_queries(pg_server) -> None:
    url, limits = pg_server.url("sick"), {"long-query-s": 1, "blocked-s": 1}
    with long_and_blocked(pg_server):
        result = by_rule(run(url, select=["SA605", "SA606"], thresholds=limits))
        assert "pg_sleep(60)" in result["SA605"][0].message
        assert "SELECT count(*) FROM orders" in result["SA606"][0].message
    assert run(url, select=["SA605", "SA606"], thresholds=limits).findings == ()


def test_transaction_id_age_threshold(pg_server) -> None:
    url = pg_server.url("sick")
    assert anchors(run(url, select=["SA618"], thresholds={"xid-age": 1}), "SA618") >= {"database:sick"}
    assert run(url, select=["SA618"]).findings == ()


def test_memory_check_needs_the_servers_ram(pg_server) -> None:
    result = run(pg_server.url("healthy"), select=["SA616"])
    assert "--server-memory" in skipped(result)["SA616"]
    assert run(pg_server.url("healthy"), select=["SA616"], server_memory="64MB").findings == ()


def test_pg_monitor_role_runs_everything_but_unreadable_sequences(pg_server) -> None:
    result = run(pg_server.url("sick", user="monitor"), server_memory="8GB")
    skips = skipped(result)
    assert set(skips) == {"SA617"} and "GRANT pg_read_all_data TO monitor" in skips["SA617"]
    assert {"SA609", "SA614", "SA604", "SA612"} <= set(by_rule(result))


def test_role_without_monitoring_rights_skips_with_the_grant(pg_server) -> None:
    result = run(pg_server.url("sick", user="nobody"))
    skips = skipped(result)
    for rule in ("SA602", "SA603", "SA605", "SA606", "SA614", "SA619"):
        assert "GRANT pg_monitor TO nobody" in skips[rule], skips
    assert {"SA604", "SA609", "SA611", "SA612"} <= set(by_rule(result))  # catalog checks still run


def test_pg_stat_statements_missing_is_a_skip_with_the_remedy(pg_server) -> None:
    with connect(pg_server, "postgres") as admin:
        admin.execute("CREATE DATABASE bare")
    try:
        result = run(pg_server.url("bare"), select=["SA614"])
        assert "CREATE EXTENSION pg_stat_statements" in skipped(result)["SA614"]
    finally:
        with connect(pg_server, "postgres") as admin:
            admin.execute("DROP DATABASE bare")


def test_session_is_read_only_and_time_boxed(pg_server) -> None:
    from scaleaudit.config import CheckSettings
    from scaleaudit.live.connect import connect_postgres

    conn = connect_postgres(pg_server.url("sick"), CheckSettings(statement_timeout_ms=300, lock_timeout_ms=200))
    try:
        row = conn.execute("SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt, "
                           "current_setting('application_name') AS app").fetchone()
        assert row == {"st": "300ms", "lt": "200ms", "app": "scaleaudit"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE scaleaudit_must_not_exist (id int)")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(2)")
    finally:
        conn.close()


def test_a_timed_out_check_is_skipped_and_the_rest_go_on(pg_server) -> None:
    from scaleaudit.config import CheckSettings
    from scaleaudit.live import postgres as pgc
    from scaleaudit.live.api import Outcome, _pg_error_to_skip, _run_checks
    from scaleaudit.live.base import Thresholds
    from scaleaudit.live.connect import Target, connect_postgres

    conn = connect_postgres(pg_server.url("sick"), CheckSettings(statement_timeout_ms=200))
    try:
        probe = pgc.PgProbe(conn, Thresholds())
        pgc.capabilities(probe)
        outcome = Outcome(Target("pg", "pg"))
        slow = ("SA605", lambda p: p.rows("SELECT pg_sleep(1)") and [])
        _run_checks(probe, [slow, ("SA612", pgc.check_invalid)], frozenset({"SA605", "SA612"}), outcome,
                    _pg_error_to_skip(probe, 200))
        assert [(rule, s.reason) for rule, s in outcome.skips] == [("SA605", "timed out after statement_timeout=200 ms")]
        assert {h.rule for h in outcome.hits} == {"SA612"}
    finally:
        conn.close()


def test_every_statement_scaleaudit_sends_is_a_read(pg_server) -> None:
    """log_statement=all records each statement with its application_name: only reads from us."""
    before = len(pg_server.log_text())
    run(pg_server.url("sick"), server_memory="8GB")
    time.sleep(0.2)
    ours = pg_server.statements_by("scaleaudit", before)
    assert len(ours) >= 20
    assert all(s.split(None, 1)[0].upper() in ("SELECT", "SHOW") for s in ours), ours
