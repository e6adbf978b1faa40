"""SA402 filtered-column-without-index, the per-file half: `query-filter` facts.

Every ORM filter or ordering we can read becomes a `query-filter` fact:
`Ticket.objects.filter(email=...)`, `.exclude()`, `.get()`, `.order_by("-created")`,
SQLAlchemy `.where(User.email == x)`, `.filter()`, `.filter_by(email=x)`,
`.order_by(User.created_at.desc())`, `.join(Order, Order.user_id == User.id)`.
`columns` holds the model attribute names as written (the registry maps them
to column names); the project phase joins them with the models' indexes
(`scaleaudit.project.missing_index`), and the live check with the database's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import scope_label, staff_only, string_args
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.nplusone_tracker import Tracker

# Not exclude(): `<>`/NOT IN reads most of the table, which no B-tree index helps with.
_DJANGO_FILTERS = frozenset({"filter", "get", "get_or_create", "update_or_create"})
_SA_FILTERS = frozenset({"where", "filter"})
_LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "startswith",
        "istartswith",
        "isnull",
        "range",
        "date",
        "year",
        "month",
        "day",
        "contains",
        "icontains",
    }
)

_DJ = (
    "from django.db import models\nclass Ticket(models.Model):\n    email = models.EmailField()\n"
    "    code = models.CharField(max_length=9, unique=True)\n    slug = models.SlugField()\n"
    "    done = models.BooleanField(default=False)\n    created = models.DateTimeField(db_index=True)\n"
    "    title = models.CharField(max_length=9)\n    class Meta:\n"
    "        indexes = [models.Index(fields=['title', 'email'])]\n"
)
_SA = (
    "from sqlalchemy import Column, ForeignKey, Integer, String, Boolean, Index\n"
    "from sqlalchemy.orm import declarative_base\n"
    "Base = declarative_base()\nclass User(Base):\n    __tablename__ = 'users'\n"
    "    id = Column(Integer, primary_key=True)\n    email = Column(String, unique=True)\n"
    "    name = Column(String)\n    active = Column(Boolean)\n    city = Column(String)\n"
    "    __table_args__ = (Index('ix_users_city', 'city', 'name'),)\n"
)


def _dj(view: str, **kw: object) -> Case:
    return Case({"app/models.py": _DJ, "app/views.py": "from app.models import Ticket\n" + view}, **kw)  # type: ignore[arg-type]


def _sa(code: str, **kw: object) -> Case:
    head = "from sqlalchemy import select, desc\nfrom app.models import User\n"
    return Case({"app/models.py": _SA, "app/api.py": head + code}, **kw)  # type: ignore[arg-type]


def django_fields(call: cst.Call, method: str) -> list[str]:
    if method == "order_by":
        return [f.lstrip("-") for f in string_args(call) if f != "?" and "__" not in f]
    out: list[str] = []
    for arg in call.args:
        if arg.keyword is None:
            continue
        parts = arg.keyword.value.split("__")
        if len(parts) == 1 or (len(parts) == 2 and parts[1] in _LOOKUPS):
            out.append(parts[0])
    return [f for f in out if f not in ("defaults", "create_defaults")]


def join_paths(call: cst.Call) -> list[str]:
    """`project__key=x` -> "project": the query reaches its rows through that relation's index."""
    out: list[str] = []
    for arg in call.args:
        parts = arg.keyword.value.split("__") if arg.keyword is not None else []
        if len(parts) > 2 or (len(parts) == 2 and parts[1] not in _LOOKUPS):
            out.append(parts[0])
    return out


def _sa_columns(node: cst.BaseExpression) -> Iterator[tuple[str, str]]:
    """(Model, attr) pairs compared in a where()/filter()/order_by() argument."""
    if isinstance(node, cst.Comparison):
        if any(isinstance(c.operator, (cst.NotEqual, cst.IsNot, cst.NotIn)) for c in node.comparisons):
            return  # `<>`/IS NOT/NOT IN read most rows: no B-tree index helps
        yield from _sa_columns(node.left)
        for target in node.comparisons:
            yield from _sa_columns(target.comparator)
    elif isinstance(node, cst.BooleanOperation):
        yield from _sa_columns(node.left)
        yield from _sa_columns(node.right)
    elif isinstance(node, cst.Call):
        callee = dotted(node.func) or ""
        name = callee.rsplit(".", 1)[-1]
        if name == "or_":
            return  # OR of conditions: one index does not serve it
        if name in ("and_", "desc", "asc", "lower", "nulls_last", "nulls_first"):
            for arg in node.args:
                yield from _sa_columns(arg.value)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in (
            "desc",
            "asc",
            "in_",
            "is_",
            "like",
            "ilike",
            "between",
            "startswith",
            "is_not",
            "isnot",
        ):
            yield from _sa_columns(node.func.value)
    else:
        full = dotted(node) if isinstance(node, cst.Attribute) else None
        if full and full.count(".") == 1:
            model, attr = full.split(".")
            if model[:1].isupper() and not attr[:1].isupper():
                yield model, attr


