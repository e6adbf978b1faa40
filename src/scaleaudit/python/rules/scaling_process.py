"""SA524 single-worker-process and the `process-model` fact.

How many processes serve requests is half of the connection budget and the
first thing the review's checklist asks ("run the app in cluster mode"). The
Python side of that is visible in two places:

* `gunicorn.conf.py` (or `gunicorn_config.py`): module-level `workers = N`,
  `worker_class = "..."`; without `workers`, gunicorn runs ONE worker;
* `uvicorn.run(app, workers=N)`; without `workers`, one process.

Every such configuration becomes a `process-model` fact (the report's
capacity section and SA521 read it). The finding fires only where the
configuration demonstrably yields one process: `workers = 1`, or a gunicorn
config that never sets it (high/medium confidence); `uvicorn.run` without
`workers` is usually a development entry point, so it is low confidence, and
`reload=True` (the dev server) is silent. A value we cannot evaluate
(`multiprocessing.cpu_count() * 2 + 1`, an environment variable) is
recorded as unknown and never reported.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.model import Confidence
from scaleaudit.python.clients import keyword_value
from scaleaudit.python.context import PyContext
from scaleaudit.python.rule import Case, PythonRule

GUNICORN_CONFIGS = ("gunicorn.conf.py", "gunicorn_config.py", "gunicorn_conf.py", "gunicorn.py")
UVICORN_RUN = ("uvicorn.run", "uvicorn.main.run")


def int_literal(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return None


def str_literal(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


class SingleWorkerProcess(PythonRule):
    id = "SA524"
    TRIGGERS = (b"workers", b"uvicorn", b"worker_class", b"bind", b"timeout")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            "bind = '0.0.0.0:8000'\nworkers = 4\nworker_class = 'uvicorn.workers.UvicornWorker'\n",
            path="gunicorn.conf.py",
        ),
        Case(
            "import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1\n",
            path="gunicorn.conf.py",
            note="computed: unknown, never guessed",
        ),
        Case("import os\nworkers = int(os.environ.get('WEB_CONCURRENCY', '1'))\n", path="gunicorn.conf.py"),
        "import uvicorn\nif __name__ == '__main__':\n    uvicorn.run('app.main:app', reload=True)\n",
        "import uvicorn\nuvicorn.run('app.main:app', host='0.0.0.0', workers=4)\n",
        Case("workers = 1\n", path="app/settings.py", note="not a gunicorn config file"),
        "def run(workers=1):\n    pass\nrun(workers=1)\n",
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case("bind = '0.0.0.0:8000'\nworkers = 1\n", path="gunicorn.conf.py"),
        Case("bind = '0.0.0.0:8000'\ntimeout = 30\n", path="deploy/gunicorn.conf.py", note="gunicorn's default is 1"),
        "import uvicorn\nuvicorn.run('app.main:app', host='0.0.0.0', workers=1)\n",
    )

    def setup(self) -> None:
        self.is_config = self.ctx.filename in GUNICORN_CONFIGS and not self.ctx.is_test
        self.workers: cst.Assign | None = None
        self.worker_class = ""
        self.first: cst.CSTNode | None = None

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        if not self.is_config or not ctx.at_module_level or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        self.first = self.first or node
        if target.value == "workers":
            self.workers = node
        elif target.value == "worker_class":
            self.worker_class = str_literal(node.value) or ""

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.imports.resolve(node.func) not in UVICORN_RUN or ctx.is_test:
            return
        if not ctx.imports.is_imported(node.func):
            return
        if _is_true(keyword_value(node, "reload")):
            return  # the development server
        given = keyword_value(node, "workers")
        workers = int_literal(given) if given is not None else 1
        command = cst.Module([]).code_for_node(node)
        self.fact(
            "process-model",
            node,
            source="uvicorn",
            workers=workers,
            instances=None,
            mode="uvicorn.run",
            command=command[:200],
        )
        if workers == 1:
            confidence = Confidence.HIGH if given is not None else Confidence.LOW
            self.report(
                node,
                confidence=confidence,
                anchor="uvicorn.run",
                server="uvicorn.run",
                how="`workers=1`" if given is not None else "no `workers=` (uvicorn's default is 1)",
            )

    def finish(self) -> None:
        if not self.is_config or self.first is None:
            return
        node = self.workers or self.first
        workers = int_literal(self.workers.value) if self.workers is not None else 1
        self.fact(
            "process-model",
            node,
            source="gunicorn",
            workers=workers,
            instances=None,
            mode=self.worker_class or "sync",
            command=self.ctx.rel,
        )
        if workers == 1:
            explicit = self.workers is not None
            self.report(
                node,
                confidence=Confidence.HIGH if explicit else Confidence.MEDIUM,
                anchor="gunicorn",
                server=f"gunicorn ({self.ctx.filename})",
                how="`workers = 1`" if explicit else "no `workers` setting (gunicorn's default is 1)",
            )
