"""SA101 client-constructed-in-many-modules, the per-file half.

Every client constructor call becomes a `client-site` fact. The join across
modules happens in `scaleaudit.project.duplicate_client`, which is language
neutral: the TypeScript front end emits the same facts for
`new PrismaClient()`.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.clients import client_table, literal_keywords, match_client
from scaleaudit.python.rule import Case, PythonRule

CLIENT_TRIGGERS = (
    b"create_engine",
    b"create_async_engine",
    b"connect",
    b"Pool",
    b"Redis",
    b"redis",
    b"Prisma",
    b"MongoClient",
    b"create_pool",
)


def scope_of(rule: PythonRule) -> str:
    ctx = rule.ctx
    if ctx.in_main_guard or ctx.script:
        return "script"
    if ctx.is_test or ctx.is_alembic_env:
        return "test" if ctx.is_test else "migration"
    if ctx.at_module_level:
        return "module"
    if ctx.runs_once:
        return "once"
    if ctx.in_handler:
        return "handler"
    return "loop" if ctx.in_loop else "function"


class ClientConstructedInManyModules(PythonRule):
    id = "SA101"
    TRIGGERS = CLIENT_TRIGGERS
    VALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            {
                "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
                "app/users.py": "from app.db import engine\n",
            },
            note="one shared module",
        ),
        Case(
            {
                "app/a.py": "import redis\ncache = redis.Redis(host='cache')\n",
                "app/b.py": "import redis\nqueue = redis.Redis(host='queue')\n",
            },
            note="two different Redis servers are two resources, not duplicates",
        ),
        Case(
            {
                "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
                "tests/conftest.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
            },
            note="test fixtures build their own engines",
        ),
        Case(
            {
                "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
                "scripts/backfill.py": "from sqlalchemy import create_engine\n"
                "if __name__ == '__main__':\n    engine = create_engine(URL)\n",
            },
            note="a script run by hand",
        ),
        Case(
            {
                "app/a.py": "def create_engine(url): ...\nengine = create_engine(URL)\n",
                "app/b.py": "def create_engine(url): ...\nengine = create_engine(URL)\n",
            },
            note="a local function that happens to share the name",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            {
                "app/users.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
                "app/orders.py": "import sqlalchemy as sa\nengine = sa.create_engine(URL)\n",
            },
            expect=2,
        ),
        Case(
            {
                "app/a.py": "from redis import Redis\nr = Redis.from_url(REDIS_URL)\n",
                "app/b.py": "import redis\nr = redis.from_url(REDIS_URL)\n",
                "app/c.py": "from redis import asyncio as aioredis\nr = aioredis.from_url(REDIS_URL)\n",
            },
            expect=3,
            note="sync and asyncio clients to the same URL",
        ),
        Case(
            {
                "app/a.py": "from prisma import Prisma\ndb = Prisma()\n",
                "app/b.py": "from prisma import Prisma\ndb = Prisma()\n",
            },
            expect=2,
        ),
        Case(
            {
                "app/a.py": "from sqlalchemy.ext.asyncio import create_async_engine as cae\n"
                "engine = cae(settings.DATABASE_URL)\n",
                "app/b.py": "from sqlalchemy.ext.asyncio import create_async_engine\n"
                "engine = create_async_engine(settings.DATABASE_URL)\n",
            },
            expect=2,
        ),
    )

    def setup(self) -> None:
        self.clients = client_table(self.book, self.options)
        self.bound: dict[int, str] = {}

    def visit_Assign(self, node: cst.Assign, _ctx: object) -> None:
        if isinstance(node.value, cst.Call) and len(node.targets) == 1:
            target = node.targets[0].target
            if isinstance(target, cst.Name):
                self.bound[id(node.value)] = target.value

    def visit_AnnAssign(self, node: cst.AnnAssign, _ctx: object) -> None:
        if isinstance(node.value, cst.Call) and isinstance(node.target, cst.Name):
            self.bound[id(node.value)] = node.target.value

    def visit_Call(self, node: cst.Call, _ctx: object) -> None:
        call = match_client(node, self.ctx, self.clients)
        if call is None or (call.spec.shares_pool and call.spec.shares_pool in call.keywords):
            return
        binding = self.bound.get(id(node), "")
        self.fact(
            "client-site",
            node,
            language="python",
            kind=call.spec.kind,
            qualname=call.qualname,
            library=call.spec.library,
            service=call.spec.service,
            scope=scope_of(self),
            url=call.url,
            binding=binding,
            module=self.ctx.module,
            function=(self.ctx.function.name if self.ctx.function else ""),
            pooled=call.spec.pooled,
            pool_args=sorted(call.keywords & set(call.spec.pool_args)),
            pool_values=literal_keywords(node, (*call.spec.pool_args, *call.spec.health_args)),
            anchor=f"{call.qualname}:{binding or self.ctx.module}",
        )
