"""SA102 client-constructed-per-call: a client built inside a function or loop.

Each call builds a new pool (or a new connection) and throws it away, so under
load the app opens connections as fast as requests arrive. How sure we are
depends on how often the function runs:

* route handler, view, or a FastAPI dependency (`Depends(get_db)`): every
  request — critical, high confidence;
* a loop body inside a function: every iteration — high, high confidence;
* a function the module's handlers call: every request — high, medium;
* `__init__` or any other function: unknown — medium, low confidence
  (hidden at the default `--min-confidence medium`).

Silent where the code runs once: `functools.cache`/`lru_cache` factories,
startup/lifespan hooks, `AppConfig.ready`, `create_app`-style factories,
`if __name__ == "__main__"` blocks, tests, Alembic `env.py`, batch code
(management commands, Celery tasks, scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from scaleaudit.model import Confidence, Severity
from scaleaudit.python.clients import ClientCall, client_table, match_client
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.client_sites import CLIENT_TRIGGERS

_HANDLER = "from fastapi import APIRouter\nrouter = APIRouter()\n"


@dataclass
class _Site:
    node: cst.Call
    call: ClientCall
    function: str
    handler: bool
    in_loop: bool
    outer_function: str
    hints: tuple[cst.CSTNode, ...]


class ClientConstructedPerCall(PythonRule):
    id = "SA102"
    TRIGGERS = CLIENT_TRIGGERS
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "from sqlalchemy import create_engine\nengine = create_engine(URL)\n"
        "def view():\n    with engine.connect() as c:\n        pass\n",
        "import functools\nfrom sqlalchemy import create_engine\n"
        "@functools.lru_cache\ndef get_engine():\n    return create_engine(URL)\n",
        "from functools import cache\nimport redis\n@cache\ndef client():\n    return redis.Redis()\n",
        "from contextlib import asynccontextmanager\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    app.state.engine = create_async_engine(URL)\n    yield\n",
        "from django.apps import AppConfig\nimport redis\nclass Cfg(AppConfig):\n"
        "    def ready(self):\n        self.r = redis.Redis()\n",
        Case(
            "from sqlalchemy import create_engine\ndef test_x():\n    e = create_engine('sqlite://')\n",
            path="tests/test_db.py",
        ),
        Case(
            "from sqlalchemy import engine_from_config, create_engine\n"
            "def run_migrations_online():\n    e = create_engine(URL)\n",
            path="alembic/env.py",
        ),
        "import psycopg\nif __name__ == '__main__':\n    conn = psycopg.connect(DSN)\n",
        "from flask import Flask\nfrom sqlalchemy import create_engine\n"
        "def create_app():\n    app = Flask(__name__)\n    app.engine = create_engine(URL)\n    return app\n",
        Case(
            "import redis\ndef handle():\n    r = redis.Redis()\n    r.ping()\n",
            path="app/management/commands/warm.py",
            note="batch code runs once per invocation",
        ),
        _HANDLER + "import redis\npool = redis.ConnectionPool()\n@router.get('/x')\n"
        "def x():\n    r = redis.Redis(connection_pool=pool)\n",
        "def get_engine():\n    return create_engine(URL)\n",  # create_engine not imported: unknown
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _HANDLER + "from sqlalchemy import create_engine\n@router.get('/users')\n"
        "def list_users():\n    engine = create_engine(URL)\n",
        "from flask import Blueprint\nimport redis\nbp = Blueprint('b', __name__)\n"
        "@bp.route('/x')\ndef x():\n    r = redis.Redis(host='cache')\n    return r.get('k')\n",
        "from fastapi import Depends, FastAPI\nimport redis.asyncio as aioredis\napp = FastAPI()\n"
        "async def get_redis():\n    return aioredis.from_url(URL)\n"
        "@app.get('/')\nasync def home(r = Depends(get_redis)):\n    return await r.get('k')\n",
        Case("import psycopg\ndef detail(request, pk):\n    conn = psycopg.connect(DSN)\n", path="shop/views.py"),
        "from rest_framework.views import APIView\nfrom pymongo import MongoClient\n"
        "class Items(APIView):\n    def get(self, request):\n        c = MongoClient(URL)\n",
        "import asyncpg\nasync def sync_all(ids):\n    for i in ids:\n        conn = await asyncpg.connect(DSN)\n",
        _HANDLER + "from sqlalchemy import create_engine\ndef session_factory():\n"
        "    return create_engine(URL)\n@router.get('/')\ndef root():\n    e = session_factory()\n",
    )

    def setup(self) -> None:
        self.clients = client_table(self.book, self.options)
        self.sites: list[_Site] = []
        self.dependencies: set[str] = set()
        self.called_from_handlers: set[str] = set()

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        self._note_call_graph(node, ctx)
        if ctx.at_module_level or ctx.runs_once or ctx.in_main_guard:
            return
        if ctx.is_test or ctx.is_alembic_env or ctx.is_batch:
            return
        call = match_client(node, ctx, self.clients)
        if call is None or (call.spec.shares_pool and call.spec.shares_pool in call.keywords):
            return
        functions = list(ctx.enclosing("function"))
        if not functions:
            return  # a loop at module level runs once
        self.sites.append(
            _Site(
                node, call, functions[0].name, ctx.in_handler, ctx.in_loop, functions[-1].name, tuple(ctx.statements)
            )
        )

    def _note_call_graph(self, node: cst.Call, ctx: PyContext) -> None:
        name = dotted(node.func)
        if name is None:
            return
        resolved = ctx.imports.resolve_dotted(name)
        if resolved.rsplit(".", 1)[-1] == "Depends" and node.args:
            dep = dotted(node.args[0].value)
            if dep:
                self.dependencies.add(dep)
        elif ctx.in_handler and "." not in name:
            self.called_from_handlers.add(name)

    def _grade(self, site: _Site) -> tuple[Severity, Confidence, str] | None:
        if site.handler:
            return Severity.CRITICAL, Confidence.HIGH, "a request handler"
        if site.outer_function in self.dependencies or site.function in self.dependencies:
            return Severity.CRITICAL, Confidence.HIGH, "a per-request dependency"
        if site.in_loop:
            return Severity.HIGH, Confidence.HIGH, "a loop"
        if site.outer_function in self.called_from_handlers:
            return Severity.HIGH, Confidence.MEDIUM, "a function called by request handlers"
        return Severity.MEDIUM, Confidence.LOW, f"function `{site.function}`"

    def finish(self) -> None:
        for site in self.sites:
            grade = self._grade(site)
            if grade is None:
                continue
            severity, confidence, where = grade
            self.report(
                site.node,
                severity=severity,
                confidence=confidence,
                anchor=f"{site.call.qualname}:{site.function}",
                hints=site.hints,
                client=site.call.qualname,
                library=site.call.spec.library,
                where=where,
            )
