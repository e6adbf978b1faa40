"""SA301 unbounded-result-in-handler: a request handler sends a whole table to the client.

Inside a route handler or view, a query result with no slice, `.limit()`,
`take=` or paginator that leaves the app — returned, serialized
(`Serializer(qs, many=True)`), or rendered (`render(request, tpl, {"x": qs})`,
`render_template(..., x=qs)`):

* Django querysets (`Model.objects.all()/filter()/values()` ...), directly,
  through a variable, or through `self.get_queryset()`;
* SQLAlchemy `select(...)`/`session.query(...)` fetched with `.all()`;
* raw SQL passed to `execute()`/`text()` and fetched whole (`fetchall()`,
  `.all()`), parsed with sqlglot: a SELECT with a FROM and no LIMIT. A
  FROM-less SELECT or an aggregate-only query returns one row; unparsable SQL
  is left alone;
* prisma-client-py `find_many()` without `take`.

Silent outside request handlers: management commands, Celery tasks, scripts
and migrations process whole tables by design (their problem is memory, not
response size), and tests. A function that uses a paginator is silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from scaleaudit.model import Confidence
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import keyword, staff_only, unbounded_select
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.nplusone_tracker import Tracker

_RENDERERS = (
    "render",
    "render_to_response",
    "TemplateResponse",
    "render_template",
    "render_to_string",
    "TemplateResponse",
)
_FETCH_ALL = frozenset({"fetchall", "all"})
# Calls whose result carries their argument's rows out of the handler. Any other call
# (`get_object_or_404(qs, pk=1)`, `len(qs)`, a local generator) may reduce them: not followed.
_PASS_THROUGH = frozenset({"list", "tuple", "set", "sorted", "dict", "jsonify", "make_response", "enumerate"})
_PASS_THROUGH_SUFFIXES = ("Response", "Serializer", "Schema")
# Framework hooks that return a queryset for the framework to page or to fetch one object from.
_HOOKS = frozenset({"get_queryset", "get_object", "get_serializer_class", "filter_queryset"})


def _passes_rows(call: cst.Call) -> bool:
    name = (dotted(call.func) or "").rsplit(".", 1)[-1]
    return name in _PASS_THROUGH or name.endswith(_PASS_THROUGH_SUFFIXES)


@dataclass
class _Site:
    node: cst.CSTNode
    what: str
    function: int
    confidence: Confidence


def _parts(expr: cst.BaseExpression, depth: int = 0) -> Iterator[cst.BaseExpression]:
    """The expression and the sub-expressions whose value flows into it (arguments, items, iterables)."""
    yield expr
    if depth > 4:
        return
    children: list[cst.BaseExpression] = []
    if isinstance(expr, cst.Call):
        children = [a.value for a in expr.args] if _passes_rows(expr) else []
    elif isinstance(expr, cst.Attribute):
        children = [expr.value]
    elif isinstance(expr, cst.Await):
        children = [expr.expression]
    elif isinstance(expr, cst.Dict):
        children = [e.value for e in expr.elements if isinstance(e, cst.DictElement)]
    elif isinstance(expr, (cst.List, cst.Tuple)):
        children = [e.value for e in expr.elements]
    elif isinstance(expr, (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)):
        children = [expr.for_in.iter]
    for child in children:
        yield from _parts(child, depth + 1)


_H = "from fastapi import APIRouter\nfrom sqlalchemy import select, text, func\nrouter = APIRouter()\n"
_D = "from django.shortcuts import render\nfrom django.http import JsonResponse\nfrom app.models import Ticket\n"


def _views(code: str) -> Case:
    return Case(_D + code, path="app/views.py")


class UnboundedResult(PythonRule):
    id = "SA301"
    TRIGGERS = (b"objects", b"select(", b".query", b"execute", b"find_many", b"get_queryset", b"text(")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _views("def index(request):\n    return render(request, 't.html', {'t': Ticket.objects.all()[:20]})\n"),
        _views(
            "from django.core.paginator import Paginator\ndef index(request):\n    qs = Ticket.objects.all()\n"
            "    page = Paginator(qs, 25).get_page(request.GET.get('page'))\n"
            "    return render(request, 't.html', {'page': page})\n"
        ),
        _views("def one(request, pk):\n    return JsonResponse({'t': Ticket.objects.get(pk=pk).title})\n"),
        _views("def n(request):\n    return JsonResponse({'n': Ticket.objects.filter(open=True).count()})\n"),
        _views("def first(request):\n    return JsonResponse({'t': str(Ticket.objects.filter(x=1).first())})\n"),
        _H + "@router.get('/')\ndef f(s):\n    return s.scalars(select(User).limit(50)).all()\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select count(*) from users')).scalar()\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select id from users limit 20')).all()\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select now()')).all()\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.scalar(select(func.count()).select_from(User))\n",
        _H + "@router.get('/')\ndef f(s, uid):\n    return s.get(User, uid)\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select name from users where id = 1')).first()\n",
        Case(
            _D + "def handle(*a):\n    return list(Ticket.objects.all())\n",
            path="app/management/commands/dump.py",
            note="batch code processes whole tables by design",
        ),
        "def helper():\n    return Ticket.objects.all()\n",
        _H + "@router.get('/')\nasync def f(prisma):\n    return await prisma.user.find_many(take=20)\n",
        _views("def index(request):\n    return render(request, 't.html', {'n': Ticket.objects.aggregate(n=1)})\n"),
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select status, count(*) from orders group by "
        "status')).all()\n",
        _H + "@router.get('/')\ndef f(cur):\n    cur.execute('select id from t order by id limit 10')\n"
        "    return cur.fetchall()\n",
        "from rest_framework.generics import ListAPIView\nclass L(ListAPIView):\n"
        "    def get_queryset(self):\n        return Ticket.objects.filter(open=True)\n",
        _views(
            "from django.shortcuts import get_object_or_404\ndef one(request, pk):\n"
            "    return JsonResponse({'t': str(get_object_or_404(Ticket.objects.all(), pk=pk))})\n"
        ),
        _views(
            "def metrics(request):\n    checks = Ticket.objects.all()\n    def lines(rows):\n        yield 'n'\n"
            "    return HttpResponse(lines(checks))\n"
        ),
        _views(
            "from django.db.models import Count\ndef by_status(request):\n"
            "    rows = Ticket.objects.values('status').annotate(n=Count('id'))\n"
            "    return JsonResponse({'rows': list(rows)})\n"
        ),
        "from flask import Flask\nfrom sqlalchemy import func\napp = Flask(__name__)\n@app.route('/s')\n"
        "def s():\n    data = User.query.with_entities(User.country, func.count(User.id))"
        ".group_by(User.country).all()\n"
        "    return {'data': dict(data)}\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _views("def index(request):\n    return render(request, 't.html', {'tickets': Ticket.objects.all()})\n"),
        _views(
            "def index(request):\n    qs = Ticket.objects.filter(open=True).order_by('-id')\n"
            "    return JsonResponse({'items': list(qs.values())})\n"
        ),
        _views("def index(request):\n    return JsonResponse([t.title for t in Ticket.objects.all()], safe=False)\n"),
        "from rest_framework.views import APIView\nfrom rest_framework.response import Response\n"
        "class L(APIView):\n    def get(self, request):\n"
        "        return Response(TicketSerializer(Ticket.objects.all(), many=True).data)\n",
        "from rest_framework.generics import GenericAPIView\nfrom rest_framework.response import Response\n"
        "class L(GenericAPIView):\n    queryset = Ticket.objects.all()\n    def get(self, request):\n"
        "        s = TicketSerializer(self.get_queryset(), many=True)\n        return Response(s.data)\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.scalars(select(User)).all()\n",
        _H
        + "@router.get('/')\ndef f(s):\n    rows = s.scalars(select(User).where(User.active)).all()\n    return rows\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.query(User).filter(User.active).all()\n",
        _H + "@router.get('/')\ndef f(s):\n    return s.execute(text('select id, name from users')).mappings().all()\n",
        _H + "@router.get('/')\ndef f(cur):\n    cur.execute('SELECT * FROM orders WHERE status = %s', ('x',))\n"
        "    return cur.fetchall()\n",
        _H + "@router.get('/')\nasync def f(prisma):\n    return await prisma.user.find_many(where={'a': 1})\n",
        "from flask import Flask, render_template\napp = Flask(__name__)\n@app.route('/t')\n"
        "def t():\n    return render_template('t.html', tickets=Ticket.query.all())\n",
        _views(
            "def index(request):\n    tickets = Ticket.objects.all()\n    return render(request, 't.html', "
            "{'tickets': tickets})\n"
        ),
        _views("def index(request):\n    return JsonResponse({'t': sorted(Ticket.objects.filter(open=True))})\n"),
        _H + "@router.get('/')\ndef f(s):\n    rows = s.execute(text('select o.id from orders o join users u on "
        "u.id = o.user_id')).fetchall()\n    return [dict(r) for r in rows]\n",
    )

    def setup(self) -> None:
        self.tracker = Tracker()
        self.sites: list[_Site] = []
        self.paginated: set[int] = set()
        self.executes: dict[tuple[int, str], cst.Call] = {}

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)
        if ctx.in_handler and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._raw_sql(node.value, ctx)

    def visit_Return(self, node: cst.Return, ctx: PyContext) -> None:
        self.tracker.returned(node, ctx)
        function = ctx.function
        if node.value is not None and self._active(ctx) and function is not None and function.name not in _HOOKS:
            self._examine(node.value, ctx)

    def _active(self, ctx: PyContext) -> bool:
        return ctx.in_handler and not (ctx.is_batch or ctx.is_test)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if not self._active(ctx) or ctx.function is None:
            return
        callee = dotted(node.func) or ""
        name = callee.rsplit(".", 1)[-1]
        if "paginat" in callee.lower() or name == "Paginator":
            self.paginated.add(id(ctx.function.node))
        elif name in _RENDERERS:
            for arg in node.args[1:] if name != "render_template" else node.args:
                self._examine(arg.value, ctx, Confidence.MEDIUM)
        elif isinstance(keyword(node, "many"), cst.Name) and node.args and node.args[0].keyword is None:
            self._examine(node.args[0].value, ctx)
        elif name == "fetchall" and isinstance(node.func, cst.Attribute):
            receiver = dotted(node.func.value) or ""
            execute = self.executes.get((id(ctx.function.node), receiver))
            if execute is not None:
                self._site(execute, "raw SQL fetched with fetchall()", ctx, Confidence.MEDIUM)
        elif name == "execute" and isinstance(node.func, cst.Attribute) and node.args:
            sql = _sql_text(node.args[0].value)
            if sql is not None and unbounded_select(sql):
                self.executes[(id(ctx.function.node), dotted(node.func.value) or "")] = node

    def _examine(self, expr: cst.BaseExpression, ctx: PyContext, confidence: Confidence = Confidence.MEDIUM) -> None:
        for part in _parts(expr):
            found = self.tracker.query(part, ctx)
            if found is not None:
                query, source = found
                if query.bounded or query.single or query.aggregate:
                    return
                if query.orm == "sqlalchemy" and not query.executed:
                    return
                grade = Confidence.LOW if query.scoped else (confidence if source != "view" else Confidence.MEDIUM)
                self._site(part, f"`{query.model}` query", ctx, grade)
                return
            if self._raw_sql(part, ctx) or self._prisma(part, ctx):
                return

    def _raw_sql(self, expr: cst.BaseExpression, ctx: PyContext) -> bool:
        """`conn.execute(text("select ..."))...all()`: report when the SQL is unbounded."""
        node = expr.expression if isinstance(expr, cst.Await) else expr
        fetched = False
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in _FETCH_ALL:
                fetched = True
            elif method in ("execute", "exec_driver_sql") and node.args:
                sql = _sql_text(node.args[0].value)
                if sql is not None and fetched and unbounded_select(sql):
                    self._site(node, "raw SQL fetched whole", ctx, Confidence.MEDIUM)
                return sql is not None
            node = node.func.value
        return False

    def _prisma(self, expr: cst.BaseExpression, ctx: PyContext) -> bool:
        node = expr.expression if isinstance(expr, cst.Await) else expr
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "find_many":
            if keyword(node, "take") is None:
                self._site(node, "prisma find_many() without take", ctx, Confidence.MEDIUM)
            return True
        return False

    def _site(self, node: cst.CSTNode, what: str, ctx: PyContext, confidence: Confidence) -> None:
        function = ctx.function
        if staff_only(ctx):
            confidence = Confidence.LOW
        if function is not None and all(s.node is not node for s in self.sites):
            self.sites.append(_Site(node, what, id(function.node), confidence))

    def finish(self) -> None:
        for site in self.sites:
            if site.function not in self.paginated:
                self.report(site.node, confidence=site.confidence, anchor=site.what, what=site.what)


def _sql_text(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] == "text" and node.args:
        node = node.args[0].value
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None
