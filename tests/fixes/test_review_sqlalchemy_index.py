"""Review of the SQLAlchemy index fix: the SQL it prints names the table and index as
SQLAlchemy creates them, and a table in a schema is left to a human."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtest import fix_tree

from scaleaudit.fixes.sqlalchemy_index import create_index_sql

MODELS = """
from sqlalchemy import ForeignKey, Index, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    {base}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    {table_args}
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""
QUERY = """
from sqlalchemy import select

from app.models import Order


def orders_of(session, uid):
    return session.scalars(select(Order).where(Order.user_id == uid).limit(10)).all()
"""


@pytest.mark.parametrize(
    ("table", "column"), [("Orders", "user_id"), ("user", "order"), ("order lines", "Qty"), ("orders", "user_id")]
)
def test_the_sql_quotes_names_as_sqlalchemys_ddl_does(table: str, column: str) -> None:
    # `ON Orders (user_id)` folded to `orders` (another table, or none); `ON user (order)` did not parse.
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    (index,) = Table(table, MetaData(), Column(column, Integer, index=True)).indexes
    ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    concurrently = ddl.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1)
    assert create_index_sql(table, column) == concurrently + ";"


@pytest.mark.parametrize(
    ("base", "table_args", "reason"),
    [
        ("pass", '__table_args__ = {"schema": "shop"}', "`Order` is in a schema (`__table_args__`)"),
        ("pass", '__table_args__ = (Index("x", "id"), {"schema": "shop"})', "`Order` is in a schema"),
        ('metadata = MetaData(schema="shop")', "", "this module's MetaData sets a schema"),
        ("pass", "__table_args__ = TABLE_ARGS", "`__table_args__` is not a literal this fix can read"),
    ],
    ids=["dict", "tuple", "metadata", "name"],
)
def test_a_table_in_a_schema_is_skipped(tmp_path: Path, base: str, table_args: str, reason: str) -> None:
    # SQLAlchemy names that index ix_shop_orders_user_id, on shop.orders: the printed SQL and an
    # Alembic revision named ix_orders_user_id on `orders` (another table, or none).
    models = MODELS.format(base=base, table_args=table_args)
    files = {"app/__init__.py": "", "app/models.py": models, "app/queries.py": QUERY}
    result = fix_tree(tmp_path, files, select=["SA401"])
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert reason in skip.reason and "add `index=True` to `Order.user_id`" in skip.reason, skip.reason


def test_table_args_with_constraints_only_is_indexed(tmp_path: Path) -> None:
    models = MODELS.format(base="pass", table_args='__table_args__ = (Index("ix_orders_id", "id"),)')
    files = {"app/__init__.py": "", "app/models.py": models, "app/queries.py": QUERY}
    result = fix_tree(tmp_path, files, select=["SA401"])
    assert len(result.applied) == 1, result.skipped
    text = (tmp_path / "app/models.py").read_text()
    assert 'user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)' in text
