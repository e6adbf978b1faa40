"""Read-only checks against a live PostgreSQL (catalog and statistics views only).

Each check is one function `(probe) -> list[Hit]` registered in `CHECKS` with its
rule id. Every listing has a LIMIT and every query text is cut to 200
characters, so a catalog with a million objects stays cheap. `run()` maps the
errors a production server hands back (no privilege, extension missing, the
statement timeout) to a skipped check with the grant that would enable it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from scaleaudit.live.base import Hit, Note, Skip, Thresholds
from scaleaudit.model import Severity

Row = dict[str, Any]
QUERY_CHARS = 200
LIST_LIMIT = 20
CATALOG_LIMIT = 5000
_TYPE_MAX = {"smallint": 32767, "integer": 2**31 - 1, "bigint": 2**63 - 1}


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    columns: tuple[str, ...]  # "(expr)" for an expression column
    unique: bool
    primary: bool
    valid: bool
    predicate: str | None
    method: str
    opclasses: tuple[int, ...]
    constraint: bool  # backs a PK/UNIQUE/EXCLUDE constraint

    @property
    def plain(self) -> bool:
        return "(expr)" not in self.columns


@dataclass
class PgProbe:
    conn: psycopg.Connection[Any]
    limits: Thresholds
    server_memory: int | None = None
    user: str = ""
    read_all_stats: bool = False
    notes: list[Note] = field(default_factory=list)
    _indexes: list[Index] | None = None
    _tables: dict[str, int] | None = None

    def rows(self, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        return list(self.conn.execute(query, params).fetchall())

    def one(self, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()) -> Row:
        found = self.rows(query, params)
        return found[0] if found else {}

    def need_stats(self, what: str) -> None:
        """Other sessions' state and query text are hidden without pg_read_all_stats."""
        if not self.read_all_stats:
            raise Skip(f"role {self.user} sees only its own sessions' {what}", f"GRANT pg_monitor TO {self.user}")

    @property
    def indexes(self) -> list[Index]:
        if self._indexes is None:
            self._indexes = [_index(r) for r in self.rows(INDEXES_SQL, (CATALOG_LIMIT,))]
        return self._indexes

    @property
    def tables(self) -> dict[str, int]:
        """Live row counts by qualified name (public tables also by bare name)."""
        if self._tables is None:
            rows = self.rows(
                "SELECT schemaname, relname, n_live_tup FROM pg_stat_user_tables ORDER BY n_live_tup DESC LIMIT %s",
                (CATALOG_LIMIT,),
            )
            self._tables = {}
            for r in rows:
                self._tables[f"{r['schemaname']}.{r['relname']}"] = int(r["n_live_tup"])
                if r["schemaname"] == "public":
                    self._tables.setdefault(r["relname"], int(r["n_live_tup"]))
        return self._tables


INDEXES_SQL = """
SELECT i.indrelid::regclass::text AS tbl, ci.relname AS name, i.indisunique AS uniq, i.indisprimary AS pk,
       i.indisvalid AS valid, pg_get_expr(i.indpred, i.indrelid) AS pred, am.amname AS method,
       i.indclass::int[] AS opclasses,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p','u','x')) AS con,
       ARRAY(SELECT coalesce(a.attname::text, '(expr)')
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols
FROM pg_index i
JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_class ct ON ct.oid = i.indrelid
JOIN pg_am am ON am.oid = ci.relam
WHERE ct.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND ct.relnamespace::regnamespace::text NOT LIKE 'pg_toast%%'
ORDER BY 1, 2
LIMIT %s
"""


def _index(r: Row) -> Index:
    return Index(
        table=r["tbl"],
        name=r["name"],
        columns=tuple(r["cols"]),
        unique=r["uniq"],
        primary=r["pk"],
        valid=r["valid"],
        predicate=r["pred"],
        method=r["method"],
        opclasses=tuple(r["opclasses"] or ()),
        constraint=r["con"],
    )


def covers(index: Index, columns: Sequence[str]) -> bool:
    """The index's leading columns are exactly `columns`, in any order (leftmost prefix)."""
    n = len(columns)
    return n > 0 and index.valid and set(index.columns[:n]) == set(columns) and len(index.columns) >= n


