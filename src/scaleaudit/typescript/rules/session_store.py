"""SA502 session-in-process-memory: express-session without a `store`.

express-session's default MemoryStore keeps sessions in one process: behind
a load balancer or in PM2 cluster mode a user's next request lands on a
process that has never seen their session (logged out at random), and the
store never evicts, so memory grows with every visitor. The express-session
docs say it is not meant for production.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, call_args, object_keys, text, unwrap
from scaleaudit.typescript.rule import TsCase, TsRule

_S = "import session from 'express-session';\n"


def _memory_store(value: Node | None) -> bool:
    value = unwrap(value)
    return (
        value is not None
        and value.type == "new_expression"
        and text(value.child_by_field_name("constructor")).endswith("MemoryStore")
    )


class SessionInMemory(TsRule):
    id = "SA502"
    TRIGGERS = (b"express-session",)
    NODE_TYPES = frozenset({"call_expression"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _S + "import RedisStore from 'connect-redis';\n"
        "app.use(session({ store: new RedisStore({ client: redis }), secret: 's', resave: false }));\n",
        _S + "app.use(session(sessionOptions));\n",
        _S + "app.use(session({ ...base, secret: 's' }));\n",
        "import session from 'cookie-session';\napp.use(session({ name: 's', keys: ['k'] }));\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _S + "app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false }));\n",
        "const session = require('express-session');\n"
        "app.use(session({ secret: 'x', store: new session.MemoryStore() }));\n",
    )

    def visit(self, node: Node, ctx: TsContext) -> None:
        if ctx.is_test or ctx.imports.resolve(node.child_by_field_name("function")) != "express-session":
            return
        args = call_args(node)
        options = unwrap(args[0]) if args else None
        if args and (options is None or options.type != "object"):
            return  # options built elsewhere: cannot see the store
        keys = object_keys(options)
        if "..." in keys or ("store" in keys and not _memory_store(keys["store"])):
            return
        self.report(node, anchor="express-session")
