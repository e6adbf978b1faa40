"""SA401/SA402 fix on SQLAlchemy models: index=True on the column, plus the migration statement
or (--migrations) one Alembic revision, proven by running `alembic upgrade` on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import write_tree
from fixtest import assert_fixed, assert_idempotent, dedent, fix_tree
from throwaway_db import throwaway_database, url

from scaleaudit import api
from scaleaudit.config import FixSettings
from scaleaudit.fixes.api import run_fix
from scaleaudit.fixes.sqlalchemy_index import create_index_sql, index_name

MODELS = """
    from sqlalchemy import ForeignKey, Integer, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)


    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id"){})
        note: Mapped[str] = mapped_column(String(50){})
    """
QUERY = """
    from sqlalchemy import select

    from app.models import Order


    def orders_of(session, uid):
        return session.scalars(select(Order).where(Order.user_id == uid).limit(10)).all()


    def by_note(session, n):
        return session.scalars(select(Order).where(Order.note == n).limit(10)).all()
    """
BOTH = ["SA401", "SA402"]
MIGRATE = {"fix": FixSettings(migrations=True)}


def _tree(**extra: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS.format("", ""), "app/queries.py": QUERY, **extra}


def test_mapped_column_gets_index_and_the_migration_statement_is_printed(tmp_path: Path) -> None:
    result = assert_fixed(tmp_path, _tree(), {"app/models.py": MODELS.format(", index=True", "")}, select=["SA401"])
    (applied,) = result.applied
    assert create_index_sql("orders", "user_id") in applied.description
    assert create_index_sql("orders", "user_id") == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_user_id ON orders (user_id);"
    )
    assert_idempotent(tmp_path, select=["SA401"])


def test_filtered_column_is_indexed_only_with_unsafe_fixes(tmp_path: Path) -> None:
    safe = assert_fixed(tmp_path / "a", _tree(), {"app/models.py": MODELS.format("", "")}, select=["SA402"])
    (skip,) = [s for s in safe.skipped if s.rule == "SA402"]
    assert "--unsafe-fixes" in skip.reason
    after = MODELS.format(", index=True", ", index=True")
    result = assert_fixed(tmp_path / "b", _tree(), {"app/models.py": after}, select=BOTH, unsafe=True)
    assert sorted(a.rule for a in result.applied) == BOTH
    assert any(create_index_sql("orders", "note") in a.description for a in result.applied)
    assert_idempotent(tmp_path / "b", select=BOTH, unsafe=True)


def test_flask_sqlalchemy_db_column_and_a_named_column(tmp_path: Path) -> None:
    models = """
        from app import db


        class Award(db.Model):
            __tablename__ = "awards"
            id = db.Column(db.Integer, primary_key=True)
            user_id = db.Column("uid", db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"))
        """
    query = """
        from app.models import Award


        def mine(uid):
            return Award.query.filter_by(user_id=uid).limit(10).all()
        """
    files = {"app/__init__.py": "db = None\n", "app/models.py": models, "app/views.py": query}
    after = models.replace('ondelete="CASCADE"))', 'ondelete="CASCADE"), index=True)')
    result = assert_fixed(tmp_path, files, {"app/models.py": after}, select=["SA401"])
    (applied,) = result.applied
    assert "ix_awards_uid ON awards (uid)" in applied.description


def test_look_alikes_are_left_alone(tmp_path: Path) -> None:
    django = (
        "from django.db import models\n\n\nclass Order(models.Model):\n"
        "    user = models.ForeignKey('auth.User', on_delete=models.CASCADE, db_index=False)\n"
    )
    views = (
        "from shop.models import Order\n\n\ndef mine(request):\n"
        "    return list(Order.objects.filter(user=request.user)[:10])\n"
    )
    result = assert_fixed(
        tmp_path / "dj",
        {"shop/__init__.py": "", "shop/models.py": django, "shop/views.py": views},
        {"shop/models.py": django},
        select=["SA401"],
    )
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert "--unsafe-fixes" in skip.reason  # the Django fixer's, not a SQLAlchemy rewrite
    computed = MODELS.format(", **extra", "")
    result = assert_fixed(
        tmp_path / "star", _tree(**{"app/models.py": computed}), {"app/models.py": computed}, select=["SA401"]
    )
    assert any("not all visible" in s.reason for s in result.skipped)


@pytest.mark.parametrize(("table", "column"), [("orders", "user_id"), ("t" * 40, "c" * 40)])
def test_names_are_the_ones_sqlalchemy_gives_index_true(table: str, column: str) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    (index,) = Table(table, MetaData(), Column(column, Integer, index=True)).indexes
    ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    assert ddl.startswith(f"CREATE INDEX {index_name(table, column)} ON"), ddl


def _revision(rev: str, down: str | None) -> str:
    return f'revision = "{rev}"\ndown_revision = {down!r}\n\n\ndef upgrade():\n    pass\n'


ENV = "from alembic import context\n"


def test_revision_is_chained_to_the_head_and_written_once(tmp_path: Path) -> None:
    files = _tree(
        **{
            "migrations/env.py": ENV,
            "migrations/versions/a1_init.py": _revision("a1", None),
            "migrations/versions/b2_next.py": 'revision: str = "b2"\ndown_revision: str | None = "a1"\n',
        }
    )
    result = fix_tree(tmp_path, files, select=BOTH, unsafe=True, settings=MIGRATE)
    assert len(result.applied) == 1
    (created,) = [c for c in result.changes if c.created]
    text = (tmp_path / created.path).read_text()
    assert created.path.startswith("migrations/versions/") and created.path.endswith("_scaleaudit_indexes.py")
    assert 'down_revision = "b2"' in text and "autocommit_block()" in text
    assert 'op.create_index(op.f("ix_orders_user_id"), "orders", ["user_id"]' in text
    assert 'op.drop_index(op.f("ix_orders_note"), table_name="orders", postgresql_concurrently=True)' in text
    assert (tmp_path / "app/models.py").read_text() == dedent({"m": MODELS.format(", index=True", ", index=True")})["m"]
    settings = api.settings_for([tmp_path], isolated=True, **MIGRATE)
    again = run_fix([tmp_path], settings, write=True, use_cache=False, select=BOTH, unsafe=True)
    assert not again.changes


@pytest.mark.parametrize("recursive", [True, False])
def test_a_head_in_a_versions_subfolder_counts_only_when_alembic_reads_subfolders(
    tmp_path: Path, recursive: bool
) -> None:
    """With recursive_version_locations the head may sit in versions/2024/: chaining to its parent
    would make a second head. Without it, Alembic ignores that file, and so does the fix."""
    ini = "[alembic]\nscript_location = migrations\n" + ("recursive_version_locations = true\n" if recursive else "")
    files = _tree(
        **{
            "alembic.ini": ini,
            "migrations/env.py": ENV,
            "migrations/versions/a1_init.py": _revision("a1", None),
            "migrations/versions/2024/b2_next.py": _revision("b2", "a1"),
        }
    )
    result = fix_tree(tmp_path, files, select=BOTH, unsafe=True, settings=MIGRATE)
    (created,) = [c for c in result.changes if c.created]
    parent = "b2" if recursive else "a1"
    assert f'down_revision = "{parent}"' in (tmp_path / created.path).read_text()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({}, "no Alembic versions/ folder"),
        (
            {
                "migrations/env.py": ENV,
                "migrations/versions/a1.py": _revision("a1", None),
                "migrations/versions/b2.py": _revision("b2", "a1"),
                "migrations/versions/c3.py": _revision("c3", "a1"),
            },
            "several heads (b2, c3)",
        ),
        (
            {"one/env.py": ENV, "one/versions/a.py": _revision("a", None), "two/env.py": ENV, "two/versions/.keep": ""},
            "several Alembic histories",
        ),
    ],
)
def test_no_single_history_means_no_change_at_all(tmp_path: Path, extra: dict[str, str], says: str) -> None:
    result = assert_fixed(
        tmp_path, _tree(**extra), {"app/models.py": MODELS.format("", "")}, select=["SA401"], settings=MIGRATE
    )
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert says in skip.reason and "rerun without --migrations" in skip.reason
    assert not result.changes


# --- alembic upgrade/downgrade on the real PostgreSQL -----------------------------------------

INITIAL = """
    import sqlalchemy as sa
    from alembic import op

    revision = "0001"
    down_revision = None


    def upgrade():
        op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
        op.create_table(
            "orders",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
            sa.Column("note", sa.String(50)),
        )


    def downgrade():
        op.drop_table("orders")
        op.drop_table("users")
    """
ENV_ONLINE = """
    import os

    from alembic import context
    from sqlalchemy import create_engine

    with create_engine(os.environ["DB_URL"]).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    """


@pytest.fixture
def database() -> Iterator[str]:
    with throwaway_database("scaleaudit_alembic") as name:
        yield name


def _alembic(root: Path, database: str, *args: str) -> None:
    env = {**os.environ, "DB_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"}
    code = "import sys\nfrom alembic.config import main\nmain(argv=sys.argv[1:])"
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _indexes(database: str) -> set[str]:
    with psycopg.connect(url(database)) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'").fetchall()
    return {r[0] for r in rows}


def test_generated_revision_upgrades_and_downgrades_on_postgresql(tmp_path: Path, database: str) -> None:
    pytest.importorskip("alembic")
    files = _tree(
        **{
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": ENV_ONLINE,
            "migrations/script.py.mako": "",
            "migrations/versions/0001_init.py": INITIAL,
        }
    )
    write_tree(tmp_path, dedent(files))
    result = fix_tree(tmp_path, {}, select=BOTH, unsafe=True, settings=MIGRATE)
    assert len([c for c in result.changes if c.created]) == 1
    _alembic(tmp_path, database, "upgrade", "head")
    assert {"ix_orders_user_id", "ix_orders_note"} <= _indexes(database)
    _alembic(tmp_path, database, "downgrade", "0001")
    assert _indexes(database) == {"orders_pkey"}
    assert textwrap.dedent(INITIAL).strip() in (tmp_path / "migrations/versions/0001_init.py").read_text()


@pytest.mark.parametrize("orm", ["sqlalchemy", "django"])
def test_an_unbounded_text_column_is_not_indexed_but_the_edit_is_said(tmp_path: Path, orm: str) -> None:
    """CTFd filters `Files.location`, a Text column: indexed with a B-tree, a location over
    2.7 kB would no longer insert. The fix would trade a slow read for failed writes."""
    if orm == "sqlalchemy":
        models = MODELS.format("", "").replace("String(50)", "Text").replace("Integer, String", "Integer, Text")
        files = _tree(**{"app/models.py": models})
        says = 'Index("ix_orders_note_hash", "note", postgresql_using="hash")'
    else:
        models = (
            "from django.db import models\n\n\nclass Order(models.Model):\n    note = models.TextField()\n"
        )
        view = "from shop.models import Order\n\n\ndef by_note(request):\n    return Order.objects.filter(note=request.GET['n']).first()\n"  # fmt: skip
        files = {"shop/__init__.py": "", "shop/models.py": models, "shop/views.py": view}
        says = 'HashIndex(fields=["note"], name=...)'
    result = fix_tree(tmp_path, files, select=["SA402"], unsafe=True)
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA402"]
    assert "a B-tree index entry holds at most about 2.7 kB" in skip.reason and says in skip.reason, skip.reason


def test_the_btree_limit_the_skip_names_is_real() -> None:
    """What the skip above claims, on the real server: a 3 kB value does not fit a B-tree entry."""
    with throwaway_database("btree_limit") as database, psycopg.connect(url(database), autocommit=True) as conn:
        conn.execute("CREATE TABLE files (location text)")
        conn.execute("CREATE INDEX ix_files_location ON files (location)")
        long = "".join(f"{i:04x}" for i in range(2000))  # 8,000 characters that do not compress to 2.7 kB
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="index row size"):
            conn.execute("INSERT INTO files VALUES (%s || md5(random()::text))", (long,))
        conn.execute("DROP INDEX ix_files_location")
        conn.execute("CREATE INDEX ix_files_location_hash ON files USING hash (location)")
        conn.execute("INSERT INTO files VALUES (%s)", (long,))  # the hash index takes it
