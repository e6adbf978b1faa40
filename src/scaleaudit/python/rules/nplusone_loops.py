"""SA201 n-plus-one-relation-in-loop, the per-file half: attribute accesses on loop items.

A `for` loop or comprehension over a query result (`Ticket.objects.filter(...)`,
a variable holding one, `self.get_queryset()`, `session.scalars(select(Order))`)
binds an item; every `item.<name>` inside the loop becomes an
`orm-loop-access` fact with what the query loads. Whether `<name>` is a lazy
relation is the model registry's call, in `scaleaudit.project.nplusone_loops`:
the model usually lives in another file.

Limitation: only the first hop is followed (`t.owner` in `t.owner.team.name`
is checked, `owner.team` is not), so a missing `select_related("owner__team")`
goes unreported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.orm import Query, scope_label
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.nplusone_tracker import Tracker

_DJ_MODELS = (
    "from django.db import models\n"
    "class User(models.Model):\n    name = models.CharField(max_length=9)\n"
    "class Ticket(models.Model):\n    title = models.CharField(max_length=9)\n"
    "    owner = models.ForeignKey(User, on_delete=models.CASCADE)\n"
    "class Comment(models.Model):\n    body = models.TextField()\n"
    "    ticket = models.ForeignKey(Ticket, related_name='comments', on_delete=models.CASCADE)\n"
)
_SA_MODELS = (
    "from sqlalchemy import ForeignKey\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n"
    "class Base(DeclarativeBase):\n    pass\n"
    "class User(Base):\n    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    orders: Mapped[list['Order']] = relationship(back_populates='user')\n"
    "    tags: Mapped[list['Tag']] = relationship(lazy='selectin')\n"
    "    notes: Mapped[list['Note']] = relationship(lazy='raise')\n"
    "class Order(Base):\n    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), index=True)\n"
    "    user: Mapped[User] = relationship(back_populates='orders')\n"
)
_V = "from app.models import Ticket, User, Comment\n"
_S = "from sqlalchemy import select\nfrom sqlalchemy.orm import selectinload, joinedload\n"
_S += "from app.models import User, Order\n"


def _dj(view: str, **kw: object) -> Case:
    return Case({"app/models.py": _DJ_MODELS, "app/views.py": _V + view}, **kw)  # type: ignore[arg-type]


def _sa(code: str, **kw: object) -> Case:
    return Case({"app/models.py": _SA_MODELS, "app/api.py": _S + code}, **kw)  # type: ignore[arg-type]


@dataclass
class _Loop:
    target: str
    query: Query
    source: str
    node: cst.CSTNode


class RelationInLoopFacts(PythonRule):
    id = "SA201"
    TRIGGERS = (b"objects", b"select(", b".query(", b"scalars")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _dj("def v(request):\n    for t in Ticket.objects.select_related('owner'):\n        print(t.owner.name)\n"),
        _dj(
            "def v(request):\n    qs = Ticket.objects.filter(x=1)\n    qs = qs.select_related('owner__team')\n"
            "    return [t.owner.name for t in qs]\n"
        ),
        _dj(
            "def v(request):\n    for t in Ticket.objects.prefetch_related('comments'):\n"
            "        print(t.comments.all(), t.comments.count())\n"
        ),
        _dj(
            "def v(request):\n    for t in Ticket.objects.all():\n        print(t.owner_id, t.title)\n",
            note="the FK column itself needs no query",
        ),
        _dj("def v(request):\n    for t in Ticket.objects.values('owner__name'):\n        print(t['owner__name'])\n"),
        _dj("def v(request, names):\n    for t in names:\n        print(t.owner)\n", note="a plain list"),
        _dj("def v(request):\n    t = Ticket.objects.first()\n    for c in [t]:\n        print(c.owner)\n"),
        _dj("def v(request):\n    for t in Ticket.objects.select_related():\n        print(t.owner.name)\n"),
        _dj(
            "def v(request):\n    tickets = list(Ticket.objects.select_related('owner'))\n"
            "    for t in tickets:\n        print(t.owner)\n"
        ),
        _dj(
            "from django.db.models import Prefetch\ndef v(request):\n"
            "    for t in Ticket.objects.prefetch_related(Prefetch('comments')):\n"
            "        print(list(t.comments.all()))\n"
        ),
        _dj(
            "def v(request):\n    for t in Ticket.objects.all():\n        print(t.comments)\n",
            note="the manager itself is not evaluated",
        ),
        _sa(
            "def f(s):\n    for u in s.scalars(select(User).options(selectinload(User.orders))):\n"
            "        print(u.orders)\n"
        ),
        _sa(
            "def f(s):\n    for u in s.scalars(select(User)).all():\n        print(u.tags, u.notes)\n",
            note="lazy='selectin' and lazy='raise' relationships",
        ),
        _sa(
            "def f(s):\n    stmt = select(Order).options(joinedload(Order.user))\n"
            "    for o in s.scalars(stmt):\n        print(o.user.id)\n"
        ),
        _sa(
            "def f(s):\n    for row in s.execute(select(Order)):\n        print(row.user)\n",
            note="execute() yields Row tuples",
        ),
        _sa("def f(s):\n    for o in s.query(Order).options(joinedload(Order.user)).all():\n        print(o.user)\n"),
        _dj(
            "def v(request, owner):\n    for t in Ticket.objects.filter(x=1):\n        t.owner = owner\n"
            "        t.save()\n",
            note="assigning a relation sets it; nothing is loaded",
        ),
        _dj(
            "def v(request, names):\n    for t in Ticket.objects.select_related(*names):\n        print(t.owner)\n",
            note="select_related(*names): which names is unknown, so assume this one",
        ),
        _dj(
            "def v(request, paths):\n    for u in User.objects.prefetch_related(*paths):\n"
            "        print(u.ticket_set.count())\n",
            note="prefetch_related(*paths): unknown paths, assume loaded",
        ),
        Case(
            {
                "app/models.py": _DJ_MODELS,
                "app/tests/test_v.py": _V
                + "def test_x():\n    for t in Ticket.objects.all():\n        print(t.owner)\n",
            },
            note="tests are silent",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _dj("def v(request):\n    for t in Ticket.objects.filter(x=1):\n        print(t.owner.name)\n", expect=1),
        _dj("def v(request):\n    qs = Ticket.objects.all()\n    return [t.owner.name for t in qs]\n", expect=1),
        _dj("def v(request):\n    for t in Ticket.objects.all():\n        print(t.comments.count())\n", expect=1),
        _dj(
            "def v(request):\n    for t in Ticket.objects.prefetch_related('comments'):\n"
            "        print(t.comments.filter(body='x'))\n",
            expect=1,
            note="filter() on a prefetched manager queries",
        ),
        _dj(
            "def v(request):\n    for u in User.objects.all():\n        print(u.ticket_set.exists())\n",
            expect=1,
            note="default reverse accessor",
        ),
        _dj(
            "def v(request):\n    for t in Ticket.objects.select_related('comments'):\n        print(t.owner)\n",
            expect=1,
        ),
        _dj(
            "from django.views.generic import ListView\nclass L(ListView):\n    queryset = Ticket.objects.all()\n"
            "    def get_context_data(self, **kw):\n        return {'n': [t.owner for t in self.get_queryset()]}\n",
            expect=1,
        ),
        _dj(
            "def v(request):\n    for t in Ticket.objects.only('title'):\n        print(t.title, t.owner_id)\n"
            "        print(t.owner)\n",
            expect=1,
        ),
        _dj(
            "def v(request):\n    tickets = Ticket.objects.filter(x=1).order_by('-id')[:50]\n"
            "    return {t.id: t.owner.name for t in tickets}\n",
            expect=1,
            note="a slice bounds rows, not queries",
        ),
        _sa("def f(s):\n    for u in s.scalars(select(User)).all():\n        print(len(u.orders))\n", expect=1),
        _sa(
            "def f(s):\n    orders = s.scalars(select(Order).limit(50)).all()\n"
            "    return [o.user.id for o in orders]\n",
            expect=1,
        ),
        _sa("def f(s):\n    for o in s.query(Order).filter(Order.id > 5).all():\n        print(o.user)\n", expect=1),
        _sa(
            "def f(s):\n    stmt = select(User).where(User.id > 1)\n    for u in s.execute(stmt).scalars():\n"
            "        print(u.orders)\n",
            expect=1,
        ),
        _dj(
            "def v(request, owner):\n    for t in Ticket.objects.filter(x=1):\n        t.title = t.owner.name\n",
            expect=1,
            note="reading the relation on the right-hand side of an assignment queries",
        ),
        Case(
            {
                "app/models.py": _DJ_MODELS,
                "app/management/commands/x.py": _V + "def handle():\n"
                "    for t in Ticket.objects.all():\n        print(t.owner)\n",
            },
            expect=1,
            note="batch: low severity",
        ),
    )

    def setup(self) -> None:
        self.tracker = Tracker()
        self.loops: list[_Loop] = []
        self.next_attr: dict[int, str] = {}
        self.seen: set[tuple[int, str]] = set()
        self.stores: set[int] = set()  # `item.owner = x` sets the relation: no query

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)
        for target in node.targets:
            elements = target.target.elements if isinstance(target.target, (cst.Tuple, cst.List)) else ()
            for expr in (target.target, *(e.value for e in elements)):
                if isinstance(expr, cst.Attribute):
                    self.stores.add(id(expr))

    def visit_AnnAssign(self, node: cst.AnnAssign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)

    def visit_Return(self, node: cst.Return, ctx: PyContext) -> None:
        self.tracker.returned(node, ctx)

    def _loop(
        self, target: cst.BaseExpression, iterable: cst.BaseExpression, node: cst.CSTNode, ctx: PyContext
    ) -> None:
        if not isinstance(target, cst.Name) or ctx.is_test:
            return
        found = self.tracker.query(iterable, ctx)
        if found is None or not found[0].rows or found[0].single:
            return
        self.loops.append(_Loop(target.value, found[0], found[1], node))

    def visit_For(self, node: cst.For, ctx: PyContext) -> None:
        self._loop(node.target, node.iter, node, ctx)

    def _comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp, ctx: PyContext
    ) -> None:
        self._loop(node.for_in.target, node.for_in.iter, node, ctx)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Attribute(self, node: cst.Attribute, ctx: PyContext) -> None:
        inner = node.value
        if isinstance(inner, cst.Attribute) and isinstance(inner.value, cst.Name):
            self.next_attr[id(inner)] = node.attr.value
        if not isinstance(inner, cst.Name) or not self.loops or id(node) in self.stores:
            return
        loop = self._enclosing(inner.value, ctx)
        if loop is None or (id(loop.node), node.attr.value) in self.seen:
            return
        self.seen.add((id(loop.node), node.attr.value))
        self.fact(
            "orm-loop-access",
            node,
            **loop.query.data(),
            attr=node.attr.value,
            next=self.next_attr.get(id(node)),
            source=loop.source,
            scope=scope_label(ctx),
            loop=loop.node,
            query=loop.query.node,
        )

    def _enclosing(self, name: str, ctx: PyContext) -> _Loop | None:
        nodes = {id(f.node) for f in ctx.frames if f.kind in ("loop", "comprehension")}
        for loop in reversed(self.loops):
            if loop.target == name and id(loop.node) in nodes:
                return loop
        return None
