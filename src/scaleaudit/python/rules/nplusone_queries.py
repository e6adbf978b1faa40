"""SA202 query-in-loop: a query call inside the body of a `for` loop or comprehension.

Recognised query calls: a Django queryset evaluated (`Model.objects.get(...)`,
`.first()`, `.count()`, `.exists()`, `.create()`..., a queryset iterated by a
nested loop or passed to `list()`), SQLAlchemy `session.get/execute/scalars/
scalar/query`, DB-API `cursor.execute`, and prisma-client-py
`prisma.<model>.find_*`/`count`. A call to a function of the same module whose
body runs such a query counts too (medium confidence: the helper may cache).

Silent for loops over a literal list or `range(<literal>)` (a handful of
known items), `while` loops (batching and polling), and tests.
Severity: high in request handlers, medium elsewhere, low in batch code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from scaleaudit.model import Confidence, Severity
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import DJANGO_SINGLE, is_constant_collection, parse_query, scope_label
from scaleaudit.python.rule import Case, PythonRule

_SQL_EXECUTORS = frozenset(
    {"get", "execute", "scalars", "scalar", "query", "exec", "exec_driver_sql", "fetch", "fetchrow", "fetchval"}
)
_SQL_RECEIVERS = ("session", "db", "conn", "connection", "cursor", "cur", "sess", "pool")
_PRISMA = frozenset(
    {
        "find_many",
        "find_first",
        "find_unique",
        "find_first_or_raise",
        "find_unique_or_raise",
        "count",
        "create",
        "update",
        "upsert",
        "delete",
    }
)
_SEVERITY = {"handler": Severity.HIGH, "batch": Severity.LOW}
# Statements that act on the server or session, not on rows: one per item cannot be batched.
_DML = ("select", "insert", "update", "delete", "with", "merge", "upsert", "replace", "copy")
# Already batched: flushing a buffer from inside a loop is the batching pattern itself.
_BATCHED = frozenset({"bulk_create", "bulk_update", "in_bulk"})


def _camel(node: cst.BaseExpression) -> bool:
    """`User`, `models.User`: a class name (`session.get(User, id)`), not a URL or a dict key."""
    name = (dotted(node) or "").rsplit(".", 1)[-1]
    return name[:1].isupper() and any(c.islower() for c in name)


def _not_dml(node: cst.BaseExpression) -> bool:
    """`execute("KILL 12")`, `execute(f"SET ...")`: literal SQL whose verb touches no table rows."""
    if isinstance(node, cst.SimpleString):
        text = str(node.evaluated_value or "")
    elif isinstance(node, cst.FormattedString):
        text = "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
    else:
        return False
    words = text.split(None, 1)
    return bool(words) and words[0].lower().strip("(") not in _DML


def query_call(node: cst.Call, ctx: PyContext) -> str | None:
    """A short description of the query `node` runs, or None."""
    if not isinstance(node.func, cst.Attribute):
        return None
    method = node.func.attr.value
    receiver = dotted(node.func.value) or ""
    last = receiver.rsplit(".", 1)[-1].lower()
    if method in DJANGO_SINGLE:
        query = parse_query(node.func.value, ctx.imports)
        if query is not None and query.orm == "django":
            return f"{query.model}.objects...{method}()"
    if method in _SQL_EXECUTORS and receiver and (last in _SQL_RECEIVERS or last.endswith("session")):
        first = node.args[0].value if node.args else None
        if method == "get" and (first is None or not _camel(first)):
            return None  # requests.Session.get(url), dict.get(key): only session.get(Model, id) queries
        if first is not None and _not_dml(first):
            return None
        return f"{receiver}.{method}()"
    parts = receiver.split(".")
    if method in _PRISMA and len(parts) == 2 and parts[0] in ("prisma", "db", "client"):
        return f"{receiver}.{method}()"
    return None


@dataclass
class _Call:
    node: cst.CSTNode
    name: str
    scope: str


def _loop_iterable(node: cst.CSTNode) -> cst.BaseExpression | None:
    if isinstance(node, cst.For):
        return node.iter
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        return node.for_in.iter
    return None


_DJ = "from app.models import Ticket, User\n"


class QueryInLoop(PythonRule):
    id = "SA202"
    TRIGGERS = (b"objects", b"execute", b"scalars", b"session", b"prisma", b".get(", b"cursor", b"fetch", b"conn")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _DJ + "def v(request, ids):\n    users = User.objects.in_bulk(ids)\n    return [users[i] for i in ids]\n",
        _DJ + "def v(request):\n    for name in ['a', 'b']:\n        Ticket.objects.get_or_create(name=name)\n",
        _DJ + "def v(request):\n    for i in range(3):\n        Ticket.objects.create(n=i)\n",
        _DJ + "def v(request):\n    t = Ticket.objects.first()\n    for c in t.items:\n        print(c)\n",
        _DJ + "def v(request):\n    while True:\n        batch = Ticket.objects.filter(done=False).first()\n"
        "        if batch is None:\n            break\n",
        Case(_DJ + "def test_x():\n    for i in ids:\n        Ticket.objects.get(pk=i)\n", path="tests/test_t.py"),
        "def v(request, rows):\n    for r in rows:\n        cache.get(r)\n",
        "def v(request, rows):\n    for r in rows:\n        d.get(r, 0)\n",
        "def f(session, ids):\n    return session.scalars(select(User).where(User.id.in_(ids))).all()\n",
        "def f(items):\n    for item in items:\n        item.objects.count()\n",
        _DJ + "def v(request, ids):\n    qs = Ticket.objects.filter(id__in=ids)\n    return [t.id for t in qs]\n",
        "def helper(x):\n    return x + 1\ndef v(request, ids):\n    return [helper(i) for i in ids]\n",
        "async def f(prisma, ids):\n    return await prisma.user.find_many(where={'id': {'in': ids}})\n",
        "def f(cursor, rows):\n    cursor.executemany('insert into t values (%s)', rows)\n",
        "def f(session, items):\n    for it in items:\n        session.add(it)\n    session.commit()\n",
        Case(
            "import requests\ndef f(pages):\n    session = requests.Session()\n    for p in pages:\n"
            "        session.get(URL, params={'page': p})\n",
            note="an HTTP session: session.get(Model, id) is the only query form of get()",
        ),
        Case("def f(cur, path):\n    for part in path:\n        cur = cur.get(part)\n", note="a dict walk"),
        Case(
            _DJ + "def f(rows):\n    batch = []\n    for r in rows:\n        batch.append(Ticket(title=r))\n"
            "        if len(batch) >= 500:\n            Ticket.objects.bulk_create(batch)\n            batch = []\n",
            note="flushing a buffer every 500 rows is batching, not N+1",
        ),
        Case(
            _DJ + "def f(sources):\n    for s in sources:\n        try:\n            s.sync()\n"
            "        except Exception:\n            Ticket.objects.filter(pk=s.pk).update(failed=True)\n"
            "            raise\n",
            note="the handler leaves the loop: at most one query",
        ),
        Case(
            _DJ + "def f(ids):\n    for i in ids:\n        if i < 0:\n"
            "            return Ticket.objects.filter(pk=i).first()\n",
            note="the branch returns",
        ),
        Case(
            "def f(db, pids):\n    for pid in pids:\n        db.session.execute(f'KILL {pid}')\n",
            note="server commands act on no rows and cannot be batched",
        ),
        Case(
            _DJ + "def helper(ids):\n    for i in ids:\n        User.objects.get(pk=i)\n",
            path="app/testing/utils.py",
            note="test helpers under testing/",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(_DJ + "def v(request, ids):\n    for i in ids:\n        print(User.objects.get(pk=i))\n", expect=1),
        _DJ + "def v(request, ids):\n    return [User.objects.filter(pk=i).first() for i in ids]\n",
        _DJ + "def v(request, users):\n    return {u.id: Ticket.objects.filter(owner=u).count() for u in users}\n",
        _DJ + "def v(request, rows):\n    for r in rows:\n        Ticket.objects.create(title=r)\n",
        _DJ + "def v(request, users):\n    for u in users:\n        for t in Ticket.objects.filter(owner=u):\n"
        "            print(t)\n",
        _DJ + "def v(request, users):\n    for u in users:\n        ts = list(Ticket.objects.filter(owner=u))\n",
        "def f(session, ids):\n    return [session.get(User, i) for i in ids]\n",
        "def f(session, ids):\n    for i in ids:\n"
        "        session.execute(text('select 1 from t where id = :i'), {'i': i})\n",
        "def f(db, ids):\n    for i in ids:\n        db.scalars(select(User).where(User.id == i)).first()\n",
        "def f(cursor, ids):\n    for i in ids:\n        cursor.execute('select * from t where id = %s', (i,))\n",
        "def f(self, ids):\n    for i in ids:\n        self.session.query(User).get(i)\n",
        "def f(session, ids):\n    for i in ids:\n        session.get(models.User, i)\n",
        _DJ + "def f(ids):\n    if not ids:\n        return\n    for i in ids:\n        Ticket.objects.get(pk=i)\n",
        _DJ + "def f(ids):\n    for i in ids:\n        if i:\n            Ticket.objects.get(pk=i)\n        else:\n"
        "            break\n",
        "def f(db, ids):\n    for i in ids:\n        db.session.execute(f'UPDATE t SET n = n + 1 WHERE id = {i}')\n",
        "async def f(prisma, ids):\n    for i in ids:\n        await prisma.user.find_unique(where={'id': i})\n",
        "async def f(conn, ids):\n    return [await conn.fetchrow('select 1', i) for i in ids]\n",
        Case(
            _DJ + "def owner_of(t):\n    return User.objects.get(pk=t.owner_id)\n"
            "def v(request, tickets):\n    return [owner_of(t) for t in tickets]\n",
            expect=1,
            note="a helper of the same module that queries",
        ),
        Case(
            _DJ + "def handle(*a):\n    for i in ids:\n        User.objects.get(pk=i)\n",
            path="app/management/commands/sync.py",
            note="batch: low severity",
        ),
    )

    def setup(self) -> None:
        # Blocks that end by leaving the loop (raise/return/break), with the loop they leave:
        # a query there runs at most once per loop, not once per item.
        self.exits: list[tuple[cst.CSTNode, cst.CSTNode | None]] = []
        self.in_loop: list[_Call] = []
        self.helper_calls: list[_Call] = []
        self.query_functions: set[str] = set()

    def _scope(self, ctx: PyContext) -> str | None:
        loop = ctx.loop
        if loop is None or not isinstance(loop.node, (cst.For, *_COMPS)) or ctx.is_test:
            return None
        iterable = _loop_iterable(loop.node)
        if iterable is None or is_constant_collection(iterable):
            return None
        scope = scope_label(ctx)
        return None if scope == "migration" else scope

    def _enter_block(self, node: cst.If | cst.Else | cst.ExceptHandler, ctx: PyContext) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        last = body[-1] if body else None
        smalls = last.body if isinstance(last, cst.SimpleStatementLine) else ()
        if smalls and isinstance(smalls[-1], (cst.Raise, cst.Return, cst.Break)):
            loop = ctx.loop
            self.exits.append((node, loop.node if loop else None))

    def _leave_block(self, node: cst.If | cst.Else | cst.ExceptHandler, ctx: PyContext) -> None:
        if self.exits and self.exits[-1][0] is node:
            self.exits.pop()

    visit_If = visit_Else = visit_ExceptHandler = _enter_block
    leave_If = leave_Else = leave_ExceptHandler = _leave_block

    def _runs_once(self, ctx: PyContext) -> bool:
        loop = ctx.loop
        return loop is not None and any(exit_loop is loop.node for _, exit_loop in self.exits)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        name = query_call(node, ctx)
        function = ctx.function
        if name is not None and function is not None and function.name != "<lambda>":
            self.query_functions.add(function.name)
        scope = self._scope(ctx)
        if scope is None or self._runs_once(ctx):
            return
        callee = dotted(node.func) or ""
        if name is None and callee == "list" and node.args:
            query = parse_query(node.args[0].value, ctx.imports)
            name = f"list({query.model}.objects...)" if query and query.orm == "django" else None
        if name is not None and isinstance(node.func, cst.Attribute) and node.func.attr.value in _BATCHED:
            return
        if name is not None:
            self.in_loop.append(_Call(node, name, scope))
        elif callee and (callee.count(".") == 0 or callee.startswith("self.")) and callee.count(".") <= 1:
            self.helper_calls.append(_Call(node, callee.rsplit(".", 1)[-1], scope))

    def visit_For(self, node: cst.For, ctx: PyContext) -> None:
        scope = self._scope(ctx)
        query = parse_query(node.iter, ctx.imports) if scope else None
        if scope and query is not None and query.orm == "django" and not query.single:
            self.in_loop.append(_Call(node.iter, f"{query.model}.objects... (iterated)", scope))

    def finish(self) -> None:
        for call in self.in_loop:
            self.report(
                call.node,
                severity=_SEVERITY.get(call.scope, Severity.MEDIUM),
                confidence=Confidence.HIGH,
                anchor=call.name,
                query=call.name,
                how="runs once per item",
            )
        for call in self.helper_calls:
            if call.name in self.query_functions:
                self.report(
                    call.node,
                    severity=_SEVERITY.get(call.scope, Severity.MEDIUM),
                    confidence=Confidence.MEDIUM,
                    anchor=f"{call.name}()",
                    query=f"{call.name}()",
                    how="runs a query, once per item",
                )


_COMPS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
