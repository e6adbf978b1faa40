"""SA101 (per-file half): every client construction becomes a `client-site` fact.

The join across modules is `scaleaudit.project.duplicate_client`, shared with
Python. A module-level `globalThis.prisma ?? new PrismaClient()` is an
import-time site like any other: when other files import it, SA101 treats it
as the shared instance and points the duplicates at it.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.typescript.clients import binding_of, client_table, match_client
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, string_value, text, unwrap
from scaleaudit.typescript.rule import TsCase, TsRule

CLIENT_TRIGGERS = (b"PrismaClient", b"ioredis", b"redis", b"pg", b"mongoose", b"mongodb", b"client-s3", b"aws-sdk")
CLIENT_NODES = frozenset({"new_expression", "call_expression"})
_PRISMA = "import { PrismaClient } from '@prisma/client';\n"


class ClientSites(TsRule):
    id = "SA101"
    TRIGGERS = CLIENT_TRIGGERS
    NODE_TYPES = CLIENT_NODES
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        TsCase(
            {
                "src/lib/prisma.ts": _PRISMA + "export const prisma = new PrismaClient();\n",
                "src/controllers/a.ts": "import { prisma } from '../lib/prisma';\n",
                "src/controllers/b.ts": "import { prisma } from '../lib/prisma';\n",
            },
            note="one shared module",
        ),
        TsCase(
            {
                "src/a.ts": "import Redis from 'ioredis';\nexport const cache = new Redis(process.env.CACHE_URL);\n",
                "src/b.ts": "import Redis from 'ioredis';\nexport const queue = new Redis(process.env.QUEUE_URL);\n",
            },
            note="two Redis servers are two resources",
        ),
        TsCase(
            {
                "src/lib/prisma.ts": _PRISMA + "export const prisma = new PrismaClient();\n",
                "prisma/seed.ts": _PRISMA + "const prisma = new PrismaClient();\n",
                "src/__tests__/user.test.ts": _PRISMA + "const prisma = new PrismaClient();\n",
            },
            note="seed scripts and tests run as their own processes",
        ),
        TsCase(
            {
                "src/a.ts": "class PrismaClient {}\nexport const p = new PrismaClient();\n",
                "src/b.ts": "class PrismaClient {}\nexport const p = new PrismaClient();\n",
            },
            note="a local class of the same name",
        ),
        TsCase(
            {
                "src/services/prisma-client.ts": "export class PrismaClient { constructor(public url = '') {} }\n",
                "src/a.ts": "import { PrismaClient } from './services/prisma-client';\n"
                "export const a = new PrismaClient();\n",
                "src/b.ts": "import { PrismaClient } from './services/prisma-client';\n"
                "export const b = new PrismaClient();\n",
            },
            note="the project's own PrismaClient class, imported from a module that is not a generated client",
        ),
        TsCase(
            {
                "src/_shared/config.ts": "import { PrismaClient } from '@prisma/client/extension';\n"
                "export const PRISMA_CLIENT = new PrismaClient();\n",
                "src/services/a.ts": _PRISMA + "const prisma = new PrismaClient();\n",
            },
            note="@prisma/client/extension exports a stub that throws when constructed, not a client",
        ),
        TsCase(
            {
                "prisma/schema.prisma": 'generator client {\n  provider = "prisma-client-js"\n}\n'
                'generator dbml {\n  provider = "prisma-dbml-generator"\n  output = "../src/db"\n}\n',
                "src/a.ts": "import { PrismaClient } from './db';\nexport const a = new PrismaClient();\n",
                "src/b.ts": "import { PrismaClient } from './db';\nexport const b = new PrismaClient();\n",
            },
            note="only a JS client generator's output is the client; another generator's is not",
        ),
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        TsCase(
            {
                "src/controllers/users.ts": _PRISMA + "const prisma = new PrismaClient();\n",
                "src/controllers/posts.js": "const { PrismaClient } = require('@prisma/client');\n"
                "const prisma = new PrismaClient();\n",
                "src/controllers/tags.mjs": "import * as P from '@prisma/client';\nconst db = new P.PrismaClient();\n",
            },
            expect=3,
        ),
        TsCase(
            {
                "src/lib/prisma.ts": "import { PrismaClient } from '@prisma/client';\n"
                "const g = globalThis as unknown as { prisma?: PrismaClient };\n"
                "export const prisma = g.prisma ?? new PrismaClient();\n",
                "src/a.ts": "import { prisma } from './lib/prisma';\n",
                "src/controllers/b.ts": "import { PrismaClient as PC } from '@prisma/client';\n"
                "const prisma = new PC();\n",
            },
            expect=1,
            note="only the controller is reported; the singleton is the shared instance",
        ),
        TsCase(
            {
                "src/a.ts": "import { PrismaClient } from './generated/prisma';\n"
                "export const a = new PrismaClient();\n",
                "src/routes/b.ts": "import { PrismaClient } from '../../generated/prisma/client';\n"
                "export const b = new PrismaClient();\n",
                "src/routes/c.ts": "import { PrismaClient } from '@/generated/prisma';\n"
                "export const c = new PrismaClient();\n",
                "src/routes/d.mjs": "import { PrismaClient } from '../prisma/client/index.js';\n"
                "export const d = new PrismaClient();\n",
            },
            expect=4,
            note="Prisma 6+ generated into the project (the default `generated/prisma`, or `prisma/client`)",
        ),
        TsCase(
            {
                "package.json": '{"prisma": {"schema": "db/schema.prisma"}}',
                "db/schema.prisma": 'generator client {\n  provider = "prisma-client"\n'
                '  output   = "../src/orm"  // custom\n}\n',
                "src/a.ts": "import { PrismaClient } from './orm/client';\nexport const a = new PrismaClient();\n",
                "src/routes/b.ts": "import { PrismaClient } from '@/orm';\nexport const b = new PrismaClient();\n",
                "src/routes/c.js": "const { PrismaClient } = require('../orm');\nconst c = new PrismaClient();\n",
            },
            expect=3,
            note="the output set in the schema's generator block (found through package.json)",
        ),
    )

    def setup(self) -> None:
        self.clients = client_table(self.book, self.options)

    def visit(self, node: Node, ctx: TsContext) -> None:
        call = match_client(node, ctx, self.clients)
        if call is None:
            return
        binding = binding_of(node)
        function = ""
        functions, _ = ctx.frames(node)
        if functions:
            function = ctx.function_name(functions[0])
        self.fact(
            "client-site",
            node,
            language="typescript" if not ctx.rel.endswith((".js", ".jsx", ".mjs", ".cjs")) else "javascript",
            kind=call.spec.kind,
            qualname=call.qualname,
            library=call.spec.library,
            service=call.spec.service,
            scope=ctx.scope(node),
            url=call.url,
            binding=binding,
            module=ctx.rel.rsplit(".", 1)[0],
            function=function,
            pooled=call.spec.pooled,
            pool_args=sorted(call.keys & set(call.spec.pool_args)),
            pool_values=_literal_values(call.options, call.spec.pool_args),
            anchor=f"{call.qualname}:{binding or ctx.rel.rsplit('.', 1)[0]}",
        )


def _literal_values(options: dict[str, Node] | object, keys: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    if not isinstance(options, dict):
        return out
    for key in keys:
        value = unwrap(options.get(key))
        if value is None:
            continue
        if value.type == "number":
            out[key] = float(text(value)) if "." in text(value) else int(text(value), 0)
        elif string_value(value) is not None:
            out[key] = string_value(value)
    return out
