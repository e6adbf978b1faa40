"""SA521 socketio-without-message-queue, the per-file half.

A Socket.IO server keeps its connected clients and rooms in the memory of the
process that accepted them. With two processes, `emit(..., to=room)` in one
reaches only the clients connected to that one; python-socketio fixes it with
a message queue (`message_queue=` for Flask-SocketIO, `client_manager=` for
python-socketio). Every server construction becomes a `socketio-server` fact;
`scaleaudit.project.scaling_realtime` reports the ones without a queue when a
`process-model` fact says more than one process serves the app.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.clients import keyword_value
from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule

SERVERS = {
    "flask_socketio.SocketIO": "Flask-SocketIO",
    "socketio.Server": "python-socketio",
    "socketio.AsyncServer": "python-socketio",
}
QUEUE_KEYWORDS = ("message_queue", "client_manager")
_MULTI = Case(
    {
        "app/main.py": "from flask import Flask\nfrom flask_socketio import SocketIO\napp = Flask(__name__)\n"
        "socketio = SocketIO(app)\n",
        "gunicorn.conf.py": "workers = 4\nworker_class = 'eventlet'\n",
    },
    expect=1,
)


class SocketServerWithoutQueue(PythonRule):
    id = "SA521"
    TRIGGERS = (b"socketio",)
    VALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            {
                **_MULTI.files(),
                "app/main.py": "from flask import Flask\nfrom flask_socketio import SocketIO\n"
                "app = Flask(__name__)\nsocketio = SocketIO(app, message_queue='redis://cache:6379/1')\n",
            }
        ),
        Case(
            {
                **_MULTI.files(),
                "app/main.py": "from flask_socketio import SocketIO\nsocketio = SocketIO()\n"
                "def create_app(app):\n    socketio.init_app(app, message_queue=REDIS_URL)\n",
            },
            note="the queue is given to init_app",
        ),
        Case(
            {
                **_MULTI.files(),
                "app/main.py": "import socketio\n"
                "sio = socketio.AsyncServer(client_manager=socketio.AsyncRedisManager(URL))\n",
            }
        ),
        Case({**_MULTI.files(), "gunicorn.conf.py": "workers = 1\n"}, note="one process: nothing to share"),
        Case({"app/main.py": _MULTI.files()["app/main.py"]}, note="no process model seen: unknown, not reported"),
        Case({**_MULTI.files(), "app/main.py": "class SocketIO:\n    pass\nsocketio = SocketIO()\n"}),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _MULTI,
        Case(
            {
                "app/main.py": "import socketio\nimport uvicorn\nsio = socketio.AsyncServer(async_mode='asgi')\n"
                "uvicorn.run(socketio.ASGIApp(sio), workers=3)\n"
            },
            expect=1,
        ),
    )

    def setup(self) -> None:
        self.servers: list[tuple[cst.Call, str, str, bool]] = []
        self.bound: dict[int, str] = {}
        self.queued_bindings: set[str] = set()

    def visit_Assign(self, node: cst.Assign, _ctx: PyContext) -> None:
        if isinstance(node.value, cst.Call) and len(node.targets) == 1:
            name = dotted(node.targets[0].target)
            if name:
                self.bound[id(node.value)] = name

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "init_app":
            if any(keyword_value(node, k) is not None for k in QUEUE_KEYWORDS):
                self.queued_bindings.add(dotted(func.value) or "")
            return
        qualname = ctx.imports.resolve(func)
        if qualname not in SERVERS or ctx.is_test or not ctx.imports.is_imported(func):
            return
        queued = any(keyword_value(node, k) is not None for k in QUEUE_KEYWORDS)
        self.servers.append((node, qualname, self.bound.get(id(node), ""), queued))

    def finish(self) -> None:
        for node, qualname, binding, queued in self.servers:
            self.fact(
                "socketio-server",
                node,
                qualname=qualname,
                library=SERVERS[qualname],
                binding=binding,
                queue=queued or binding in self.queued_bindings,
            )
