"""What a rule knows about where it is while the engine walks a module.

The walker keeps a stack of frames (class, function, loop, comprehension,
`if __name__ == "__main__"` block) so that rules can ask "am I inside a
request handler?" without walking up the tree themselves — libcst's
ParentNodeProvider would cost another full pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from scaleaudit.python.imports import ImportTable, dotted

FrameKind = Literal["class", "function", "loop", "comprehension", "main-guard"]

# Decorator attribute names that register an HTTP route in FastAPI, Starlette,
# Flask, Quart, Sanic, aiohttp route tables and Litestar.
ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route", "websocket", "view"}
)
# Decorators that make a function run once, whatever its body builds.
CACHING_DECORATORS = frozenset(
    {
        "functools.cache",
        "functools.lru_cache",
        "functools.cached_property",
        "cache",
        "lru_cache",
        "cached_property",
        "django.utils.functional.cached_property",
    }
)
# Class bases whose HTTP-verb methods are request handlers.
VIEW_BASES = (
    "View",
    "APIView",
    "ViewSet",
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "GenericAPIView",
    "ListAPIView",
    "RetrieveAPIView",
    "ListCreateAPIView",
    "TemplateView",
    "ListView",
    "DetailView",
    "MethodView",
    "HTTPEndpoint",
    "Resource",
)
HTTP_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "list",
        "retrieve",
        "create",
        "update",
        "partial_update",
        "destroy",
        "dispatch",
        "get_queryset",
        "get_context_data",
        "get_object",
    }
)


@dataclass
class Frame:
    kind: FrameKind
    node: cst.CSTNode
    name: str = ""
    decorators: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    handler: bool = False  # a request handler (route, view, DRF method)
    runs_once: bool = False  # cached factory, startup hook, AppConfig.ready, ...
    is_async: bool = False


@dataclass
class PyContext:
    rel: str
    module: str
    imports: ImportTable
    frames: list[Frame] = field(default_factory=list)
    # Statements enclosing the node being visited (outermost first): a cheap
    # way to place a reported node whose own text repeats in the file.
    statements: list[cst.CSTNode] = field(default_factory=list)
    script: bool = False  # calls sys.exit()/exit() at import time: run by hand

    # --- file-level traits -------------------------------------------------
    @property
    def filename(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    @property
    def is_test(self) -> bool:
        parts = self.rel.split("/")
        name = parts[-1]
        return (
            name == "conftest.py"
            or name.startswith("test_")
            or name.endswith("_test.py")
            or any(p in ("tests", "test", "testing") for p in parts[:-1])
        )

    @property
    def is_migration(self) -> bool:
        parts = self.rel.split("/")
        return "migrations" in parts[:-1] or ("versions" in parts[:-1] and "alembic" in parts)

    @property
    def is_alembic_env(self) -> bool:
        return self.filename == "env.py" and any(p in ("alembic", "migrations") for p in self.rel.split("/"))

    @property
    def is_batch(self) -> bool:
        """Code that runs outside a request: management commands, tasks, scripts."""
        parts = self.rel.split("/")
        return (
            ("management" in parts and "commands" in parts)
            or self.filename in ("tasks.py", "celery.py", "manage.py", "worker.py", "cli.py")
            or any(p in ("scripts", "bin", "tasks", "jobs", "workers") for p in parts[:-1])
            or self.is_migration
            or self.is_alembic_env
            or self.script
        )

    # --- where we are -------------------------------------------------------
    def innermost(self, *kinds: FrameKind) -> Frame | None:
        for frame in reversed(self.frames):
            if frame.kind in kinds:
                return frame
        return None

    def enclosing(self, *kinds: FrameKind) -> Iterator[Frame]:
        return (f for f in reversed(self.frames) if f.kind in kinds)

    @property
    def function(self) -> Frame | None:
        return self.innermost("function")

    @property
    def in_function(self) -> bool:
        return self.function is not None

    @property
    def at_module_level(self) -> bool:
        return not any(f.kind in ("function", "loop", "comprehension") for f in self.frames)

    @property
    def in_loop(self) -> bool:
        """Inside a loop or comprehension *of the current function* (or of the module)."""
        for frame in reversed(self.frames):
            if frame.kind in ("loop", "comprehension"):
                return True
            if frame.kind in ("function", "class"):
                return False
        return False

    @property
    def loop(self) -> Frame | None:
        for frame in reversed(self.frames):
            if frame.kind in ("loop", "comprehension"):
                return frame
            if frame.kind in ("function", "class"):
                return None
        return None

    @property
    def in_handler(self) -> bool:
        return any(f.handler for f in self.frames if f.kind == "function")

    @property
    def runs_once(self) -> bool:
        return any(f.runs_once for f in self.frames)

    @property
    def in_main_guard(self) -> bool:
        return any(f.kind == "main-guard" for f in self.frames)

    @property
    def cls(self) -> Frame | None:
        return self.innermost("class")

    # --- frame construction (used by the walker) ---------------------------
    def decorator_names(self, node: cst.FunctionDef | cst.ClassDef) -> tuple[str, ...]:
        names = []
        for deco in node.decorators:
            expr = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            resolved = self.imports.resolve(expr)
            if resolved:
                names.append(resolved)
        return tuple(names)

    def function_frame(self, node: cst.FunctionDef) -> Frame:
        decorators = self.decorator_names(node)
        name = node.name.value
        enclosing_class = self.cls if self.frames and self.frames[-1].kind == "class" else None
        return Frame(
            kind="function",
            node=node,
            name=name,
            decorators=decorators,
            handler=self._is_handler(node, decorators, enclosing_class),
            runs_once=self._runs_once(name, decorators, enclosing_class),
            is_async=node.asynchronous is not None,
        )

    def class_frame(self, node: cst.ClassDef) -> Frame:
        bases = tuple(b for arg in node.bases if (b := self.imports.resolve(arg.value)))
        return Frame(kind="class", node=node, name=node.name.value, bases=bases, decorators=self.decorator_names(node))

    def _is_handler(self, node: cst.FunctionDef, decorators: tuple[str, ...], cls: Frame | None) -> bool:
        for deco in node.decorators:
            target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            # `@app.get("/x")` / `@bp.route("/x")`: only the call form registers a route
            if (
                isinstance(target, cst.Attribute)
                and target.attr.value in ROUTE_DECORATORS
                and isinstance(deco.decorator, cst.Call)
                and deco.decorator.args
            ):
                return True
        if any(
            d.rsplit(".", 1)[-1]
            in ("api_view", "action", "require_http_methods", "require_GET", "require_POST", "login_required")
            for d in decorators
        ):
            return True
        if cls is not None and any(b.rsplit(".", 1)[-1].endswith(VIEW_BASES) for b in cls.bases):
            return node.name.value in HTTP_METHODS
        params = node.params.params
        first = params[0].name.value if params else ""
        in_views = "views" in self.rel.split("/")[-1] or "/views/" in f"/{self.rel}"
        return cls is None and in_views and first == "request"

    def _runs_once(self, name: str, decorators: tuple[str, ...], cls: Frame | None) -> bool:
        if any(
            d in CACHING_DECORATORS
            or d.endswith(("on_event", "on_startup", "asynccontextmanager", "before_first_request", "receiver"))
            for d in decorators
        ):
            return True
        if cls is not None and name == "ready" and any(b.endswith("AppConfig") for b in cls.bases):
            return True
        return name in (
            "lifespan",
            "startup",
            "on_startup",
            "create_app",
            "make_app",
            "main",
            "setUp",
            "setUpClass",
            "setup_module",
            "init_app",
            "configure",
        )


def is_main_guard(node: cst.If) -> bool:
    test = node.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {dotted(left), dotted(right)}
    strings = [n for n in (left, right) if isinstance(n, cst.SimpleString)]
    return "__name__" in names and any(s.evaluated_value == "__main__" for s in strings)
