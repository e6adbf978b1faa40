"""SA102 client-constructed-per-call for TypeScript/JavaScript.

`new PrismaClient()` inside an Express handler, a middleware, a Socket.IO
event handler or a loop opens a new pool per call. How sure we are follows
the Python rule: handler or loop -> high confidence; a function in a
controller/route/service module -> medium; any other function -> low
(hidden by default). Silent for code that runs once (`globalThis` caches, a
lazily assigned module variable, `connectDB()`/`bootstrap()` style startup
functions, constructors), tests and scripts.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.model import Confidence, Severity
from scaleaudit.typescript.clients import client_table, match_client
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node
from scaleaudit.typescript.rule import TsCase, TsRule
from scaleaudit.typescript.rules.client_sites import CLIENT_NODES, CLIENT_TRIGGERS

_PRISMA = "import { PrismaClient } from '@prisma/client';\n"


class ClientPerRequest(TsRule):
    id = "SA102"
    TRIGGERS = CLIENT_TRIGGERS
    NODE_TYPES = CLIENT_NODES
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _PRISMA + "const prisma = new PrismaClient();\n"
        "export async function list(req, res) { res.json(await prisma.user.findMany({ take: 10 })); }\n",
        _PRISMA + "declare global { var prisma: PrismaClient | undefined }\n"
        "export function db() { return (globalThis.prisma ??= new PrismaClient()); }\n",
        _PRISMA + "const g = global as any;\nexport function db() {\n"
        "  if (!g.prisma) { g.prisma = new PrismaClient(); }\n  return g.prisma;\n}\n",
        "import Redis from 'ioredis';\nlet client: Redis | undefined;\n"
        "export function getRedis() {\n  if (!client) client = new Redis(process.env.REDIS_URL);\n"
        "  return client;\n}\n",
        "const mongoose = require('mongoose');\n"
        "const connectDB = async () => { await mongoose.connect(process.env.MONGO_URL); };\n"
        "module.exports = connectDB;\n",
        TsCase(_PRISMA + "beforeAll(() => { const prisma = new PrismaClient(); });\n", path="src/__tests__/a.test.ts"),
        "function PrismaClient() {}\nexport function f(req, res) { const p = new PrismaClient(); }\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _PRISMA + "import { Router } from 'express';\nconst router = Router();\n"
        "router.get('/users', async (_req, res) => {\n  const prisma = new PrismaClient();\n"
        "  res.json(await prisma.user.findMany({ take: 20 }));\n});\n",
        "const { Pool } = require('pg');\nexports.list = async function (req, res) {\n"
        "  const pool = new Pool({ max: 5 });\n  res.json((await pool.query('select 1')).rows);\n};\n",
        "import { createClient } from 'redis';\nexport async function warm(keys: string[]) {\n"
        "  for (const k of keys) { const c = createClient(); await c.connect(); }\n}\n",
        TsCase(
            _PRISMA + "export class UserService {\n  async find(id: string) {\n"
            "    const prisma = new PrismaClient();\n    return prisma.user.findUnique({ where: { id } });\n  }\n}\n",
            path="src/services/user.service.ts",
            note="a service method: medium confidence",
        ),
    )

    def setup(self) -> None:
        self.clients = client_table(self.book, self.options)

    def visit(self, node: Node, ctx: TsContext) -> None:
        call = match_client(node, ctx, self.clients)  # cheaper than the scope: most calls are not clients
        if call is None:
            return
        scope = ctx.scope(node)
        if scope not in ("handler", "loop", "function"):
            return
        functions, _ = ctx.frames(node)
        name = ctx.function_name(functions[0]) if functions else ""
        if scope == "handler":
            where, confidence, severity = "a request handler", Confidence.HIGH, Severity.CRITICAL
        elif scope == "loop":
            where, confidence, severity = "a loop", Confidence.HIGH, None
        elif ctx.is_request_module:
            where, confidence, severity = (
                f"`{name or 'a function'}` in a module the request path calls",
                Confidence.MEDIUM,
                None,
            )
        else:
            where, confidence, severity = f"`{name or 'a function'}`", Confidence.LOW, Severity.MEDIUM
        self.report(
            node,
            confidence=confidence,
            severity=severity,
            anchor=f"{call.qualname}:{name}",
            client=call.qualname,
            library=call.spec.library,
            where=where,
        )
