"""SA525 no-response-compression, the per-file half; also the `http-app` fact.

`http-app` records each web application object (`FastAPI()`, `Flask()`,
`Starlette()`, Django's `MIDDLEWARE` settings...): the report's architecture
section and the observability join read it too. `compression` records
response compression wherever it is switched on: Starlette/FastAPI
`GZipMiddleware` (or Brotli) passed to `add_middleware`/`Middleware`,
Flask-Compress, Django's `GZipMiddleware` in `MIDDLEWARE`.
`scaleaudit.project.scaling_http` reports an HTTP app with no compression at
all. Medium confidence: a reverse proxy or CDN may compress instead, which
the code does not show.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.scaling_process import str_literal

APPS = {
    "fastapi.FastAPI": "FastAPI",
    "flask.Flask": "Flask",
    "starlette.applications.Starlette": "Starlette",
    "quart.Quart": "Quart",
    "sanic.Sanic": "Sanic",
    "litestar.Litestar": "Litestar",
    "django.core.wsgi.get_wsgi_application": "Django",
    "django.core.asgi.get_asgi_application": "Django",
}
COMPRESSION = {
    "starlette.middleware.gzip.GZipMiddleware",
    "fastapi.middleware.gzip.GZipMiddleware",
    "brotli_asgi.BrotliMiddleware",
    "flask_compress.Compress",
    "quart_compress.Compress",
}
DJANGO_COMPRESSION = ("django.middleware.gzip.GZipMiddleware",)
_APP = "from fastapi import FastAPI\napp = FastAPI()\n"


class NoResponseCompression(PythonRule):
    id = "SA525"
    TRIGGERS = (
        b"FastAPI",
        b"Flask",
        b"Starlette",
        b"Quart",
        b"Sanic",
        b"Litestar",
        b"MIDDLEWARE",
        b"get_wsgi_application",
        b"get_asgi_application",
        b"GZip",
        b"Compress",
        b"Brotli",
    )
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _APP
        + "from fastapi.middleware.gzip import GZipMiddleware\napp.add_middleware(GZipMiddleware, minimum_size=500)\n",
        "from flask import Flask\nfrom flask_compress import Compress\napp = Flask(__name__)\nCompress(app)\n",
        Case(
            {
                "app/main.py": _APP,
                "app/middleware.py": "from starlette.middleware.gzip import GZipMiddleware\n"
                "from app.main import app\napp.add_middleware(GZipMiddleware)\n",
            }
        ),
        Case(
            "MIDDLEWARE = ['django.middleware.gzip.GZipMiddleware', 'django.middleware.common.CommonMiddleware']\n",
            path="shop/settings.py",
        ),
        Case(_APP, path="tests/conftest.py", note="a test app"),
        "class FastAPI:\n    pass\napp = FastAPI()\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(_APP, expect=1),
        Case("MIDDLEWARE = ['django.middleware.common.CommonMiddleware']\n", path="shop/settings.py"),
        "from flask import Flask\napp = Flask(__name__)\n",
    )

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.is_test:
            return
        qualname = ctx.imports.resolve(node.func) or ""
        if qualname in APPS and ctx.imports.is_imported(node.func):
            self.fact("http-app", node, framework=APPS[qualname], qualname=qualname)
        elif qualname in COMPRESSION or any(
            ctx.imports.resolve(arg.value) in COMPRESSION for arg in node.args if ctx.imports.is_imported(arg.value)
        ):
            self.fact("compression", node, how=qualname)

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Name) and target.value == "MIDDLEWARE" and ctx.at_module_level and not ctx.is_test:
            self.fact("http-app", node, framework="Django", qualname="MIDDLEWARE")

    def visit_SimpleString(self, node: cst.SimpleString, _ctx: PyContext) -> None:
        if str_literal(node) in DJANGO_COMPRESSION:
            self.fact("compression", node, how=str_literal(node))
