"""SA101/SA102 fix: one shared client per target, before/after (LibCST CodemodTest style)."""

from __future__ import annotations

from pathlib import Path

from fixtest import CONFIG, assert_fixed, assert_idempotent, fix_tree, run_python

PKG = {"app/__init__.py": "", "app/config.py": CONFIG}
STAR = "from sqlalchemy import *\n\nfrom app.config import URL\n\nengine = create_engine(URL)\n"
SYNC = "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\nengine = create_engine(URL)\n"


def test_creates_the_shared_module_from_the_agreed_arguments(tmp_path: Path) -> None:
    before = {
        **PKG,
        "app/users.py": '''
            """Users."""
            from sqlalchemy import create_engine

            from app.config import URL

            engine = create_engine(URL)


            def count():
                return engine
            ''',
        "app/orders.py": """
            import sqlalchemy as sa

            from app.config import URL

            engine = sa.create_engine(URL, echo=False)
            query = sa.text("select 1")
            """,
    }
    after = {
        "app/db.py": '''
            """The shared SQLAlchemy client: one pool per process (written by `scaleaudit fix`)."""

            import sqlalchemy as sa

            from app.config import URL

            engine = sa.create_engine(URL, pool_size=7, max_overflow=4, pool_pre_ping=True)
            ''',
        "app/users.py": '''
            """Users."""

            from app.db import engine


            def count():
                return engine
            ''',
        "app/orders.py": """
            import sqlalchemy as sa

            from app.db import engine

            query = sa.text("select 1")
            """,
    }
    result = assert_fixed(tmp_path, before, after)
    assert [a.rule for a in result.applied] == ["SA101"]
    assert "new module app/db.py" in result.applied[0].description
    run_python(tmp_path, "import app.users, app.orders, app.db\nassert app.users.engine is app.orders.engine")
    assert_idempotent(tmp_path)


def test_reuses_the_shared_instance_and_keeps_aliases_decorators_defaults_and_reexports(tmp_path: Path) -> None:
    before = {
        **PKG,
        "app/db.py": """
            from sqlalchemy import create_engine

            from app.config import URL

            engine = create_engine(URL, pool_size=5, max_overflow=2, pool_pre_ping=True)
            """,
        "app/users.py": "from app.db import engine\n",
        "app/jobs.py": """
            from __future__ import annotations

            import functools

            from sqlalchemy import Engine
            from sqlalchemy import create_engine as make_engine

            from app.config import URL

            # the jobs' engine
            db_engine: Engine = make_engine(URL)


            def with_engine(e: Engine):
                def wrap(fn):
                    return functools.partial(fn, e)
                return wrap


            def health(e: Engine = db_engine) -> bool:
                return e is db_engine


            @with_engine(db_engine)
            def job(e: Engine) -> Engine:
                return e
            """,
        "app/reexport.py": "from app.jobs import *\n",
        "app/routers/__init__.py": "from .orders import engine as orders_engine\n",
        # a star import hides the constructor from the scan: a look-alike, left alone
        "app/routers/orders.py": STAR,
    }
    after = {
        "app/jobs.py": """
            from __future__ import annotations

            import functools

            from sqlalchemy import Engine

            from app.db import engine as db_engine

            # the jobs' engine


            def with_engine(e: Engine):
                def wrap(fn):
                    return functools.partial(fn, e)
                return wrap


            def health(e: Engine = db_engine) -> bool:
                return e is db_engine


            @with_engine(db_engine)
            def job(e: Engine) -> Engine:
                return e
            """,
        "app/routers/orders.py": STAR,
        "app/db.py": """
            from sqlalchemy import create_engine

            from app.config import URL

            engine = create_engine(URL, pool_size=5, max_overflow=2, pool_pre_ping=True)
            """,
    }
    assert_fixed(tmp_path, before, after)
    run_python(
        tmp_path,
        """
        import app.db, app.jobs, app.reexport, app.routers
        assert app.jobs.health() and app.jobs.job() is app.db.engine
        assert app.reexport.db_engine is app.db.engine
        """,
    )
    assert_idempotent(tmp_path)


def test_pool_backed_redis_client_is_imported_and_a_different_configuration_is_reported(tmp_path: Path) -> None:
    before = {
        **PKG,
        "app/cache.py": """
            import redis

            from app.config import REDIS_URL

            pool = redis.ConnectionPool.from_url(REDIS_URL, max_connections=20)
            cache = redis.Redis(connection_pool=pool)
            """,
        "app/users.py": "from app.cache import cache\n",
        "app/products.py": "import redis\n\nfrom app.config import REDIS_URL\n\nr = redis.from_url(REDIS_URL)\n",
        "app/notify.py": "from redis import Redis\n\nfrom app.config import REDIS_URL\n\n"
        "client = Redis.from_url(REDIS_URL, decode_responses=True)\n",
    }
    after = {"app/products.py": "from app.cache import cache as r\n"}
    result = assert_fixed(tmp_path, before, after, settings={"select": ("SA101",)})
    (skip,) = [s for s in result.skipped if s.path == "app/notify.py"]
    assert "decode_responses=True" in skip.reason and "different configuration" in skip.reason
    assert "decode_responses" in (tmp_path / "app/notify.py").read_text()


