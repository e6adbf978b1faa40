"""SA106 pg-pool-without-max: a node-postgres `Pool` built with the default max of 10.

Judged only for long-lived pools (module level or startup code); a pool built
per call is SA102's finding. Silent when `max` is set or the options are
spread in from elsewhere (`new Pool({ ...config })`), which we cannot see.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.capacity import pool_plan
from scaleaudit.typescript.clients import client_table, match_client
from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, call_args, unwrap
from scaleaudit.typescript.rule import TsCase, TsRule


class PgPoolWithoutMax(TsRule):
    id = "SA106"
    TRIGGERS = (b"pg",)
    NODE_TYPES = frozenset({"new_expression"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        "import { Pool } from 'pg';\n"
        "export const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });\n",
        "import { Pool } from 'pg';\nexport const pool = new Pool({ ...config.db });\n",
        "import { Pool } from 'pg';\nexport const pool = new Pool(config);\n",
        "import { Client } from 'pg';\nexport const client = new Client();\n",
        "class Pool {}\nexport const pool = new Pool();\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        "import { Pool } from 'pg';\nexport const pool = new Pool({ connectionString: process.env.DATABASE_URL });\n",
        "const pg = require('pg');\nconst pool = new pg.Pool();\nmodule.exports = pool;\n",
    )

    def setup(self) -> None:
        self.clients = client_table(self.book, self.options)

    def visit(self, node: Node, ctx: TsContext) -> None:
        call = match_client(node, ctx, self.clients)
        if call is None or call.spec.kind != "pg-pool" or "max" in call.keys or "..." in call.keys:
            return
        if ctx.scope(node) not in ("module", "once"):
            return
        args = call_args(node)
        first = unwrap(args[0]) if args else None
        if first is not None and first.type not in ("object", "string", "template_string"):
            return  # options passed in a variable: we cannot see them
        plan = pool_plan(self.options.get("capacity"))
        self.report(
            node, anchor=call.qualname, client=call.qualname, proposal=f"max: {plan.per_process}", basis=plan.basis
        )
