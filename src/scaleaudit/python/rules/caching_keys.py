"""SA563 redis-keys-command: KEYS in application code.

`KEYS pattern` walks every key in the database in one blocking call; on a
cache with a million keys that stalls Redis — and every request waiting on
it — for hundreds of milliseconds. Reported on a tracked Redis client
(high confidence) and on any `.keys("pattern")` call with a glob pattern
(medium: a dict's `keys()` takes no argument, so a pattern argument is a
strong sign). Tests and `__main__` scripts are silent.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.model import Confidence
from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case
from scaleaudit.python.rules.caching_redis import RedisTracking, key_prefix
from scaleaudit.python.rules.scaling_process import str_literal

_REDIS = "import redis\nr = redis.Redis()\n"


class RedisKeysCommand(RedisTracking):
    id = "SA563"
    TRIGGERS = (b".keys(", b"KEYS", b"keys")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _REDIS + "def f():\n    return list(r.scan_iter(match='session:*', count=500))\n",
        "def f(d):\n    return d.keys()\n",
        _REDIS + "if __name__ == '__main__':\n    print(r.keys('*'))\n",
        Case(_REDIS + "def test_x():\n    assert r.keys('user:*') == []\n", path="tests/test_cache.py"),
        "def f(index):\n    return index.keys(prefix)\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _REDIS + "def purge(uid):\n    for k in r.keys(f'session:{uid}:*'):\n        r.delete(k)\n",
        "from app.cache import cache\ndef purge():\n    return cache.keys('product:*')\n",
        _REDIS + "def f():\n    return r.execute_command('KEYS', '*')\n",
    )

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.is_test or ctx.in_main_guard or ctx.is_migration:
            return
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        args = node.args
        if func.attr.value == "execute_command" and args and (str_literal(args[0].value) or "").upper() == "KEYS":
            self._report(node, func.value, args[1].value if len(args) > 1 else None, ctx)
        elif func.attr.value == "keys" and args and args[0].keyword is None:
            self._report(node, func.value, args[0].value, ctx)

    def _report(
        self, node: cst.Call, receiver: cst.BaseExpression, pattern: cst.BaseExpression | None, ctx: PyContext
    ) -> None:
        name = cst.Module([]).code_for_node(receiver)
        known = name in self.known
        glob = pattern is not None and (isinstance(pattern, (cst.SimpleString, cst.FormattedString)))
        if not known and not glob:
            return
        shown = key_prefix(pattern) if pattern is not None else ""
        self.report(
            node,
            confidence=Confidence.HIGH if known else Confidence.MEDIUM,
            anchor=f"keys:{shown}",
            pattern=shown or "…",
        )