def test_async_engines_merge_with_each_other_but_not_with_sync_ones(tmp_path: Path) -> None:
    line = "from sqlalchemy.ext.asyncio import create_async_engine\n\nfrom app.config import URL\n\n"
    before = {
        **PKG,
        "app/a.py": line + "engine = create_async_engine(URL)\n",
        "app/b.py": line + "engine = create_async_engine(URL)\n",
        "app/c.py": SYNC,
    }
    result = fix_tree(tmp_path, before, settings={"select": ("SA101",)})
    db = (tmp_path / "app/db.py").read_text()
    assert "engine = create_async_engine(URL)" in db
    assert (tmp_path / "app/a.py").read_text() == "from app.db import engine\n"
    assert (tmp_path / "app/b.py").read_text() == "from app.db import engine\n"
    assert "create_engine(URL)" in (tmp_path / "app/c.py").read_text()
    (skip,) = [s for s in result.skipped if s.path == "app/c.py"]
    assert "sync client; the shared one is async" in skip.reason


def test_conflicting_pool_settings_are_not_merged_blindly(tmp_path: Path) -> None:
    engine = "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\nengine = create_engine(URL, {})\n"
    before = {
        **PKG,
        "app/a.py": engine.format("pool_size=5"),
        "app/b.py": engine.format("pool_size=5"),
        "app/c.py": engine.format("pool_size=20"),
    }
    result = fix_tree(tmp_path, before, settings={"select": ("SA101",)})
    assert "create_engine(URL, pool_size=5)" in (tmp_path / "app/db.py").read_text()
    assert (tmp_path / "app/c.py").read_text() == engine.format("pool_size=20")
    (skip,) = [s for s in result.skipped if s.path == "app/c.py"]
    assert "`pool_size=20` here, `pool_size=5` in the shared client" in skip.reason


def test_health_keywords_of_a_site_are_carried_over_to_the_existing_shared_client(tmp_path: Path) -> None:
    before = {
        **PKG,
        "app/db.py": "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\n"
        "engine = create_engine(\n    URL,\n    pool_size=7,\n    max_overflow=4,\n)\n",
        "app/users.py": "from app.db import engine\n",
        "app/inv.py": "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\n"
        "engine = create_engine(URL, pool_recycle=1800)\n",
    }
    after = {
        "app/db.py": "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\n"
        "engine = create_engine(\n    URL,\n    pool_size=7,\n    max_overflow=4,\n    pool_recycle=1800,\n)\n",
        "app/inv.py": "from app.db import engine\n",
    }
    assert_fixed(tmp_path, before, after, settings={"select": ("SA101",)})


def test_url_built_from_a_module_local_name_is_not_moved(tmp_path: Path) -> None:
    site = "from sqlalchemy import create_engine\n\nURL = 'postgresql://db/app'\nengine = create_engine(URL + '?x=1')\n"
    before = {**PKG, "app/a.py": site, "app/b.py": site}
    result = fix_tree(tmp_path, before, settings={"select": ("SA101",)})
    assert not result.changes
    assert {s.reason for s in result.skipped} == {"the client's arguments use names local to the module"}


def test_handler_sites_need_unsafe_fixes_and_clients_closed_per_call_stay(tmp_path: Path) -> None:
    before = {
        **PKG,
        "app/db.py": "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\n"
        "engine = create_engine(URL, pool_size=7, max_overflow=4, pool_pre_ping=True)\n",
        "app/users.py": "from app.db import engine\n",
        "app/views.py": """
            from fastapi import APIRouter
            from sqlalchemy import create_engine, text

            from app.config import URL

            router = APIRouter()


            @router.get("/a")
            def a():
                eng = create_engine(URL)
                with eng.connect() as conn:
                    return conn.execute(text("select 1")).scalar()


            @router.get("/b")
            def b():
                engine = create_engine(URL)
                try:
                    return 1
                finally:
                    engine.dispose()
            """,
    }
    safe = fix_tree(tmp_path, before)
    assert not safe.changes
    assert {s.reason for s in safe.skipped if s.rule == "SA102"} == {
        "unsafe fix (it can change behaviour): rerun with --unsafe-fixes"
    }
    result = fix_tree(tmp_path, before, unsafe=True)
    text = (tmp_path / "app/views.py").read_text()
    assert "from app.db import engine\n" in text
    assert "    eng = engine\n" in text  # the local name kept, now the shared client
    assert "    engine = create_engine(URL)\n" in text  # b() disposes it: left alone
    (skip,) = [s for s in result.skipped if s.rule == "SA102"]
    assert "disposes `engine`" in skip.reason


def test_configured_shared_module_and_future_import(tmp_path: Path) -> None:
    site = (
        "from __future__ import annotations\n\nimport redis\n\nfrom app.config import REDIS_URL\n\n"
        "r = redis.Redis.from_url(REDIS_URL)\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.scaleaudit.fix]\nshared-module = "app/clients.py"\n')
    before = {**PKG, "app/a.py": site, "app/b.py": site}
    from conftest import write_tree
    from fixtest import dedent

    from scaleaudit import api
    from scaleaudit.fixes.api import run_fix

    write_tree(tmp_path, dedent(before))
    result = run_fix([tmp_path], api.settings_for([tmp_path]), write=True, use_cache=False, select=("SA101",))
    assert result.applied
    assert (tmp_path / "app/a.py").read_text() == "from __future__ import annotations\n\nfrom app.clients import r\n"
    assert "r = redis.Redis.from_url(REDIS_URL)" in (tmp_path / "app/clients.py").read_text()
