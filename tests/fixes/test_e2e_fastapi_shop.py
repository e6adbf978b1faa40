"""End to end on the FastAPI fixture: copy, `fix --write`, and prove the app still works.

(a) every Python file compiles; (b) the shop's own test suite passes against the
real PostgreSQL and Redis after the fix; (c) a new scan no longer reports
the fixed findings and reports no new ones; (d) a second `fix --write` changes
nothing. And the point of it all: one engine for the database, every former
site importing it.
"""

from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from conftest import FIXTURES, need

from scaleaudit import api
from scaleaudit.model import Finding, ScanResult

APP = FIXTURES / "fastapi_shop"
PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/14"

pytestmark = pytest.mark.live


def _services_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            pass
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except (psycopg.Error, redis.RedisError):
        return False
    return True


@pytest.fixture
def schema() -> Iterator[str]:
    """A throwaway schema, so the shop's tables never meet anyone else's."""
    need(_services_up(), "PostgreSQL on 127.0.0.1:5432 (db test) and Redis on 127.0.0.1:6379")
    name = f"shop_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"create schema {name}")
    yield name
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"drop schema {name} cascade")


def _suite(root: Path, schema: str) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    env = {**os.environ, "DATABASE_URL": url, "ANALYTICS_DATABASE_URL": url, "REDIS_URL": REDIS}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout


def _scan(root: Path) -> ScanResult:
    # The copy's own cache: only the files the fix rewrote are parsed again.
    return api.scan([root], api.settings_for([root], isolated=True))


def _identity(finding: Finding) -> tuple[str, str, str]:
    return (finding.rule, finding.path, finding.anchor)  # lines move when code is removed


def test_fix_write_keeps_the_shop_working(tmp_path: Path, schema: str) -> None:
    root = tmp_path / "shop"
    shutil.copytree(APP, root)
    before = _scan(root)

    result = api.fix([root], api.settings_for([root], isolated=True), write=True)
    assert result.written and not result.failures
    assert {a.rule for a in result.applied} >= {"SA101"}

    for path in root.rglob("*.py"):  # (a)
        py_compile.compile(str(path), doraise=True, cfile=str(tmp_path / "compiled.pyc"))
    _suite(root, schema)  # (b)

    after = _scan(root)  # (c)
    remaining = {_identity(f) for f in result.remaining}
    fixed = {_identity(f) for f in before.findings} - remaining
    now = {_identity(f) for f in after.findings}
    assert fixed and not fixed & now
    assert now <= remaining, now - remaining

    again = api.fix([root], api.settings_for([root], isolated=True), write=True)
    assert not again.changes and not again.applied  # (d)

    engines = [
        f.location.path
        for f in after.facts
        if f.kind == "client-site"
        and f.get("kind") == "sqlalchemy-engine"
        and f.get("scope") == "module"
        and f.get("url") == "expr:settings.DATABASE_URL"
    ]
    assert engines == ["app/db.py"]
    for rel in ("app/routers/orders.py", "app/routers/products.py", "app/routers/inventory.py"):
        assert "from app.db import engine\n" in (root / rel).read_text()
    assert "from app.cache import cache as r\n" in (root / "app/routers/products.py").read_text()
    # the one Redis client configured differently is reported, not merged
    assert any(s.path == "app/services/notifications.py" and "decode_responses" in s.reason for s in result.skipped)


def test_unsafe_fixes_turn_the_per_request_engine_into_the_shared_one(tmp_path: Path, schema: str) -> None:
    root = tmp_path / "shop"
    shutil.copytree(APP, root)
    settings = api.settings_for([root], isolated=True)
    result = api.fix([root], settings, write=True, unsafe=True, use_cache=False, select=["SA101", "SA102"])
    assert not result.failures
    reports = (root / "app/routers/reports.py").read_text()
    assert "from app.db import engine\n" in reports and "engine = create_engine" not in reports
    assert "client = aioredis.from_url" in reports  # closed per request: left alone, with the reason
    _suite(root, schema)
    assert not [f for f in _scan(root).findings if f.rule == "SA102" and "sqlalchemy" in f.message]
