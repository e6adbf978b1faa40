"""SA504 pm2-single-process, and `process-model` facts from PM2 ecosystem files.

`ecosystem.config.js` with `instances: 1` (or none) or `exec_mode: "fork"`
runs one Node.js process per host: one CPU core used, and no second process
to take traffic while one restarts. The review's Priority 3 is PM2 cluster
mode (`instances: "max"`, `exec_mode: "cluster"`) behind a load balancer.
Every app entry also becomes a `process-model` fact for the connection
budget.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, object_keys, string_value, text, unwrap
from scaleaudit.typescript.rule import TsCase, TsRule

_ECO = "ecosystem.config.js"


def _instances(value: Node | None) -> int | None:
    value = unwrap(value)
    if value is None:
        return 1
    literal = string_value(value)
    raw = literal if literal is not None else text(value)
    if raw in ("max", "0", "-1"):
        return None  # one per CPU core (or all but one): several processes
    try:
        return int(raw)
    except ValueError:
        return None


class Pm2SingleProcess(TsRule):
    id = "SA504"
    TRIGGERS = (b"apps",)
    NODE_TYPES = frozenset({"pair"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        TsCase(
            "module.exports = { apps: [{ name: 'api', script: 'dist/server.js', instances: 'max', "
            "exec_mode: 'cluster' }] };\n",
            path=_ECO,
        ),
        TsCase(
            "module.exports = { apps: [{ name: 'api', script: 'dist/server.js',\n"
            "  instances: 4, exec_mode: 'cluster' }] };\n",
            path=_ECO,
        ),
        TsCase(
            "export const apps = { apps: [{ instances: 1 }] };\n", path="src/config.ts", note="not an ecosystem file"
        ),
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        TsCase("module.exports = { apps: [{ name: 'api', script: 'dist/server.js' }] };\n", path=_ECO),
        TsCase(
            "module.exports = { apps: [{ name: 'api', script: 'dist/server.js',\n"
            "  instances: 4, exec_mode: 'fork' }] };\n",
            path="ecosystem.config.cjs",
        ),
    )

    def visit(self, node: Node, ctx: TsContext) -> None:
        if (
            not ctx.filename.startswith("ecosystem.config.")
            or text(node.child_by_field_name("key")).strip("'\"") != "apps"
        ):
            return
        apps = unwrap(node.child_by_field_name("value"))
        if apps is None or apps.type != "array":
            return
        for app in apps.named_children:
            keys = object_keys(app)
            if not keys:
                continue
            instances = _instances(keys.get("instances"))
            mode = string_value(keys.get("exec_mode")) or ("cluster" if instances != 1 else "fork")
            mode = "cluster" if mode in ("cluster", "cluster_mode") else "fork"
            name = string_value(keys.get("name")) or "app"
            script = string_value(keys.get("script")) or ""
            self.fact(
                "process-model",
                app,
                source="pm2",
                workers=None,
                instances=instances,
                mode=mode,
                command=f"pm2 {name} {script}".strip(),
            )
            if mode == "fork" or instances == 1:
                self.report(app, anchor=f"pm2:{name}", app=name, mode=mode, instances=instances or "max")
