"""SA562 cache-write-without-ttl.

Redis writes are recorded as `redis-write` facts by the tracker in
`caching_redis` (`ttl` true when the write sets `ex`/`px`/`exat`/`pxat`/
`keepttl`, is a `setex`, or the same key is given an `expire` in the module);
`scaleaudit.project.caching_ttl` reports cache-style writes (`set`, `hset`,
`mset`...) without one, on a receiver known or shown to be a Redis client.
Queue and counter writes (`lpush`, `incr`, `xadd`) are recorded but not
judged: they are often meant to live.

This module reports the Django form directly: `cache.set(key, value,
timeout=None)` (or `None` as the third argument) on Django's cache, which
means "never expire"; Django's own default timeout (300 s) is fine.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.clients import keyword_value
from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.caching_redis import REDIS_TRIGGERS

DJANGO_CACHES = ("django.core.cache.cache", "django.core.cache.caches")
_REDIS = "import redis\nr = redis.Redis()\n"


def _is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


class CacheWriteWithoutTtl(PythonRule):
    id = "SA562"
    TRIGGERS = (*REDIS_TRIGGERS, b"cache")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _REDIS + "def f(u):\n    r.set(f'user:{u.id}', u.name, ex=300)\n",
        _REDIS + "def f(u):\n    r.setex(f'user:{u.id}', 300, u.name)\n",
        _REDIS + "def f(u):\n    r.hset(f'user:{u.id}', mapping=u.dict())\n    r.expire(f'user:{u.id}', 600)\n",
        _REDIS + "def f(job):\n    r.lpush('jobs', job)\n",
        "from django.core.cache import cache\ndef f(k, v):\n    cache.set(k, v)\n",
        "from django.core.cache import cache\ndef f(k, v):\n    cache.set(k, v, timeout=60)\n",
        "settings = {}\ndef f(k, v):\n    settings.set(k, v)\n",
        Case(_REDIS + "def test_x():\n    r.set('k', 'v')\n", path="tests/test_cache.py"),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(_REDIS + "def f(u):\n    r.set(f'user:{u.id}', u.name)\n", expect=1),
        Case(
            {
                "app/cache.py": _REDIS,
                "app/views.py": "from app.cache import r\ndef f(u):\n"
                "    r.hset(f'profile:{u.id}', mapping=u.dict())\n    return r.hgetall(f'profile:{u.id}')\n",
            },
            expect=1,
        ),
        "from django.core.cache import cache\ndef f(k, v):\n    cache.set(k, v, timeout=None)\n",
        "from django.core.cache import caches\ndef f(k, v):\n    caches['default'].set(k, v, None)\n",
    )

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        func = node.func
        if ctx.is_test or not isinstance(func, cst.Attribute) or func.attr.value not in ("set", "set_many", "add"):
            return
        receiver = func.value.value if isinstance(func.value, cst.Subscript) else func.value
        if ctx.imports.resolve(receiver) not in DJANGO_CACHES or not ctx.imports.is_imported(receiver):
            return
        positional = [a for a in node.args if a.keyword is None]
        index = 1 if func.attr.value == "set_many" else 2
        timeout = keyword_value(node, "timeout") or (positional[index].value if len(positional) > index else None)
        if _is_none(timeout):
            self.report(
                node,
                anchor=f"django-cache.{func.attr.value}",
                command=f"cache.{func.attr.value}",
                how="`timeout=None` (never expires)",
                prefix="",
            )
