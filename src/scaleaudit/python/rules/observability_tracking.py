"""SA581 no-error-tracking, the per-file half: the `error-tracking` fact.

Error tracking or APM initialised anywhere in the code: `sentry_sdk.init`,
OpenTelemetry instrumentation, Datadog (`ddtrace.patch_all`, `import
ddtrace.auto`), New Relic, Elastic APM, Rollbar, Bugsnag, Honeybadger, Scout.
Any call into those packages counts — their import alone does not, since a
module can import `sentry_sdk` only to capture a message somewhere that is
never initialised. `scaleaudit.project.observability_tracking` reports an
HTTP app (the `http-app` fact) when no such fact exists in the project.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.scaling_process import str_literal

PROVIDERS = (
    ("sentry_sdk", "Sentry"),
    ("raven", "Sentry"),
    ("opentelemetry", "OpenTelemetry"),
    ("azure.monitor.opentelemetry", "OpenTelemetry"),
    ("ddtrace", "Datadog"),
    ("datadog", "Datadog"),
    ("newrelic", "New Relic"),
    ("elasticapm", "Elastic APM"),
    ("rollbar", "Rollbar"),
    ("bugsnag", "Bugsnag"),
    ("honeybadger", "Honeybadger"),
    ("scout_apm", "Scout APM"),
)
# Django INSTALLED_APPS entries that initialise an agent.
INSTALLED_APPS = {"scout_apm.django": "Scout APM", "elasticapm.contrib.django": "Elastic APM"}
_APP = "from fastapi import FastAPI\napp = FastAPI()\n"


def provider_of(qualname: str) -> str | None:
    for prefix, name in PROVIDERS:
        if qualname == prefix or qualname.startswith(prefix + "."):
            return name
    return None


class NoErrorTracking(PythonRule):
    id = "SA581"
    TRIGGERS = (
        *tuple(p.encode() for p, _ in PROVIDERS),
        b"FastAPI",
        b"Flask",
        b"MIDDLEWARE",
        b"Starlette",
        b"get_wsgi_application",
        b"get_asgi_application",
    )
    VALID: ClassVar[tuple[Case | str, ...]] = (
        "import sentry_sdk\nfrom fastapi import FastAPI\nsentry_sdk.init(dsn=DSN, traces_sample_rate=0.1)\n"
        "app = FastAPI()\n",
        Case(
            {
                "app/main.py": _APP,
                "app/telemetry.py": "from opentelemetry.instrumentation.fastapi import "
                "FastAPIInstrumentor\nfrom app.main import app\nFastAPIInstrumentor.instrument_app(app)\n",
            }
        ),
        "import ddtrace.auto\nfrom flask import Flask\napp = Flask(__name__)\n",
        Case("INSTALLED_APPS = ['scout_apm.django']\nMIDDLEWARE = []\n", path="shop/settings.py"),
        "import sentry_sdk\ndef report(e):\n    sentry_sdk.capture_exception(e)\n",  # no app: nothing to judge
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(_APP, expect=1),
        Case(
            {"app/main.py": _APP, "tests/conftest.py": "import sentry_sdk\nsentry_sdk.init(dsn=None)\n"},
            note="a test's init does not count",
            expect=1,
        ),
    )

    def visit_Import(self, node: cst.Import, ctx: PyContext) -> None:
        if ctx.is_test:
            return
        for alias in node.names:
            name = dotted(alias.name) or ""
            if name in ("ddtrace.auto", "newrelic.agent.auto") or name.endswith(".auto_instrumentation"):
                self.fact("error-tracking", node, provider=provider_of(name) or name, how=f"import {name}")

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.is_test or not ctx.imports.is_imported(node.func):
            return
        qualname = ctx.imports.resolve(node.func) or ""
        provider = provider_of(qualname)
        if provider is not None:
            self.fact("error-tracking", node, provider=provider, how=qualname)

    def visit_SimpleString(self, node: cst.SimpleString, ctx: PyContext) -> None:
        value = str_literal(node) or ""
        if value in INSTALLED_APPS and not ctx.is_test:
            self.fact("error-tracking", node, provider=INSTALLED_APPS[value], how=value)