def _age(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _size(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"  # pragma: no cover


def _query(text: str | None) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= 80 else one_line[:77] + "..."


# --- connections -------------------------------------------------------------------------------------------


def check_connections(p: PgProbe) -> list[Hit]:
    r = p.one("""
        SELECT count(*) FILTER (WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) AS used,
               count(*) FILTER (WHERE state = 'idle' AND pid <> pg_backend_pid()) AS idle,
               current_setting('max_connections')::int AS max_conn,
               current_setting('superuser_reserved_connections')::int
                 + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved
        FROM pg_stat_activity""")
    usable = max(1, r["max_conn"] - r["reserved"])
    share = r["used"] / usable
    if share < p.limits["connections-warn"]:
        return []
    severity = Severity.HIGH if share >= p.limits["connections-high"] else Severity.MEDIUM
    values = {"used": r["used"], "usable": usable, "max": r["max_conn"], "reserved": r["reserved"],
              "share": f"{share:.0%}", "idle": r["idle"]}
    return [Hit("SA601", "connections", values, severity=severity)]


def check_churn(p: PgProbe) -> list[Hit]:
    p.need_stats("backend start times")
    r = p.one("""
        SELECT count(*) AS n, extract(epoch FROM avg(now() - backend_start))::float AS mean_age
        FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND coalesce(application_name, '') <> 'scaleaudit'""")
    if r["n"] < p.limits["churn-min-sessions"] or r["mean_age"] is None:
        return []
    if r["mean_age"] >= p.limits["churn-warn-s"]:
        return []
    severity = Severity.HIGH if r["mean_age"] < p.limits["churn-bad-s"] else Severity.MEDIUM
    return [Hit("SA602", "connection-churn", {"sessions": r["n"], "age": _age(r["mean_age"])}, severity=severity)]


def check_idle_in_transaction(p: PgProbe) -> list[Hit]:
    p.need_stats("state")
    rows = p.rows("""
        SELECT pid, usename, application_name, extract(epoch FROM now() - state_change)::float AS age,
               left(query, %s) AS query
        FROM pg_stat_activity
        WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
          AND now() - state_change > make_interval(secs => %s)
        ORDER BY age DESC LIMIT %s""", (QUERY_CHARS, p.limits["idle-in-transaction-s"], LIST_LIMIT))
    if not rows:
        return []
    oldest = rows[0]
    values = {"count": len(rows), "age": _age(oldest["age"]), "user": oldest["usename"],
              "app": oldest["application_name"] or "?", "query": _query(oldest["query"])}
    return [Hit("SA603", "idle-in-transaction", values)]


def check_timeouts(p: PgProbe) -> list[Hit]:
    settings = p.rows("""
        SELECT name, reset_val FROM pg_settings
        WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout') ORDER BY name""")
    role_set = {r["name"] for r in p.rows("""
        SELECT split_part(cfg, '=', 1) AS name
        FROM pg_db_role_setting s, unnest(s.setconfig) cfg
        WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
          AND split_part(cfg, '=', 2) NOT IN ('0', '')
        LIMIT 1000""")}
    return [
        Hit("SA604", f"setting:{s['name']}", {"setting": s["name"]})
        for s in settings
        if s["reset_val"] in ("0", "") and s["name"] not in role_set
    ]


def check_long_running(p: PgProbe) -> list[Hit]:
    p.need_stats("queries")
    rows = p.rows("""
        SELECT pid, extract(epoch FROM now() - query_start)::float AS age, left(query, %s) AS query
        FROM pg_stat_activity
        WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND now() - query_start > make_interval(secs => %s)
          AND NOT (wait_event_type IS NOT DISTINCT FROM 'Lock')
        ORDER BY age DESC LIMIT %s""", (QUERY_CHARS, p.limits["long-query-s"], LIST_LIMIT))
    if not rows:
        return []
    values = {"count": len(rows), "age": _age(rows[0]["age"]), "query": _query(rows[0]["query"])}
    return [Hit("SA605", "long-running", values)]


def check_blocked(p: PgProbe) -> list[Hit]:
    p.need_stats("queries")
    rows = p.rows("""
        SELECT pid, pg_blocking_pids(pid) AS blockers, extract(epoch FROM now() - query_start)::float AS age,
               left(query, %s) AS query
        FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND cardinality(pg_blocking_pids(pid)) > 0
          AND now() - query_start > make_interval(secs => %s)
        ORDER BY age DESC LIMIT %s""", (QUERY_CHARS, p.limits["blocked-s"], LIST_LIMIT))
    if not rows:
        return []
    first = rows[0]
    values = {"count": len(rows), "age": _age(first["age"]), "query": _query(first["query"]),
              "blockers": ", ".join(str(b) for b in first["blockers"][:5])}
    return [Hit("SA606", "blocked", values)]


# --- statistics --------------------------------------------------------------------------------------------


def check_cache_hit(p: PgProbe) -> list[Hit]:
    r = p.one("""
        SELECT (SELECT coalesce(sum(heap_blks_hit), 0) FROM pg_statio_user_tables)
             + (SELECT coalesce(sum(idx_blks_hit), 0) FROM pg_statio_user_indexes) AS hit,
               (SELECT coalesce(sum(heap_blks_read), 0) FROM pg_statio_user_tables)
             + (SELECT coalesce(sum(idx_blks_read), 0) FROM pg_statio_user_indexes) AS read""")
    total = int(r["hit"]) + int(r["read"])
    if total < p.limits["cache-min-blocks"]:
        return []
    ratio = int(r["hit"]) / total
    if ratio >= p.limits["cache-hit-ratio"]:
        return []
    return [Hit("SA607", "cache-hit-ratio", {"ratio": f"{ratio:.1%}", "blocks": total})]


def check_seq_scans(p: PgProbe) -> list[Hit]:
    rows = p.rows("""
        SELECT schemaname || '.' || relname AS tbl, seq_scan, coalesce(idx_scan, 0) AS idx_scan, n_live_tup
        FROM pg_stat_user_tables
        WHERE n_live_tup >= %s AND seq_scan > 0
          AND coalesce(idx_scan, 0)::float / (seq_scan + coalesce(idx_scan, 0)) < %s
        ORDER BY seq_tup_read DESC LIMIT %s""",
        (p.limits["seq-scan-min-rows"], p.limits["seq-scan-index-share"], LIST_LIMIT))
    return [
        Hit("SA608", f"table:{r['tbl']}",
            {"table": r["tbl"], "rows": f"{r['n_live_tup']:,}", "seq": r["seq_scan"], "idx": r["idx_scan"],
             "share": f"{r['idx_scan'] / (r['seq_scan'] + r['idx_scan']):.0%}"})
        for r in rows
    ]


# --- schema ------------------------------------------------------------------------------------------------


def check_fk_indexes(p: PgProbe) -> list[Hit]:
    fks = p.rows("""
        SELECT c.conrelid::regclass::text AS tbl, c.conname, c.confrelid::regclass::text AS ref,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        WHERE c.contype = 'f' AND t.relnamespace NOT IN ('pg_catalog'::regnamespace)
        ORDER BY 1, 2 LIMIT %s""", (CATALOG_LIMIT,))
    by_table: dict[str, list[Index]] = {}
    for index in p.indexes:
        by_table.setdefault(index.table, []).append(index)
    hits = []
    for fk in fks:
        cols = tuple(fk["cols"])
        candidates = [i for i in by_table.get(fk["tbl"], []) if covers(i, cols)]
        if any(i.predicate is None or _not_null_predicate(i.predicate, cols) for i in candidates):
            continue
        partial = next((i for i in candidates if i.predicate), None)
        note = f"; only the partial index {partial.name} (WHERE {partial.predicate}) starts with it" if partial else ""
        hits.append(Hit("SA609", f"fk:{fk['tbl']}({','.join(cols)})",
                        {"table": fk["tbl"], "columns": ", ".join(cols), "ref": fk["ref"],
                         "constraint": fk["conname"], "rows": f"{p.tables.get(fk['tbl'], 0):,}", "note": note}))
    return hits


def _not_null_predicate(predicate: str, columns: Sequence[str]) -> bool:
    """`WHERE user_id IS NOT NULL` still serves every lookup of a non-null key."""
    return bool(re.fullmatch(rf"\(?{re.escape(columns[0])} IS NOT NULL\)?", predicate.strip()))


def check_unused_indexes(p: PgProbe) -> list[Hit]:
    rows = p.rows("""
        SELECT s.schemaname || '.' || s.relname AS tbl, s.indexrelname AS name,
               pg_relation_size(s.indexrelid) AS size, s.idx_scan
        FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
        WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
          AND pg_relation_size(s.indexrelid) >= %s
        ORDER BY size DESC LIMIT %s""", (p.limits["unused-index-min-bytes"], LIST_LIMIT))
    since = p.one("SELECT coalesce(stats_reset, pg_postmaster_start_time()) AS since FROM pg_stat_database "
                  "WHERE datname = current_database()")
    when = since.get("since")
    return [
        Hit("SA610", f"index:{r['name']}",
            {"index": r["name"], "table": r["tbl"], "size": _size(r["size"]),
             "since": when.strftime("%Y-%m-%d %H:%M") if when else "the last statistics reset"})
        for r in rows
    ]


def _redundant(a: Index, b: Index) -> bool:
    """`a` is made redundant by `b`: same table, kind and predicate, a's columns lead b's."""
    if a is b or a.unique or a.primary or a.constraint or not a.valid or not b.valid:
        return False
    if a.table != b.table or a.method != b.method or a.predicate != b.predicate or not (a.plain and b.plain):
        return False
    n = len(a.columns)
    if b.columns[:n] != a.columns or b.opclasses[:n] != a.opclasses:
        return False
    return len(b.columns) > n or b.unique or a.name > b.name  # identical twins: keep one, flag the other


def check_duplicate_indexes(p: PgProbe) -> list[Hit]:
    btrees = [i for i in p.indexes if i.method == "btree"]
    hits = []
    for a in btrees:
        cover = next((b for b in btrees if _redundant(a, b)), None)
        if cover is not None:
            how = "duplicates" if cover.columns == a.columns else "is a prefix of"
            hits.append(Hit("SA611", f"index:{a.name}",
                            {"index": a.name, "table": a.table, "columns": ", ".join(a.columns), "how": how,
                             "other": cover.name}))
    return hits


def check_invalid(p: PgProbe) -> list[Hit]:
    hits = [
        Hit("SA612", f"index:{i.name}", {"kind": "index", "name": i.name, "table": i.table,
                                         "advice": "drop it and rebuild it (REINDEX INDEX CONCURRENTLY)"})
        for i in p.indexes if not i.valid
    ]
    rows = p.rows("""
        SELECT c.conrelid::regclass::text AS tbl, c.conname FROM pg_constraint c
        WHERE NOT c.convalidated AND c.contype IN ('f', 'c') ORDER BY 1, 2 LIMIT %s""", (LIST_LIMIT,))
    hits += [
        Hit("SA612", f"constraint:{r['tbl']}.{r['conname']}",
            {"kind": "constraint", "name": r["conname"], "table": r["tbl"],
             "advice": f"ALTER TABLE {r['tbl']} VALIDATE CONSTRAINT {r['conname']}"})
        for r in rows
    ]
    return hits


def check_sequences(p: PgProbe) -> list[Hit]:
    rows = p.rows("""
        SELECT s.schemaname || '.' || s.sequencename AS name, s.last_value, s.max_value, s.data_type::text AS seqtype,
               has_sequence_privilege(format('%%I.%%I', s.schemaname, s.sequencename), 'SELECT') AS readable,
               (SELECT format_type(a.atttypid, NULL) FROM pg_depend d
                  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                   AND d.objid = format('%%I.%%I', s.schemaname, s.sequencename)::regclass
                   AND d.deptype IN ('a', 'i') LIMIT 1) AS coltype
        FROM pg_sequences s ORDER BY 1 LIMIT %s""", (CATALOG_LIMIT,))
    unreadable = [r["name"] for r in rows if not r["readable"]]
    if rows and len(unreadable) == len(rows):
        raise Skip(f"role {p.user} cannot read any sequence's value",
                   f"GRANT pg_read_all_data TO {p.user} (or SELECT on the sequences)")
    hits = []
    for r in rows:
        if r["last_value"] is None:
            continue
        limit = min(int(r["max_value"]), _TYPE_MAX.get(r["coltype"] or "", int(r["max_value"])))
        share = int(r["last_value"]) / limit
        if share > p.limits["sequence-used"]:
            hits.append(Hit("SA617", f"sequence:{r['name']}",
                            {"sequence": r["name"], "share": f"{share:.1%}", "value": f"{r['last_value']:,}",
                             "type": r["coltype"] or r["seqtype"], "max": f"{limit:,}"}))
    if unreadable:
        p.notes.append(Note("SA617", f"{len(unreadable)} sequence(s) not readable by {p.user}: not checked"))
    return hits


def check_xid_age(p: PgProbe) -> list[Hit]:
    rows = p.rows("SELECT datname, age(datfrozenxid) AS age FROM pg_database WHERE datallowconn "
                  "ORDER BY 2 DESC LIMIT %s", (LIST_LIMIT,))
    return [
        Hit("SA618", f"database:{r['datname']}", {"database": r["datname"], "age": f"{r['age']:,}"},
            severity=Severity.CRITICAL if r["age"] >= p.limits["xid-age-critical"] else None)
        for r in rows
        if r["age"] >= p.limits["xid-age"]
    ]


def check_replicas(p: PgProbe) -> list[Hit]:
    if p.one("SELECT pg_is_in_recovery() AS standby")["standby"]:
        p.notes.append(Note("SA619", "this server is a standby (read replica)"))
        return []
    p.need_stats("replication state")
    rows = p.rows("""
        SELECT coalesce(application_name, client_addr::text) AS name,
               extract(epoch FROM replay_lag)::float AS lag
        FROM pg_stat_replication ORDER BY lag DESC NULLS LAST LIMIT %s""", (LIST_LIMIT,))
    if not rows:
        p.notes.append(Note("SA619", "no streaming replica is attached: reads cannot be moved off the primary"))
        return []
    return [
        Hit("SA619", f"replica:{r['name']}", {"replica": r["name"], "lag": _age(r["lag"])})
        for r in rows
        if r["lag"] is not None and r["lag"] > p.limits["replica-lag-s"]
    ]


# --- pg_stat_statements and settings -----------------------------------------------------------------------


def _statements_schema(p: PgProbe) -> str:
    if not p.one("SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_stat_statements'"):
        raise Skip("pg_stat_statements is not available on the server",
                   "install the PostgreSQL contrib package, then see below")
    ext = p.one("SELECT extnamespace::regnamespace::text AS schema FROM pg_extension "
                "WHERE extname = 'pg_stat_statements'")
    if not ext:
        raise Skip("pg_stat_statements is not installed in this database",
                   "CREATE EXTENSION pg_stat_statements (and shared_preload_libraries = 'pg_stat_statements')")
    p.need_stats("statement statistics")
    return str(ext["schema"])


def check_slow_queries(p: PgProbe) -> list[Hit]:
    schema = _statements_schema(p)
    query = sql.SQL("""
        SELECT queryid, calls, mean_exec_time AS mean, total_exec_time AS total, left(query, %s) AS query
        FROM {}.pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND calls >= %s AND mean_exec_time >= %s
        ORDER BY total_exec_time DESC LIMIT %s""").format(sql.Identifier(schema))
    rows = p.rows(query, (QUERY_CHARS, p.limits["slow-query-min-calls"], p.limits["slow-query-mean-ms"], LIST_LIMIT))
    return [
        Hit("SA614", f"query:{r['queryid']}",
            {"query": _query(r["query"]), "mean": f"{r['mean']:.1f}", "calls": f"{r['calls']:,}",
             "total": f"{r['total'] / 1000:.1f}"})
        for r in rows
    ]


def parse_bytes(text: str) -> int:
    """'8GB', '512 MB', '1.5TiB', '1073741824' -> bytes; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a memory size: {text!r} (use e.g. 16GB)")
    power = " kmgt".index(match.group(2).lower() or " ")
    return int(float(match.group(1)) * 1024**power)


def check_memory(p: PgProbe) -> list[Hit]:
    ram = p.server_memory
    if not ram:
        raise Skip("the server's RAM is not visible over SQL", "pass --server-memory (e.g. --server-memory 16GB)")
    r = p.one("""
        SELECT pg_size_bytes(current_setting('shared_buffers')) AS shared_buffers,
               pg_size_bytes(current_setting('effective_cache_size')) AS effective_cache_size,
               pg_size_bytes(current_setting('work_mem')) AS work_mem,
               pg_size_bytes(current_setting('maintenance_work_mem')) AS maintenance_work_mem,
               current_setting('max_connections')::int AS max_conn""")
    problems = _memory_problems(r, ram, p.limits)
    return [
        Hit("SA616", f"setting:{name}", {"setting": name, "value": _size(r[name]), "ram": _size(ram), "advice": advice})
        for name, advice in problems
    ]


def _memory_problems(r: Row, ram: int, t: Thresholds) -> Iterator[tuple[str, str]]:
    shared = r["shared_buffers"]
    if not t["shared-buffers-min"] <= shared / ram <= t["shared-buffers-max"]:
        yield "shared_buffers", f"about 25 % of RAM ({_size(ram // 4)}) is the usual starting point (pgtune)"
    if r["effective_cache_size"] < t["effective-cache-min"] * ram:
        yield "effective_cache_size", f"about 75 % of RAM ({_size(ram * 3 // 4)}); the planner underrates indexes"
    if r["work_mem"] * r["max_conn"] > ram - shared:
        per = max(1, (ram - shared) // max(1, r["max_conn"] * 3))
        yield "work_mem", (f"{r['max_conn']} connections × work_mem exceed RAM; pgtune suggests about "
                           f"{_size(per)} (RAM − shared_buffers) / (3 × max_connections)")
    if r["maintenance_work_mem"] < min(t["maintenance-work-mem-min"] * ram, 1024**3):
        suggested = _size(min(ram // 16, 2 * 1024**3))
        yield "maintenance_work_mem", f"about RAM/16 ({suggested}) speeds VACUUM and CREATE INDEX"


Check = Callable[[PgProbe], list[Hit]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("SA601", check_connections),
    ("SA602", check_churn),
    ("SA603", check_idle_in_transaction),
    ("SA604", check_timeouts),
    ("SA605", check_long_running),
    ("SA606", check_blocked),
    ("SA607", check_cache_hit),
    ("SA608", check_seq_scans),
    ("SA609", check_fk_indexes),
    ("SA610", check_unused_indexes),
    ("SA611", check_duplicate_indexes),
    ("SA612", check_invalid),
    ("SA614", check_slow_queries),
    ("SA616", check_memory),
    ("SA617", check_sequences),
    ("SA618", check_xid_age),
    ("SA619", check_replicas),
)


def capabilities(p: PgProbe) -> None:
    r = p.one("SELECT current_user AS usr, pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS stats")
    p.user, p.read_all_stats = str(r["usr"]), bool(r["stats"])


def skip_for_error(exc: psycopg.Error, p: PgProbe, timeout_ms: int) -> Skip:
    """The reason and grant for a server error a check ran into."""
    user = p.user or "this role"
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return Skip(f"timed out after statement_timeout={timeout_ms} ms",
                    "raise [check] statement-timeout-ms, or run it off-peak")
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return Skip("a catalog lock was not granted within lock_timeout", "run it again off-peak")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return Skip(f"permission denied for {user}: {_first_line(exc)}", f"GRANT pg_monitor TO {user}")
    if isinstance(exc, psycopg.errors.ObjectNotInPrerequisiteState):
        return Skip(_first_line(exc), "shared_preload_libraries = 'pg_stat_statements' and a restart")
    if isinstance(exc, (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction,
                        psycopg.errors.UndefinedObject)):
        return Skip(_first_line(exc), "a newer PostgreSQL or the missing extension")
    return Skip(f"{type(exc).__name__}: {_first_line(exc)}", "")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
