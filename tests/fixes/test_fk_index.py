"""SA401 fix: index=True on an unindexed SQLAlchemy foreign key, plus the migration statement."""

from __future__ import annotations

from pathlib import Path

from fixtest import assert_fixed, assert_idempotent

from scaleaudit.fixes.fk_index import create_index_sql

MODELS = """
    from sqlalchemy import ForeignKey, Integer
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
    """
QUERY = """
    from sqlalchemy import select

    from app.models import Order


    def orders_of(session, uid):
        return session.scalars(select(Order).where(Order.user_id == uid).limit(10)).all()
    """


def test_mapped_column_gets_index_and_the_migration_statement_is_printed(tmp_path: Path) -> None:
    before = {"app/__init__.py": "", "app/models.py": MODELS.format(""), "app/queries.py": QUERY}
    result = assert_fixed(tmp_path, before, {"app/models.py": MODELS.format(", index=True")}, select=["SA401"])
    (applied,) = result.applied
    assert create_index_sql("orders", "user_id") in applied.description
    assert create_index_sql("orders", "user_id") == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_user_id ON orders (user_id);"
    )
    assert_idempotent(tmp_path, select=["SA401"])


def test_django_foreign_keys_are_left_to_a_human(tmp_path: Path) -> None:
    models = (
        "from django.db import models\n\n\nclass Order(models.Model):\n"
        "    user = models.ForeignKey('auth.User', on_delete=models.CASCADE, db_index=False)\n"
    )
    views = (
        "from shop.models import Order\n\n\ndef mine(request):\n"
        "    return list(Order.objects.filter(user=request.user)[:10])\n"
    )
    before = {"shop/__init__.py": "", "shop/models.py": models, "shop/views.py": views}
    result = assert_fixed(tmp_path, before, {"shop/models.py": models}, select=["SA401"])
    assert not result.applied
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert "by hand" in skip.reason and "Meta.indexes" in skip.reason
