"""End to end on the Django fixture: copy, `fix --write --unsafe-fixes`, and prove the app still works.

(a) every Python file compiles; (b) the help desk's own test suite
(`helpdesk/tests/`, Django's runner) passes against the real PostgreSQL before
and after the fix; (c) a new scan no longer reports the fixed findings and
reports nothing new (compared by baseline fingerprint); (d) a second fix
changes nothing. And the point of the N+1 fixes: each view's queries per row,
measured on PostgreSQL, drop by exactly the findings the fix resolved.

Which findings get fixed is read from the `FixResult`, not assumed, so this
file keeps proving the right things as the N+1, pagination and index fixers land.
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from conftest import FIXTURES, need

from scaleaudit import api
from scaleaudit.baseline import fingerprints
from scaleaudit.config import Settings
from scaleaudit.fixes.base import FixResult
from scaleaudit.model import Finding, ScanResult

APP = FIXTURES / "django_helpdesk"
PG = "postgresql://postgres@127.0.0.1:5432/test"

pytestmark = pytest.mark.live

Identity = tuple[str, str, str]  # (rule, path, anchor): stable when a fix moves lines

# The views whose queries grow with the rows, and the findings that say why:
# each finding is one query per row.
TEMPLATES = "helpdesk/templates/helpdesk"
N_PLUS_ONE: dict[str, frozenset[Identity]] = {
    "/comments/recent/": frozenset({("SA201", "helpdesk/views.py", "Comment.ticket")}),
    "/agents/workload/": frozenset({("SA202", "helpdesk/views.py", "Ticket.objects...count()")}),
    "/tickets/": frozenset(
        {
            ("SA203", f"{TEMPLATES}/ticket_list.html", "Ticket.assignee"),
            ("SA203", f"{TEMPLATES}/ticket_list.html", "Ticket.comments"),
        }
    ),
    "/agents/": frozenset({("SA203", f"{TEMPLATES}/agent_list.html", "Agent.tickets")}),
    "/api/comments/": frozenset({("SA204", "helpdesk/serializers.py", "CommentSerializer.author")}),
    "/admin/helpdesk/ticket/": frozenset(
        {("SA205", "helpdesk/admin.py", "TicketAdmin.customer"), ("SA205", "helpdesk/admin.py", "TicketAdmin.comments")}
    ),
}
# Row counts measured: under every page size and slice in the app (25, 30, 50).
SMALL, LARGE = 5, 20

# Runs in the copy (cwd) with its settings: one test database, rows grown by
# the suite's own helper, each view's query count at both sizes, as JSON.
PROBE = """
import json, sys
import django
django.setup()
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from helpdesk.tests.support import grow, make_queue

urls, small, large = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
setup_test_environment()
old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
try:
    queue = make_queue()
    client = Client()
    client.force_login(User.objects.create_superuser("probe", "probe@example.com", "pw"))
    counts = {url: [] for url in urls}
    for rows in (small, large - small):
        grow(queue, rows)
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                status = client.get(url).status_code
            assert status == 200, (url, status)
            counts[url].append(len(captured))
    print(json.dumps(counts))
finally:
    connection.creation.destroy_test_db(old_name, verbosity=0)
"""


def _pg_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            pass
    except psycopg.Error:
        return False
    return True


@pytest.fixture
def database() -> Iterator[Callable[[], str]]:
    """Fresh DATABASE_URLs: Django works in `test_<name>`, unique per run so parallel
    sessions never meet; whatever a crashed run left behind is dropped here."""
    need(_pg_up(), "PostgreSQL on 127.0.0.1:5432 (db test)")
    names: list[str] = []

    def url() -> str:
        names.append(f"helpdesk_e2e_{uuid.uuid4().hex[:10]}")
        return f"postgresql://postgres@127.0.0.1:5432/{names[-1]}"

    yield url
    with psycopg.connect(PG, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "test_{name}" with (force)')


def _django(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    proc = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _suite(root: Path, url: str) -> None:
    proc = _django(root, url, "manage.py", "test", "--noinput", "helpdesk")
    assert "\nOK" in proc.stderr and "skipped" not in proc.stderr, proc.stderr[-3000:]


def _per_row(root: Path, url: str) -> dict[str, int]:
    """Each N+1 view's extra queries per extra row, on PostgreSQL."""
    proc = _django(root, url, "-c", PROBE, json.dumps(sorted(N_PLUS_ONE)), str(SMALL), str(LARGE))
    counts: dict[str, list[int]] = json.loads(proc.stdout)
    out = {}
    for view, (small, large) in counts.items():
        assert (large - small) % (LARGE - SMALL) == 0, (view, small, large)
        out[view] = (large - small) // (LARGE - SMALL)
    return out


