"""SA522 process-local-session-or-cache: session or cache state kept in one process.

Flask-Session with `SESSION_TYPE = "filesystem"`, Flask-Caching's
`SimpleCache`/`FileSystemCache`, Django's `LocMemCache`/`FileBasedCache` and
file-backed sessions all keep state in the memory or on the disk of one
process or machine. Behind a load balancer a user's next request lands on
another worker that has never seen the session (logged out) or holds a stale
copy of the cache.

Settings are recognised in every form they are written: module or class
attributes (`SESSION_TYPE = ...`), `app.config["SESSION_TYPE"] = ...`,
keyword arguments (`app.config.update(SESSION_TYPE=...)`) and dict literals
(`CACHES = {"default": {"BACKEND": ...}}`). Settings modules for development
and tests (`settings/dev.py`, `local_settings.py`, `test_settings.py`...) and
test files are silent: state in one process is fine there. Every recognised
store — shared or not — becomes a `state-store` fact for the report.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.model import Severity
from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.scaling_process import str_literal

# setting -> (what it stores, framework)
SETTINGS = {
    "SESSION_TYPE": ("session", "Flask-Session"),
    "CACHE_TYPE": ("cache", "Flask-Caching"),
    "SESSION_ENGINE": ("session", "Django"),
    "BACKEND": ("cache", "Django"),
}
# value (lower-cased) -> where it keeps the state; anything else is shared or unknown
LOCAL_VALUES = {
    "filesystem": "on the local filesystem",
    "simple": "in process memory",
    "simplecache": "in process memory",
    "flask_caching.backends.simplecache": "in process memory",
    "flask_caching.backends.simple": "in process memory",
    "filesystemcache": "on the local filesystem",
    "flask_caching.backends.filesystemcache": "on the local filesystem",
    "flask_caching.backends.filesystemcache.filesystemcache": "on the local filesystem",
    "django.contrib.sessions.backends.file": "on the local filesystem",
    "django.core.cache.backends.locmem.locmemcache": "in process memory",
    "django.core.cache.backends.filebased.filebasedcache": "on the local filesystem",
}
SHARED_HINTS = ("redis", "memcache", "db", "database", "mongodb", "sqlalchemy", "dynamodb", "cached_db", "signed")
DEV_SETTINGS = ("dev", "development", "local", "test", "tests", "testing", "ci")


def is_dev_settings(rel: str) -> bool:
    """`settings/dev.py`, `local_settings.py`, `settings_test.py`, `config/testing.py`..."""
    stem = rel.rsplit("/", 1)[-1].removesuffix(".py")
    words = stem.replace("-", "_").split("_")
    return any(w in DEV_SETTINGS for w in words)


class ProcessLocalSessionOrCache(PythonRule):
    id = "SA522"
    TRIGGERS = (b"SESSION_TYPE", b"CACHE_TYPE", b"SESSION_ENGINE", b"BACKEND")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "from flask import Flask\napp = Flask(__name__)\napp.config['SESSION_TYPE'] = 'redis'\n",
        "class Config:\n    CACHE_TYPE = 'RedisCache'\n",
        Case(
            "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache'}}\n",
            path="shop/settings.py",
        ),
        Case(
            "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}\n",
            path="shop/settings/dev.py",
            note="development settings",
        ),
        Case("SESSION_TYPE = 'filesystem'\n", path="tests/conftest.py"),
        "DATABASES = {'default': {'BACKEND': 'django.db.backends.sqlite3'}}\n",
        "SESSION_ENGINE = 'django.contrib.sessions.backends.cached_db'\n",
        "STATE = {'SESSION_TYPE': SESSION_KIND}\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        "from flask import Flask\napp = Flask(__name__)\napp.config['SESSION_TYPE'] = 'filesystem'\n",
        "from flask import Flask\napp = Flask(__name__)\napp.config.update(SESSION_TYPE='filesystem')\n",
        "class ProductionConfig:\n    CACHE_TYPE = 'SimpleCache'\n",
        Case(
            "CACHES = {\n    'default': {\n        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',\n"
            "    }\n}\n",
            path="shop/settings/production.py",
        ),
        Case("SESSION_ENGINE = 'django.contrib.sessions.backends.file'\n", path="shop/settings.py"),
        "app.config.from_mapping({'SESSION_TYPE': 'filesystem'})\n",
    )

    def setup(self) -> None:
        self.active = not (self.ctx.is_test or is_dev_settings(self.ctx.rel))

    def _judge(self, key: str, value: cst.BaseExpression | None) -> None:
        if not self.active or key not in SETTINGS or value is None:
            return
        text = str_literal(value)
        if text is None:
            return
        kind, framework = SETTINGS[key]
        lowered = text.lower()
        if key == "BACKEND" and "cache" not in lowered:
            return  # DATABASES' BACKEND, not a cache
        where = LOCAL_VALUES.get(lowered)
        shared = where is None and any(h in lowered for h in SHARED_HINTS)
        self.fact(
            "state-store", value, kind=kind, framework=framework, backend=text, shared=shared, local=where is not None
        )
        if where is None:
            return
        self.report(
            value,
            severity=Severity.HIGH if kind == "session" else Severity.MEDIUM,
            anchor=f"{key}={text}",
            what=f"{framework} {kind} storage",
            where=where,
            setting=f"{key} = {text!r}",
        )

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        for target in node.targets:
            expr = target.target
            if isinstance(expr, cst.Name) and not ctx.in_function:
                self._judge(expr.value, node.value)
            elif isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
                element = expr.slice[0].slice
                if isinstance(element, cst.Index):
                    self._judge(str_literal(element.value) or "", node.value)

    def visit_Arg(self, node: cst.Arg, _ctx: PyContext) -> None:
        if node.keyword is not None:
            self._judge(node.keyword.value, node.value)

    def visit_DictElement(self, node: cst.DictElement, _ctx: PyContext) -> None:
        self._judge(str_literal(node.key) or "", node.value)
