"""`js-feature` facts: what the app sets up, for project-wide checks.

SA501 (Socket.IO without a shared adapter), SA505 (no response compression)
and SA541 (no error tracking/APM) are about what is *missing* across the
whole project, so this module only records what is present (an Express app,
a Socket.IO server, an adapter, compression, Sentry/OpenTelemetry) and the
project phase decides.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, call_args
from scaleaudit.typescript.rule import TsCase, TsRule

ADAPTER_MODULES = (
    "@socket.io/redis-adapter",
    "@socket.io/redis-streams-adapter",
    "@socket.io/postgres-adapter",
    "@socket.io/mongo-adapter",
    "@socket.io/cluster-adapter",
    "@socket.io/sticky",
    "socket.io-redis",
)
COMPRESSION_MODULES = ("compression", "shrink-ray-current", "@fastify/compress", "koa-compress", "fastify-compress")
TRACKING_PREFIXES = (
    "@sentry/",
    "@opentelemetry/",
    "dd-trace",
    "newrelic",
    "elastic-apm-node",
    "@bugsnag/",
    "@honeybadger-io/",
    "rollbar",
    "@appsignal/",
    "@datadog/",
    "@google-cloud/trace-agent",
    "applicationinsights",
    "@highlight-run/",
)
SERVERS = {"socket.io.Server": "socket-io-server", "socket.io": "socket-io-server", "express": "express-app"}


class AppFeatures(TsRule):
    id = "SA501"
    NODE_TYPES = frozenset({"new_expression", "call_expression", "program"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = ()
    INVALID: ClassVar[tuple[TsCase | str, ...]] = ()

    def visit(self, node: Node, ctx: TsContext) -> None:
        if ctx.is_test:
            return
        if node.type == "program":
            self._imports(node, ctx)
            return
        callee = node.child_by_field_name("constructor" if node.type == "new_expression" else "function")
        qualname = ctx.imports.resolve(callee)
        feature = SERVERS.get(qualname)
        if feature == "express-app" and node.type != "call_expression":
            feature = None
        if feature == "socket-io-server" and node.type == "call_expression" and not call_args(node):
            feature = None
        if feature is None and callee is not None and callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            if prop is not None and prop.text == b"adapter" and call_args(node):
                feature = "socket-io-adapter"  # io.adapter(createAdapter(...))
        if feature:
            self.fact("js-feature", node, feature=feature)

    def _imports(self, node: Node, ctx: TsContext) -> None:
        modules = ctx.imports.modules
        for feature, hit in (
            ("socket-io-adapter", any(m.startswith(ADAPTER_MODULES) for m in modules)),
            ("compression", any(m in COMPRESSION_MODULES for m in modules)),
            ("error-tracking", any(m.startswith(TRACKING_PREFIXES) for m in modules)),
        ):
            if hit:
                self.fact("js-feature", node, feature=feature)