def _settings(root: Path, *, migrations: bool = False) -> Settings:
    settings = api.settings_for([root], isolated=True)
    return replace(settings, fix=replace(settings.fix, migrations=True)) if migrations else settings


def _scan(root: Path) -> ScanResult:
    return api.scan([root], _settings(root))


def _identity(finding: Finding) -> Identity:
    return (finding.rule, finding.path, finding.anchor)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "helpdesk"
    shutil.copytree(APP, root, ignore=shutil.ignore_patterns(".scaleaudit_cache", "__pycache__"))
    return root


def _fixed(result: FixResult) -> list[Finding]:
    """The findings the fix says it resolved, each named by an applied fix."""
    remaining = {_identity(f) for f in result.remaining}  # not by line: a multi-round fix moves them
    fixed = [f for f in result.scan.findings if _identity(f) not in remaining]
    # by rule and file: a later round's proposal names its line in the file as rewritten;
    # one proposal may resolve several findings (one migration for SA401 and SA402)
    applied = {(a.rule, a.path) for a in result.applied}
    assert applied <= {(f.rule, f.path) for f in fixed}, applied - {(f.rule, f.path) for f in fixed}
    assert bool(fixed) == bool(result.applied)
    return fixed


def _assert_proved(root: Path, settings: Settings, result: FixResult, tmp_path: Path) -> list[Finding]:
    """(a), (c) and (d) for a written fix; returns the findings it fixed."""
    assert not result.failures and result.written == bool(result.changes), result.failures
    for path in root.rglob("*.py"):  # (a)
        py_compile.compile(str(path), doraise=True, cfile=str(tmp_path / "compiled.pyc"))

    fixed = _fixed(result)  # (c), by baseline fingerprint: rule, file, anchor
    before = dict(zip(fingerprints(result.scan.findings), result.scan.findings, strict=True))
    gone = {fp for fp, f in before.items() if f in fixed}
    now = dict(zip(fingerprints((after := _scan(root)).findings), after.findings, strict=True))
    assert not gone & set(now), [_identity(now[fp]) for fp in gone & set(now)]
    assert set(now) <= set(before) - gone, [_identity(now[fp]) for fp in set(now) - set(before)]

    again = api.fix([root], settings, write=True, unsafe=True)  # (d)
    assert not again.changes and not again.applied, [c.path for c in again.changes]
    return fixed


def test_fix_write_unsafe_keeps_the_help_desk_working_and_cuts_queries_per_row(
    tmp_path: Path, database: Callable[[], str]
) -> None:
    root = _copy(tmp_path)
    _suite(root, database())  # the suite is green before anything is touched
    rows_before = _per_row(root, database())
    scanned = {_identity(f) for f in _scan(root).findings}
    for view, causes in N_PLUS_ONE.items():
        assert causes <= scanned, (view, causes - scanned)  # the table above names real findings
        assert rows_before[view] == len(causes), (view, rows_before[view])  # one query per row per finding

    settings = _settings(root)
    result = api.fix([root], settings, write=True, unsafe=True)
    fixed = {_identity(f) for f in _assert_proved(root, settings, result, tmp_path)}
    _suite(root, database())  # (b)

    rows_after = _per_row(root, database())
    for view, causes in N_PLUS_ONE.items():
        # each resolved finding takes exactly its query per row away; the rest stay
        assert rows_after[view] == len(causes - fixed), (view, rows_before[view], rows_after[view], causes & fixed)
    if any(a.rule == "SA201" and a.path == "helpdesk/views.py" for a in result.applied):
        assert rows_after["/comments/recent/"] == 0 < rows_before["/comments/recent/"]


def test_fix_with_migrations_writes_ones_the_test_database_applies(tmp_path: Path, database: Callable[[], str]) -> None:
    root = _copy(tmp_path)
    settings = _settings(root, migrations=True)
    result = api.fix([root], settings, write=True, unsafe=True)
    _assert_proved(root, settings, result, tmp_path)
    _suite(root, database())  # the runner migrates the test database: every new migration runs
    created = [c.path for c in result.changes if c.created and c.path.startswith("helpdesk/migrations/")]
    if created:
        # the migrations written describe the models as fixed: Django sees nothing left to migrate
        _django(root, database(), "manage.py", "makemigrations", "--check", "--dry-run", "helpdesk")
    index_fixed = [f for f in _fixed(result) if f.rule in ("SA401", "SA402")]
    assert bool(created) == bool(index_fixed), (created, index_fixed)
