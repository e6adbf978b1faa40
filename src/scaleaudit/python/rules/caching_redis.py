"""Following Redis clients through a module: which names hold one, and what is done with them.

Shared by the caching rules (SA561 unread client, SA562 writes without TTL,
SA563 KEYS). A name holds a Redis client when it is assigned a recognised
redis-py constructor (`redis.Redis(...)`, `redis.from_url(...)`, ...) or a
pipeline of one; a name imported from another module may hold one, which
only the project phase can tell (it joins the `redis-client` facts of the
defining module with the `redis-use` facts of the using ones).

Facts:
* `redis-client` {binding, target, qualname} — a client bound at module level;
* `redis-use` {uses: [[target, kind, command], ...]} — one per file: every
  Redis command called on a tracked name (kind read/write/other) and every
  other mention of it (kind escape: passed on, stored, returned — used in a
  way we cannot follow, so never reported as unused);
* `redis-write` {command, prefix, ttl, target, known} — each write (the live
  check joins `prefix` with sampled keys that have no TTL).
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.clients import client_table, keyword_value, match_client
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule

READS = frozenset(
    [
        "get",
        "mget",
        "hget",
        "hgetall",
        "hmget",
        "hkeys",
        "hvals",
        "hexists",
        "hlen",
        "exists",
        "getex",
        "getdel",
        "getrange",
        "strlen",
        "lrange",
        "llen",
        "lindex",
        "smembers",
        "sismember",
        "smismember",
        "scard",
        "srandmember",
        "zrange",
        "zrevrange",
        "zrangebyscore",
        "zrevrangebyscore",
        "zscore",
        "zrank",
        "zcard",
        "scan",
        "scan_iter",
        "hscan",
        "hscan_iter",
        "sscan",
        "zscan",
        "ttl",
        "pttl",
        "type",
        "mget",
        "json",
    ]
)
CACHE_WRITES = frozenset(
    ["set", "setex", "psetex", "setnx", "mset", "msetnx", "hset", "hmset", "hsetnx", "getset", "append"]
)
OTHER = frozenset(
    [
        "publish",
        "pubsub",
        "lpush",
        "rpush",
        "lpop",
        "rpop",
        "blpop",
        "brpop",
        "brpoplpush",
        "lmove",
        "blmove",
        "ltrim",
        "xadd",
        "xread",
        "xreadgroup",
        "xack",
        "xtrim",
        "incr",
        "incrby",
        "incrbyfloat",
        "decr",
        "decrby",
        "hincrby",
        "hdel",
        "sadd",
        "srem",
        "spop",
        "zadd",
        "zincrby",
        "zrem",
        "zremrangebyscore",
        "delete",
        "unlink",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "persist",
        "pipeline",
        "lock",
        "eval",
        "evalsha",
        "execute_command",
        "ping",
        "flushdb",
        "flushall",
        "register_script",
        "pfadd",
        "pfcount",
        "geoadd",
        "keys",
        "rename",
        "transaction",
        "watch",
    ]
)
COMMANDS = READS | CACHE_WRITES | OTHER
KEYED_WRITES = frozenset(
    [
        "lpush",
        "rpush",
        "sadd",
        "zadd",
        "incr",
        "incrby",
        "incrbyfloat",
        "decr",
        "decrby",
        "hincrby",
        "xadd",
        "pfadd",
        "geoadd",
    ]
)
TTL_KEYWORDS = ("ex", "px", "exat", "pxat", "keepttl")
EXPIRES = frozenset({"expire", "pexpire", "expireat", "pexpireat"})
ALWAYS_TTL = frozenset({"setex", "psetex"})
REDIS_TRIGGERS = (b"redis", b"Redis", b".get(", b".set(", b".hset(", b".keys(", b".setex(", b".mget(", b".hget")


def key_prefix(node: cst.BaseExpression | None) -> str:
    """The literal head of a key: `f"user:{id}"` -> "user:", `"visits"` -> "visits", a name -> ""."""
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    if isinstance(node, cst.FormattedString):
        head = ""
        for part in node.parts:
            if not isinstance(part, cst.FormattedStringText):
                break
            head += part.value
        return head
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return key_prefix(node.left)
    return ""


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


class RedisTracking(PythonRule):
    """Base for the caching rules: which local names hold a Redis client."""

    EMIT_CLIENTS: ClassVar[bool] = False

    def setup(self) -> None:
        self.clients = {q: s for q, s in client_table(self.book, self.options).items() if s.service == "redis"}
        self.known: dict[str, str] = {}  # local dotted name -> target ("module.binding" or the name)

    def _is_client(self, value: cst.BaseExpression, ctx: PyContext) -> bool:
        if not isinstance(value, cst.Call):
            return False
        call = match_client(value, ctx, self.clients)
        if call is not None:
            return "ConnectionPool" not in call.qualname
        func = value.func
        return isinstance(func, cst.Attribute) and func.attr.value == "pipeline" and dotted(func.value) in self.known

    def _bind(self, target: cst.BaseExpression, ctx: PyContext) -> None:
        name = dotted(target)
        if name is None:
            return
        module_level = ctx.at_module_level and "." not in name
        self.known[name] = f"{ctx.module}.{name}" if module_level else name
        if self.EMIT_CLIENTS and module_level and not ctx.is_test and not ctx.in_main_guard:
            self.fact("redis-client", target, binding=name, target=f"{ctx.module}.{name}")

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        if self._is_client(node.value, ctx) and len(node.targets) == 1:
            self._bind(node.targets[0].target, ctx)

    def visit_WithItem(self, node: cst.WithItem, ctx: PyContext) -> None:
        name = node.asname.name if node.asname is not None else None
        if isinstance(name, (cst.Name, cst.Attribute)) and self._is_client(node.item, ctx):
            self._bind(name, ctx)

    def target_of(self, name: str, ctx: PyContext) -> tuple[str, bool] | None:
        """(target, known) for a receiver: a local client, or a name imported from another module."""
        if name in self.known:
            return self.known[name], True
        if name.split(".", 1)[0] in ctx.imports.bindings:
            resolved = ctx.imports.resolve_dotted(name)
            if "." in resolved and not resolved.startswith(("redis.", "django.", "flask.")):
                return resolved, False
        return None

    def command_call(self, node: cst.Call, ctx: PyContext) -> tuple[str, str, bool, str] | None:
        """(command, target, known, receiver) when `node` calls a Redis command on a tracked name."""
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in COMMANDS:
            return None
        receiver = dotted(func.value)
        target = self.target_of(receiver, ctx) if receiver is not None else None
        if receiver is None or target is None:
            return None
        return func.attr.value, target[0], target[1], receiver


class RedisClientNeverRead(RedisTracking):
    """SA561: records clients, their uses and writes; `scaleaudit.project.caching_unread` judges them."""

    id = "SA561"
    TRIGGERS = REDIS_TRIGGERS
    EMIT_CLIENTS = True
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "import redis\ncache = redis.Redis()\ndef get(k):\n    return cache.get(k)\n",
        Case(
            {
                "app/cache.py": "import redis\ncache = redis.from_url(URL)\n",
                "app/views.py": "from app.cache import cache\ndef v(k):\n    return cache.hgetall(k)\n",
            }
        ),
        "import redis\nbus = redis.Redis()\ndef notify(m):\n    bus.publish('events', m)\n",
        "import redis\nfrom flask import Flask\napp = Flask(__name__)\nr = redis.Redis()\n"
        "app.config['SESSION_REDIS'] = r\n",
        Case(
            {
                "app/cache.py": "import redis\nr = redis.Redis()\n",
                "app/limits.py": "from app.cache import r\nlimiter = Limiter(storage=r)\n",
            },
            note="passed on",
        ),
        Case("import redis\nr = redis.Redis()\n", path="tests/conftest.py"),
        "import redis\npool = redis.ConnectionPool.from_url(URL)\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case("import redis\ncache = redis.Redis(host='cache')\n", expect=1, note="never used"),
        Case(
            {
                "app/cache.py": "import redis\ncache = redis.from_url(URL)\n",
                "app/views.py": "from app.cache import cache\ndef v(k, val):\n    cache.set(k, val, ex=60)\n",
            },
            expect=1,
            note="written, never read",
        ),
    )

    def setup(self) -> None:
        super().setup()
        self.excluded: set[int] = set()
        self.receivers: set[int] = set()
        self.uses: set[tuple[str, str, str]] = set()
        self.writes: list[tuple[cst.Call, str, str, str, bool, str]] = []  # node, command, target, key, ttl, recv
        self.expired: set[tuple[str, str]] = set()  # (receiver, key code) given an expiry
        self.module_node: cst.CSTNode | None = None

    def visit_Module(self, node: cst.Module, _ctx: PyContext) -> None:
        self.module_node = node

    # --- names that are not mentions of a value --------------------------
    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.excluded.add(id(target.target))
        super().visit_Assign(node, ctx)

    def visit_ImportAlias(self, node: cst.ImportAlias, _ctx: PyContext) -> None:
        self.excluded.add(id(node.name))
        if node.asname is not None:
            self.excluded.add(id(node.asname.name))

    def visit_Attribute(self, node: cst.Attribute, _ctx: PyContext) -> None:
        self.excluded.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg, _ctx: PyContext) -> None:
        if node.keyword is not None:
            self.excluded.add(id(node.keyword))

    def visit_Param(self, node: cst.Param, _ctx: PyContext) -> None:
        self.excluded.add(id(node.name))

    def visit_NameItem(self, node: cst.NameItem, _ctx: PyContext) -> None:
        self.excluded.add(id(node.name))

    def visit_Name(self, node: cst.Name, ctx: PyContext) -> None:
        if id(node) in self.excluded or id(node) in self.receivers:
            return
        target = self.target_of(node.value, ctx)
        if target is not None:
            self.uses.add((target[0], "escape", ""))

    # --- commands ------------------------------------------------------------
    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if isinstance(node.func, cst.Name):
            self.excluded.add(id(node.func))  # calling an imported function is not passing a client on
        found = self.command_call(node, ctx)
        if found is None:
            return
        command, target, _known, receiver = found
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.receivers.add(id(func.value))
        kind = "read" if command in READS else "write" if command in CACHE_WRITES else "other"
        self.uses.add((target, kind, command))
        key = node.args[0].value if node.args else None
        if key is None or ctx.is_test:
            return
        if command in EXPIRES:
            self.expired.add((receiver, code(key)))
        elif command in CACHE_WRITES or command in KEYED_WRITES:
            ttl = command in ALWAYS_TTL or any(keyword_value(node, k) is not None for k in TTL_KEYWORDS)
            positional = [a for a in node.args if a.keyword is None]
            ttl = ttl or (command == "set" and len(positional) >= 3 and code(positional[2].value) != "None")
            self.writes.append((node, command, target, code(key), ttl, receiver))

    def finish(self) -> None:
        for node, command, target, key, ttl, receiver in self.writes:
            self.fact(
                "redis-write",
                node,
                command=command,
                prefix=key_prefix(node.args[0].value),
                ttl=ttl or (receiver, key) in self.expired,
                target=target,
                known=receiver in self.known,
                key=key[:80],
            )
        # Emitted even when empty: it tells the join this file was read (see caching_unread).
        if self.module_node is not None:
            self.fact("redis-use", self.module_node, uses=sorted([list(u) for u in self.uses]))
