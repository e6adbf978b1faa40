"""SA103/SA105 fix: explicit pool keywords from the connection budget, never overriding the user's."""

from __future__ import annotations

from pathlib import Path

from fixtest import assert_fixed, assert_idempotent, fix_tree

from scaleaudit.capacity import pool_plan
from scaleaudit.config import Capacity

ENGINE = "from sqlalchemy import create_engine\n\nengine = create_engine({})\n"


def test_one_line_engine_gets_budget_sized_pool_and_pre_ping(tmp_path: Path) -> None:
    capacity = Capacity(max_connections=200, workers=2, instances=2)
    plan = pool_plan(capacity)
    assert (plan.pool_size, plan.max_overflow) == (31, 16)  # (200 - 10) // 4 = 47, split 2:1
    before = {"app/db.py": ENGINE.format("DATABASE_URL")}
    after = {"app/db.py": ENGINE.format("DATABASE_URL, pool_size=31, max_overflow=16, pool_pre_ping=True")}
    result = assert_fixed(tmp_path, before, after, settings={"capacity": capacity})
    assert {a.rule for a in result.applied} == {"SA103"}
    assert "instance(s)" in result.applied[0].description
    assert_idempotent(tmp_path)


def test_vertical_call_gets_one_line_per_keyword(tmp_path: Path) -> None:
    before = {"app/db.py": ENGINE.format("\n    DATABASE_URL,\n    echo=True,\n")}
    after = {
        "app/db.py": ENGINE.format(
            "\n    DATABASE_URL,\n    echo=True,\n    pool_size=7,\n    max_overflow=4,\n    pool_pre_ping=True,\n"
        )
    }
    assert_fixed(tmp_path, before, after)


def test_values_the_user_set_are_never_overridden(tmp_path: Path) -> None:
    # pool_recycle counts as a health setting: only the size is missing.
    before = {"app/db.py": ENGINE.format("DATABASE_URL, pool_recycle=600")}
    after = {"app/db.py": ENGINE.format("DATABASE_URL, pool_recycle=600, pool_size=7, max_overflow=4")}
    assert_fixed(tmp_path, before, after)
    sized = ENGINE.format("DATABASE_URL, pool_size=3, max_overflow=0, pool_pre_ping=True")
    (tmp_path / "app/db.py").write_text(sized)
    assert not fix_tree(tmp_path, {}).changes


def test_redis_and_psycopg_pools(tmp_path: Path) -> None:
    before = {
        "app/cache.py": "import redis\n\ncache = redis.Redis(host='cache', port=6379)\n",
        "app/pg.py": "from psycopg_pool import ConnectionPool\n\npool = ConnectionPool(DSN)\n",
    }
    after = {
        "app/cache.py": "import redis\n\ncache = redis.Redis(host='cache', port=6379, max_connections=22)\n",
        "app/pg.py": "from psycopg_pool import ConnectionPool\n\npool = ConnectionPool(DSN, max_size=11)\n",
    }
    assert_fixed(tmp_path, before, after)


def test_crlf_file_keeps_its_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "app" / "db.py"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"from sqlalchemy import create_engine\r\n\r\nengine = create_engine(\r\n    URL,\r\n)\r\n")
    fix_tree(tmp_path, {})
    assert path.read_bytes() == (
        b"from sqlalchemy import create_engine\r\n\r\nengine = create_engine(\r\n    URL,\r\n"
        b"    pool_size=7,\r\n    max_overflow=4,\r\n    pool_pre_ping=True,\r\n)\r\n"
    )


def test_ignore_and_select(tmp_path: Path) -> None:
    before = {"app/db.py": ENGINE.format("DATABASE_URL")}
    assert_fixed(tmp_path, before, {"app/db.py": ENGINE.format("DATABASE_URL, pool_pre_ping=True")}, ignore=["SA103"])
    result = fix_tree(tmp_path, {}, select=["SA105"])
    assert not result.changes and not result.applied


def test_workers_the_code_declares_shrink_the_pool_but_a_dev_entry_point_never_grows_it(tmp_path: Path) -> None:
    """gunicorn.conf.py says 9 workers: 2 × 9 processes share 90 connections, 5 each (3 + 2).
    A lone `uvicorn.run(app)` says 1 process; the default 4 is kept, not a pool four times larger."""
    engine = {"app/db.py": ENGINE.format("DATABASE_URL")}
    gunicorn = {**engine, "gunicorn.conf.py": "bind = '0.0.0.0:8000'\nworkers = 9\n"}
    result = assert_fixed(
        tmp_path / "gunicorn",
        gunicorn,
        {"app/db.py": ENGINE.format("DATABASE_URL, pool_size=3, max_overflow=2, pool_pre_ping=True")},
    )
    assert "2 instance(s) × 9 worker(s)" in result.applied[0].description
    assert "the code declares 9 workers (gunicorn)" in result.applied[0].description
    dev = {**engine, "app/main.py": "import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n"
           "if __name__ == '__main__':\n    uvicorn.run(app)\n"}  # fmt: skip
    default = ENGINE.format("DATABASE_URL, pool_size=7, max_overflow=4, pool_pre_ping=True")
    assert_fixed(tmp_path / "dev", dev, {"app/db.py": default})
    configured = Capacity(workers=2)  # what the user configures wins over what the code declares
    assert_fixed(
        tmp_path / "configured",
        gunicorn,
        {"app/db.py": ENGINE.format("DATABASE_URL, pool_size=14, max_overflow=8, pool_pre_ping=True")},
        settings={"capacity": configured},
    )
