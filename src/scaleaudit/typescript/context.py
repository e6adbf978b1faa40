"""Where a node sits: module level, a request handler, a loop, code that runs once.

Rules ask by climbing a node's ancestors (a few dozen steps at most) instead
of walking the tree again; answers per function node are cached.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from scaleaudit.typescript.imports import ImportTable
from scaleaudit.typescript.parser import FUNCTIONS, LOOPS, Node, ancestors, call_args, text, unwrap

# `router.get("/x", handler)`, `app.use(mw)`, `route("/x").post(fn)`.
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "del", "all", "use", "options", "head", "route"})
NEST_DECORATORS = frozenset({"Get", "Post", "Put", "Patch", "Delete", "All", "Options", "Head"})
REQ_NAMES = frozenset({"req", "request", "_req", "_request"})
RES_NAMES = frozenset({"res", "response", "reply", "_res", "h"})
NEXT_ROUTE_EXPORTS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Functions that run once per process by name: startup, connection setup.
ONCE_NAMES = frozenset(
    {
        "main",
        "bootstrap",
        "start",
        "startServer",
        "init",
        "initialize",
        "setup",
        "connect",
        "connectDB",
        "connectDb",
        "connectDatabase",
        "connectToDatabase",
        "connectRedis",
        "createApp",
        "createServer",
        "onModuleInit",
        "getInstance",
    }
)
ITERATION_METHODS = frozenset({"map", "forEach", "flatMap", "reduce", "filter", "some", "every", "find"})
GLOBAL_OBJECTS = ("globalThis", "global", "window")
# `const g = globalThis as unknown as {...}`: a module-level alias of the global object
_GLOBAL_ALIAS = re.compile(rb"(?:const|let|var)\s+(\w+)\s*(?::[^=\n]+)?=\s*\(?\s*(?:globalThis|global)\b")


@dataclass
class TsContext:
    rel: str
    data: bytes
    imports: ImportTable
    _handler_cache: dict[int, bool] = field(default_factory=dict)

    @functools.cached_property
    def global_aliases(self) -> frozenset[str]:
        if b"global" not in self.data:
            return frozenset()
        return frozenset(m.group(1).decode() for m in _GLOBAL_ALIAS.finditer(self.data))

    @property
    def filename(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    @functools.cached_property
    def is_test(self) -> bool:
        parts = self.rel.split("/")
        name = parts[-1]
        return (
            any(p in ("__tests__", "tests", "test", "__mocks__", "e2e", "cypress") for p in parts[:-1])
            or ".test." in name
            or ".spec." in name
        )

    @functools.cached_property
    def is_script(self) -> bool:
        parts = self.rel.split("/")
        return any(
            p in ("scripts", "bin", "migrations", "seeders", "seeds") for p in parts[:-1]
        ) or self.filename.split(".")[0] in ("seed", "migrate")

    @functools.cached_property
    def is_request_module(self) -> bool:
        """A file whose functions the request path calls (controllers, routes, services)."""
        lowered = self.rel.lower()
        return any(
            part in lowered
            for part in ("controller", "route", "service", "resolver", "handler", "api/", "repositor", "middleware")
        )

    # --- functions ---------------------------------------------------------
    def function_name(self, fn: Node) -> str:
        name = fn.child_by_field_name("name")
        if name is not None:
            return text(name)
        parent = fn.parent
        if parent is not None and parent.type == "variable_declarator":
            return text(parent.child_by_field_name("name"))
        if parent is not None and parent.type == "pair":
            return text(parent.child_by_field_name("key"))
        return ""

    def is_handler(self, fn: Node) -> bool:
        key = fn.id
        if key not in self._handler_cache:
            self._handler_cache[key] = self._is_handler(fn)
        return self._handler_cache[key]

    def _is_handler(self, fn: Node) -> bool:
        parent = fn.parent
        if parent is not None and parent.type == "arguments":
            call = parent.parent
            callee = call.child_by_field_name("function") if call is not None else None
            if callee is not None and callee.type == "member_expression":
                prop = text(callee.child_by_field_name("property"))
                obj = text(callee.child_by_field_name("object"))
                if prop in ROUTE_METHODS and call is not None and call_args(call):
                    return True
                if prop in ("on", "once") and "socket" in obj.lower():
                    return True  # a Socket.IO event handler runs per message
        params = fn.child_by_field_name("parameters")
        names = [text(p.child_by_field_name("pattern") or p).split(":")[0].strip() for p in _params(params)]
        if len(names) >= 2 and names[0] in REQ_NAMES and names[1] in RES_NAMES:
            return True
        if fn.type == "method_definition" and _decorators(fn) & NEST_DECORATORS:
            return True
        name = self.function_name(fn)
        return name in NEXT_ROUTE_EXPORTS and self.filename.startswith("route.")

    def runs_once(self, fn: Node) -> bool:
        return self.function_name(fn) in ONCE_NAMES or (
            fn.type == "method_definition" and self.function_name(fn) == "constructor"
        )

    # --- where a node is ---------------------------------------------------
    def frames(self, node: Node) -> tuple[list[Node], list[Node]]:
        """(enclosing functions, enclosing loops whose *body* holds the node), innermost first."""
        functions: list[Node] = []
        loops: list[Node] = []
        child = node
        for parent in ancestors(node):
            if parent.type in FUNCTIONS:
                functions.append(parent)
            elif parent.type in LOOPS and _in_loop_body(parent, child):
                loops.append(parent)
            child = parent
        return functions, loops

    def scope(self, node: Node) -> str:
        if self.is_test:
            return "test"
        if self.is_script:
            return "script"
        functions, loops = self.frames(node)
        if not functions:
            # A module-level `globalThis.prisma ?? new PrismaClient()` is the shared instance itself.
            return "loop" if loops else "module"
        if singleton_guarded(node, self.global_aliases) or lazy_module_singleton(node, functions[0]):
            return "once"
        if any(self.is_handler(f) for f in functions):
            return "handler"
        if loop_before_function(node):
            return "loop"
        if any(self.runs_once(f) for f in functions):
            return "once"
        return "function"


def _params(params: Node | None) -> list[Node]:
    if params is None:
        return []
    return [p for p in params.named_children if p.type not in ("comment",)]


def _decorators(method: Node) -> set[str]:
    names: set[str] = set()
    sibling = method.prev_named_sibling
    while sibling is not None and sibling.type == "decorator":
        expr = sibling.named_children[0] if sibling.named_children else None
        if expr is not None and expr.type == "call_expression":
            expr = expr.child_by_field_name("function")
        names.add(text(expr))
        sibling = sibling.prev_named_sibling
    for child in method.named_children:
        if child.type == "decorator":
            names.add(text(child).lstrip("@").split("(")[0])
    return names


def _in_loop_body(loop: Node, child: Node) -> bool:
    body = loop.child_by_field_name("body")
    if body is not None and body.id == child.id:
        return True
    # `for (;;) stmt`: condition/increment repeat too, but queries live in bodies
    return loop.type == "do_statement" and child.type != "parenthesized_expression"


def loop_before_function(node: Node) -> bool:
    """Inside a loop body (or an iteration callback) of the innermost function."""
    child = node
    for parent in ancestors(node):
        if parent.type in LOOPS and _in_loop_body(parent, child):
            return True
        if parent.type in FUNCTIONS:
            return iteration_callback(parent) is not None
        child = parent
    return False


def iteration_callback(fn: Node) -> str | None:
    """`items.map(fn)` / `.forEach(fn)`: the method name when fn is such a callback."""
    parent = fn.parent
    if parent is None or parent.type != "arguments":
        return None
    call = parent.parent
    callee = call.child_by_field_name("function") if call is not None else None
    if callee is None or callee.type != "member_expression":
        return None
    prop = text(callee.child_by_field_name("property"))
    return prop if prop in ITERATION_METHODS else None


def is_global_member(node: Node | None, aliases: frozenset[str] = frozenset()) -> bool:
    """`globalThis.prisma`, `global.prisma`, `globalForPrisma.prisma`, `(global as any).prisma`."""
    node = unwrap(node)
    if node is None or node.type != "member_expression":
        return False
    obj = unwrap(node.child_by_field_name("object"))
    name = text(obj)
    return name in GLOBAL_OBJECTS or name in aliases or name.startswith(("globalFor", "globalThis", "global"))


def singleton_guarded(node: Node, aliases: frozenset[str] = frozenset()) -> bool:
    """`globalThis.prisma ?? new PrismaClient()`, `global.prisma ||= new PrismaClient()`,
    `if (!global.prisma) global.prisma = new PrismaClient()`: cached on the global object."""
    child = node
    for parent in ancestors(node):
        if parent.type == "binary_expression":
            op = text(parent.child_by_field_name("operator"))
            left = parent.child_by_field_name("left")
            if op in ("??", "||") and is_global_member(left, aliases) and child.id != (left.id if left else -1):
                return True
        elif parent.type in ("assignment_expression", "augmented_assignment_expression"):
            return is_global_member(parent.child_by_field_name("left"), aliases)
        elif parent.type not in (
            "parenthesized_expression",
            "as_expression",
            "satisfies_expression",
            "await_expression",
        ):
            return False
        child = parent
    return False


def lazy_module_singleton(node: Node, fn: Node) -> bool:
    """`client = new Redis()` inside a function, assigning a variable the function
    does not declare (`let client; function get() { if (!client) client = ...; }`)."""
    parent = node.parent
    while parent is not None and parent.type in ("parenthesized_expression", "as_expression", "await_expression"):
        parent = parent.parent
    if parent is None or parent.type not in ("assignment_expression", "augmented_assignment_expression"):
        return False
    left = parent.child_by_field_name("left")
    if left is None or left.type != "identifier":
        return False
    name = re.escape(text(left))
    return re.search(rf"\b(?:let|const|var)\s+{name}\b", text(fn)) is None
