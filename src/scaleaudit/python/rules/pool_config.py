"""SA103 pool-without-explicit-size and SA105 pool-without-health-check.

A pooled client built with the library's default sizing: SQLAlchemy's 5 + 10
per engine *per process*, redis-py's effectively unbounded 2**31. Whether
that fits depends on workers × instances against the server's
`max_connections`, which the defaults know nothing about — so the message
proposes numbers from `scaleaudit.capacity`.

Only long-lived clients are judged: built at import time or in code that runs
once (startup hooks, cached factories). Silent when sizing cannot apply or
cannot be seen: `NullPool`/`StaticPool`, SQLite URLs, a pool handed in
(`connection_pool=`), `**kwargs` forwarded, single connections
(`psycopg.connect`), tests, scripts, batch code and migrations; a client
built per call is SA102's finding, not this one.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.capacity import pool_plan
from scaleaudit.model import Severity
from scaleaudit.python.clients import ClientCall, client_table, is_sqlite, keyword_value, match_client
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule

POOL_TRIGGERS = (b"create_engine", b"create_async_engine", b"Redis", b"redis", b"Pool", b"create_pool", b"MongoClient")


def _pool_disabled(node: cst.Call, call: ClientCall) -> bool:
    for keyword, values in call.spec.pool_disabled.items():
        value = keyword_value(node, keyword)
        if value is not None and (dotted(value) or "").rsplit(".", 1)[-1] in values:
            return True
    return False


def candidate(node: cst.Call, ctx: PyContext, rule: PythonRule) -> ClientCall | None:
    """A pooled client whose pool settings we can judge from this call."""
    if ctx.is_test or ctx.is_batch or ctx.in_main_guard:
        return None  # their own short-lived processes: defaults are fine
    if not (ctx.at_module_level or ctx.runs_once):
        return None  # built per call: SA102 reports the real problem
    call = match_client(node, ctx, client_table(rule.book, rule.options))
    if call is None or not call.spec.pooled or call.has_star_kwargs:
        return None
    if call.spec.shares_pool and call.spec.shares_pool in call.keywords:
        return None
    if _pool_disabled(node, call) or is_sqlite(call.url):
        return None
    return call


class EngineWithoutPoolSize(PythonRule):
    id = "SA103"
    TRIGGERS = POOL_TRIGGERS
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "from sqlalchemy import create_engine\n"
        "engine = create_engine(URL, pool_size=10, max_overflow=5, pool_pre_ping=True)\n",
        "from sqlalchemy import create_engine\nfrom sqlalchemy.pool import NullPool\n"
        "engine = create_engine(URL, poolclass=NullPool)\n",
        "from sqlalchemy import create_engine\nengine = create_engine('sqlite:///app.db')\n",
        "import redis\npool = redis.ConnectionPool(max_connections=50)\nr = redis.Redis(connection_pool=pool)\n",
        "import psycopg\nconn = psycopg.connect(DSN)\n",
        "from sqlalchemy import create_engine\nengine = create_engine(URL, **settings.ENGINE_OPTIONS)\n",
        Case("from sqlalchemy import create_engine\nengine = create_engine(URL)\n", path="tests/conftest.py"),
        "from psycopg_pool import ConnectionPool\npool = ConnectionPool(DSN, max_size=20)\n",
        # CTFd's ping.py: waits for the database at deploy time, then exits
        "from sqlalchemy import create_engine\nif URL.startswith('sqlite'):\n    exit(0)\n"
        "engine = create_engine(URL)\nengine.raw_connection()\n",
        "import asyncpg\nasync def init():\n    return await asyncpg.create_pool(DSN, min_size=2, max_size=10)\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        "from sqlalchemy import create_engine\nengine = create_engine(settings.DATABASE_URL)\n",
        "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(URL, echo=True)\n",
        "import redis\nr = redis.Redis(host='localhost', port=6379)\n",
        "from redis.asyncio import from_url\nr = from_url(REDIS_URL)\n",
        "from psycopg_pool import AsyncConnectionPool\npool = AsyncConnectionPool(DSN)\n",
        "from pymongo import MongoClient\nclient = MongoClient(MONGO_URL)\n",
    )

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        call = candidate(node, ctx, self)
        if call is None or not call.spec.pool_args or call.keywords & set(call.spec.pool_args):
            return
        plan = pool_plan(self.options.get("capacity"))
        service = call.spec.service
        if service == "redis":
            proposal = f"max_connections={plan.redis_max_connections}"
            severity = Severity.HIGH  # redis-py's default pool never stops growing
        elif call.spec.kind == "sqlalchemy-engine":
            proposal = f"pool_size={plan.pool_size}, max_overflow={plan.max_overflow}"
            severity = None
        else:
            proposal = f"{call.spec.pool_args[0]}={plan.pool_size + plan.max_overflow}"
            severity = None
        self.report(
            node,
            severity=severity,
            anchor=call.qualname,
            client=call.qualname,
            library=call.spec.library,
            proposal=proposal,
            basis=plan.basis,
        )


class EngineWithoutPoolHealthCheck(PythonRule):
    id = "SA105"
    TRIGGERS = (b"create_engine", b"create_async_engine")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_pre_ping=True)\n",
        "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_size=5, pool_recycle=1800)\n",
        "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n",
        "import redis\nr = redis.Redis()\n",  # health_check_interval is optional hardening for redis
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_size=10, max_overflow=5)\n",
        "import sqlalchemy\nengine = sqlalchemy.create_engine(URL)\n",
    )

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        call = candidate(node, ctx, self)
        if call is None or call.spec.kind != "sqlalchemy-engine":
            return
        if call.keywords & set(call.spec.health_args):
            return
        self.report(node, anchor=call.qualname, client=call.qualname)