def _filtered_before(node: cst.Call) -> bool:
    receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
    while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
        if receiver.func.attr.value in ("where", "filter", "filter_by"):
            return True
        receiver = receiver.func.value
    return False


class FilterFacts(PythonRule):
    id = "SA402"
    TRIGGERS = (b"objects", b"where(", b"filter", b"order_by")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _dj("def v(r):\n    return Ticket.objects.get(code='x')\n", note="unique"),
        _dj("def v(r):\n    return Ticket.objects.filter(slug='x').first()\n", note="SlugField has an index"),
        _dj("def v(r):\n    return Ticket.objects.filter(done=False)[:5]\n", note="booleans are poor index keys"),
        _dj("def v(r):\n    return Ticket.objects.order_by('-created')[:5]\n"),
        _dj("def v(r):\n    return Ticket.objects.filter(title__startswith='a')[:5]\n", note="leads a composite"),
        _dj("def v(r):\n    return Ticket.objects.filter(pk=1, id=2)\n"),
        _dj("def v(r):\n    return Ticket.objects.order_by('title')[:5]\n", note="title leads the composite index"),
        _dj(
            "def v(r):\n    return Ticket.objects.filter(code='x').order_by('email')[:5]\n",
            note="sorted after a filter",
        ),
        _dj(
            "def v(r):\n    return Ticket.objects.filter(email='a', title='b')[:5]\n",
            note="one of the filtered columns leads an index",
        ),
        _sa("def f(s, e):\n    return s.scalars(select(User).where(User.email == e)).first()\n"),
        _sa("def f(s):\n    return s.scalars(select(User).where(User.active.is_(True)).limit(5)).all()\n"),
        _sa("def f(s):\n    return s.query(User).filter_by(city='x').first()\n"),
        _sa("def f(s):\n    return s.scalars(select(User).order_by(User.id.desc()).limit(5)).all()\n"),
        Case(
            {
                "app/models.py": _DJ,
                "app/migrations/0002.py": "from app.models import Ticket\n"
                "def run(apps, schema):\n    Ticket.objects.filter(email='x').update(email='y')\n",
            },
            note="migrations run once",
        ),
        Case(
            {
                "app/models.py": _DJ,
                "app/tests/test_t.py": "from app.models import Ticket\n"
                "def test_t():\n    assert Ticket.objects.filter(email='x').exists()\n",
            }
        ),
        _dj(
            "def v(r, u):\n    return Ticket.objects.filter(owner__name='x')[:5]\n",
            note="a join path: not a column here",
        ),
        _sa("def f(s, n):\n    return s.scalars(select(User).where(Other.name == n)).all()\n", note="unknown model"),
        _sa(
            "def f(s, n):\n    return s.scalars(select(User).where(User.name != n)).first()\n",
            note="<> is not indexable",
        ),
        _dj(
            "def v(r):\n    qs = Ticket.objects.all()\n    return qs.exclude(email='').first()\n",
            note="exclude() is <> / NOT IN: it reads most rows, no B-tree index helps",
        ),
        _dj(
            "def v(r, e):\n    qs = Ticket.objects.filter(code=e)\n    qs = qs.filter(email=e)\n"
            "    return qs.first()\n",
            note="an earlier filter in the chain is on a unique column: it narrows the rows first",
        ),
        _dj(
            "def v(r, e, k):\n    return Ticket.objects.get(email=e, owner__key=k)\n",
            note="a join path through a foreign key: Django indexes owner_id, which narrows first",
        ),
        Case(
            {
                "app/models.py": _DJ.replace(
                    "indexes = [", "indexes = [models.Index(fields=['email'], name='x', condition=Q(done=False)), "
                ),
                "app/views.py": "from app.models import Ticket\n"
                "def v(r, e):\n    return Ticket.objects.filter(email=e, done=False).first()\n",
            },
            note="a partial index on the column",
        ),
        Case(
            {
                "app/models.py": "from app import db\nclass User(db.Model):\n    __tablename__ = 'users'\n"
                "    id = db.Column(db.Integer, primary_key=True)\n    banned = db.Column(db.Boolean)\n"
                "    tags = db.Column(db.ARRAY(db.String))\n",
                "app/api.py": "from app.models import User\ndef f(s):\n"
                "    return User.query.filter_by(banned=False).first(), User.query.filter_by(tags=['a']).first()\n",
            },
            note="Flask-SQLAlchemy db.Boolean; arrays need GIN, not the B-tree this rule suggests",
        ),
        Case(
            {
                "app/models.py": _SA + "class Order(Base):\n    __tablename__ = 'orders'\n"
                "    id = Column(Integer, primary_key=True)\n    user_id = Column(ForeignKey('users.id'))\n"
                "    note = Column(String)\n",
                "app/api.py": "from app.models import Order\ndef f(s, uid, n):\n"
                "    return s.query(Order).filter(Order.user_id == uid).filter(Order.note == n).first()\n",
            },
            note="an unindexed foreign key in the same query is SA401's finding",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _dj("def v(r, e):\n    return Ticket.objects.filter(email=e).first()\n", expect=1),
        _dj("def v(r, e):\n    return Ticket.objects.get(email__iexact=e)\n", expect=1),
        _dj(
            "def v(r, e):\n    a = Ticket.objects.filter(email=e).first()\n    b = Ticket.objects.get(email=e)\n",
            expect=1,
            note="one finding per column, every site related",
        ),
        _sa("def f(s, n):\n    return s.scalars(select(User).where(User.name == n)).first()\n", expect=1),
        _sa("def f(s, n):\n    return s.query(User).filter_by(name=n).first()\n", expect=1),
        _sa("def f(s):\n    return s.scalars(select(User).order_by(desc(User.name)).limit(9)).all()\n", expect=1),
        _sa(
            "from sqlalchemy import and_\ndef f(s, n):\n"
            "    return s.scalars(select(User).where(and_(User.name == n, User.active))).first()\n",
            expect=1,
        ),
        _sa("def f(s, n):\n    return s.scalars(select(User).where(User.name.ilike(n)).limit(5)).all()\n", expect=1),
        _dj(
            "def v(r, e):\n    qs = Ticket.objects.exclude(done=True)\n    return qs.filter(email=e).first()\n",
            expect=1,
            note="an exclude() earlier in the chain narrows nothing an index could use",
        ),
    )

    def setup(self) -> None:
        self.tracker = Tracker()

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)

    def visit_Return(self, node: cst.Return, ctx: PyContext) -> None:
        self.tracker.returned(node, ctx)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if not isinstance(node.func, cst.Attribute) or ctx.is_test or ctx.is_migration:
            return
        method = node.func.attr.value
        found = self.tracker.query(node.func.value, ctx)
        # Columns the query already filters by: an index on one of them narrows the rows first.
        context = list(found[0].filtered) if found is not None else []
        if method in _SA_FILTERS or method in ("order_by", "join", "outerjoin"):
            self._sqlalchemy(node, method, context, ctx)
        if method in _DJANGO_FILTERS or method in ("order_by", "filter_by"):
            if found is None:
                return
            query = found[0]
            if method == "order_by" and any(m in _DJANGO_FILTERS for m in query.methods):
                return  # sorting rows already narrowed by a filter: the filter's index is what matters
            fields = django_fields(node, method) if query.orm == "django" or method == "filter_by" else []
            if fields and (query.orm == "django" or method == "filter_by"):
                clause = "order_by" if method == "order_by" else "where"
                context += join_paths(node)
                self._emit(node, query.orm, query.model, query.qualname, fields, clause, context, ctx)

    def _sqlalchemy(self, node: cst.Call, method: str, context: list[str], ctx: PyContext) -> None:
        if method == "order_by" and _filtered_before(node):
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            receiver = receiver.func.value
        if isinstance(receiver, cst.Name) and self.tracker.query(receiver, ctx) is None:
            return  # `q = q.filter(...)` on a query we could not read: its earlier filters are unknown
        by_model: dict[str, list[str]] = {}
        for arg in node.args:
            for model, attr in _sa_columns(arg.value):
                by_model.setdefault(model, []).append(attr)
        clause = {"order_by": "order_by", "join": "join", "outerjoin": "join"}.get(method, "where")
        for model, attrs in by_model.items():
            qualname = self.ctx.imports.resolve_dotted(model)
            self._emit(node, "sqlalchemy", model, qualname, attrs, clause, context, ctx)

    def _emit(
        self,
        node: cst.Call,
        orm: str,
        model: str,
        qualname: str,
        fields: list[str],
        clause: str,
        context: list[str],
        ctx: PyContext,
    ) -> None:
        unique = list(dict.fromkeys(fields))
        self.fact(
            "query-filter",
            node,
            orm=orm,
            model=model,
            qualname=qualname,
            table=None,
            columns=unique,
            clause=clause,
            context=[c for c in dict.fromkeys(context) if c not in unique],
            scope="staff" if staff_only(ctx) else scope_label(ctx),
        )
