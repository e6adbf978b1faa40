"""SA401 foreign-key-without-index, the per-file half: one `model` fact per model class.

Django and SQLAlchemy (1.x `Column`, 2.0 `Mapped[...]`/`mapped_column`) model
classes become `model` facts: table, columns, which ones an index covers,
relations. The decision — is a foreign key unindexed, and does the code use
it — needs every file's facts, so it happens in `scaleaudit.project.missing_index`.
Module-level `Index("ix", Order.user_id)` declarations are folded into the
model they name when it is declared in the same file.
"""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.models_syntax import ModelDraft, django_model, index_columns, sqlalchemy_model

_SA = "from sqlalchemy import Column, ForeignKey, Integer, String, Index, UniqueConstraint\n"
_SA += "from sqlalchemy.orm import declarative_base\n"
_SA += "Base = declarative_base()\nclass User(Base):\n    __tablename__ = 'users'\n"
_SA += "    id = Column(Integer, primary_key=True)\n"
_DJ = "from django.db import models\nclass User(models.Model):\n    name = models.CharField(max_length=5)\n"
_ORDER = "class Order(Base):\n    __tablename__ = 'orders'\n    id = Column(Integer, primary_key=True)\n"
_FK = "    user_id = Column(ForeignKey('users.id'))\n"
_USE_SA = "from sqlalchemy import select\nfrom app.models import Order\ndef f(s, u):\n"
_USE_SA += "    return s.scalars(select(Order).where(Order.user_id == u).limit(5)).all()\n"


_USE_DJ = "from app.models import Order\ndef f(u):\n    return Order.objects.filter(user=u)[:5]\n"


def _sa(order_body: str, **kw: Any) -> Case:
    return Case({"app/models.py": _SA + _ORDER + order_body, "app/q.py": _USE_SA}, **kw)


def _dj(order_body: str, **kw: Any) -> Case:
    return Case({"app/models.py": _DJ + "class Order(models.Model):\n" + order_body, "app/views.py": _USE_DJ}, **kw)


def app_label(rel: str) -> str:
    """The Django app a model file belongs to: the directory above any `models` package
    (`shop/models.py`, `shop/models/order.py` and NetBox's `extras/models/models.py` are all
    in app `shop`/`extras`), which is what Django's default table name starts with."""
    parts = rel.split("/")[:-1]
    if "models" in parts:
        parts = parts[: len(parts) - 1 - parts[::-1].index("models")]
    return parts[-1] if parts else ""


class ModelFacts(PythonRule):
    id = "SA401"
    TRIGGERS = (b"django.db", b"__tablename__")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _dj("    user = models.ForeignKey(User, on_delete=1)\n", note="Django indexes ForeignKey columns itself"),
        _sa("    user_id = Column(ForeignKey('users.id'), index=True)\n"),
        _sa(_FK + "    __table_args__ = (Index('ix_o_u', 'user_id', 'id'),)\n", note="a composite index led by it"),
        _sa(_FK + "Index('ix_orders_user', Order.user_id)\n", note="module-level Index() on the column"),
        _sa(_FK + "    __table_args__ = (UniqueConstraint('user_id', 'id'),)\n", note="a unique constraint"),
        Case(
            {
                "app/models.py": _SA + "class Profile(Base):\n    __tablename__ = 'profiles'\n"
                "    user_id = Column(ForeignKey('users.id'), primary_key=True)\n",
                "app/q.py": _USE_SA,
            },
            note="the FK is the primary key",
        ),
        _dj(
            "    user = models.ForeignKey(User, on_delete=1, db_index=False)\n    name = models.CharField()\n"
            "    class Meta:\n        unique_together = [('user', 'name')]\n"
        ),
        _dj(
            "    user = models.ForeignKey(User, on_delete=1, db_index=False)\n"
            "    class Meta:\n        indexes = [models.Index(fields=['user', '-id'])]\n"
        ),
        _dj("    user = models.OneToOneField(User, on_delete=1, db_index=False)\n", note="one-to-one is unique"),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _sa(_FK, expect=1),
        _sa("    user_id = Column(ForeignKey(User.id))\n", expect=1, note="ForeignKey(Model.col) form"),
        _sa(
            _FK + "    __table_args__ = (Index('ix', 'id', 'user_id'),)\n",
            expect=1,
            note="an index with the FK second does not serve lookups by it",
        ),
        _sa("    user_id = Column('uid', ForeignKey('users.id'))\n", expect=1, note="explicit column name"),
        _dj("    user = models.ForeignKey(User, on_delete=1, db_index=False)\n", expect=1),
        Case(
            {
                "app/models.py": "from sqlalchemy import ForeignKey\n"
                "from sqlalchemy.orm import DeclarativeBase, Mapped, "
                "mapped_column, relationship\nclass Base(DeclarativeBase):\n    pass\nclass User(Base):\n"
                "    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                "    orders: Mapped[list['Order']] = relationship(back_populates='user')\nclass Order(Base):\n"
                "    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                "    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'))\n",
                "app/q.py": "from sqlalchemy import select\nfrom app.models import User\ndef f(s):\n"
                "    for u in s.scalars(select(User).limit(9)):\n        print(len(u.orders))\n",
            },
            expect=1,
            note="loading user.orders filters orders by user_id",
        ),
    )

    def setup(self) -> None:
        self.drafts: dict[str, ModelDraft] = {}
        self.loose_indexes: list[cst.Call] = []

    def visit_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        if ctx.frames or ctx.is_test:
            return
        bases = [b for arg in node.bases if (b := ctx.imports.resolve(arg.value))]
        draft = sqlalchemy_model(node, bases) or django_model(node, ctx.imports, app_label(ctx.rel), bases)
        if draft is not None:
            self.drafts[draft.name] = draft

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.at_module_level and not ctx.frames and (ctx.imports.resolve(node.func) or "").endswith(".Index"):
            self.loose_indexes.append(node)

    def finish(self) -> None:
        for call in self.loose_indexes:
            args = [a.value for a in call.args[1:] if a.keyword is None]
            owner = args[0].value if args and isinstance(args[0], cst.Attribute) else None
            if isinstance(owner, cst.Name) and owner.value in self.drafts:
                self.drafts[owner.value].index_fields.append(index_columns(call, skip_name=True))
        for draft in self.drafts.values():
            # The class encloses every field node in the data: it places them cheaply.
            self.fact("model", draft.node.name, hints=(draft.node,), **draft.data())
