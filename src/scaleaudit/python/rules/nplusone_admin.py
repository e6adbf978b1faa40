"""SA205 n-plus-one-in-admin-list, the per-file half: what each admin changelist row touches.

A `ModelAdmin` renders one row per object of its changelist; a `list_display`
column that is a method of the admin (`def owner_name(self, obj): return
obj.owner.name`) runs once per row. Django joins relations for the
changelist only through `list_select_related`, or by itself (a bare
`select_related()`) when `list_select_related` is unset and a
`list_display` column is a relation field. Each admin becomes an
`admin-list` fact: the model (from `@admin.register(M)` or
`admin.site.register(M, Admin)`), the columns, `list_select_related`, and
every `obj.<attr>` the column methods touch. The registry decides in
`scaleaudit.project.nplusone_admin`.

Silent for admins that override `get_queryset()` (the override may load
anything) and in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import PerItemMethods, class_bases
from scaleaudit.python.rule import Case, PythonRule

_MODELS = (
    "from django.db import models\n"
    "class User(models.Model):\n    name = models.CharField(max_length=9)\n"
    "class Ticket(models.Model):\n    title = models.CharField(max_length=9)\n"
    "    owner = models.ForeignKey(User, on_delete=models.CASCADE)\n"
    "class Comment(models.Model):\n    ticket = models.ForeignKey(Ticket, related_name='comments', on_delete=1)\n"
)
_HEAD = "from django.contrib import admin\nfrom app.models import Ticket\n"
_OWNER = "    def owner_name(self, obj):\n        return obj.owner.name\n"


def _case(code: str, **kw: Any) -> Case:
    return Case({"app/models.py": _MODELS, "app/admin.py": _HEAD + code}, **kw)


def _strings(node: cst.BaseExpression | None) -> list[str] | None:
    if isinstance(node, (cst.List, cst.Tuple)):
        return [
            e.value.evaluated_value
            for e in node.elements
            if isinstance(e.value, cst.SimpleString) and isinstance(e.value.evaluated_value, str)
        ]
    return None


@dataclass
class _Admin:
    node: cst.ClassDef
    model: str = ""
    columns: list[str] = field(default_factory=list)
    select_related: list[str] | None = None
    overrides_queryset: bool = False
    touches: list[dict[str, Any]] = field(default_factory=list)


class AdminListFacts(PythonRule):
    id = "SA205"
    TRIGGERS = (b"list_display",)
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title', 'owner_name')\n"
            "    list_select_related = ('owner',)\n" + _OWNER
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n"
            "    list_display = ('title', 'owner', 'owner_name')\n" + _OWNER,
            note="a relation column makes Django call select_related() itself",
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title', 'owner')\n",
            note="a plain foreign-key column: Django joins it",
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title', 'owner_name')\n"
            "    def get_queryset(self, request):\n"
            "        return super().get_queryset(request).select_related('owner')\n" + _OWNER,
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title',)\n" + _OWNER,
            note="a method that is not a column runs on the change form only",
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title', 'oid')\n"
            "    def oid(self, obj):\n        return obj.owner_id\n",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin[Ticket]):\n    list_display = ('id', 'owner_name')\n"
            + _OWNER,
            expect=1,
            note="a generic (typed) ModelAdmin base",
        ),
        _case(
            "@admin.register(Ticket)\nclass T(admin.ModelAdmin):\n    list_display = ('title', 'owner_name')\n"
            + _OWNER,
            expect=1,
        ),
        _case(
            "class T(admin.ModelAdmin):\n    list_display = ['title', 'n']\n    list_select_related = ('owner',)\n"
            "    @admin.display(description='comments')\n    def n(self, obj):\n        return obj.comments.count()\n"
            "admin.site.register(Ticket, T)\n",
            expect=1,
            note="a reverse count per row: select_related cannot help",
        ),
    )

    def setup(self) -> None:
        self.admins: dict[str, _Admin] = {}
        self.methods: PerItemMethods[_Admin] = PerItemMethods()

    def visit_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        bases = class_bases(node, ctx.imports)
        if ctx.is_test or not any(b.endswith("ModelAdmin") for b in bases):
            return
        admin = _Admin(node)
        for deco in node.decorators:
            call = deco.decorator
            if isinstance(call, cst.Call) and (dotted(call.func) or "").endswith("register") and call.args:
                admin.model = dotted(call.args[0].value) or ""
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "get_queryset":
                admin.overrides_queryset = True
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                    self._setting(admin, small.targets[0].target.value, small.value)
        self.admins[node.name.value] = admin

    def _setting(self, admin: _Admin, name: str, value: cst.BaseExpression) -> None:
        if name == "list_display":
            admin.columns = _strings(value) or []
        elif name == "list_select_related":
            listed = _strings(value)
            truthy = isinstance(value, cst.Name) and value.value == "True"
            admin.select_related = ["*"] if truthy else listed if listed is not None else None

    def visit_FunctionDef(self, node: cst.FunctionDef, ctx: PyContext) -> None:
        cls = ctx.cls
        admin = self.admins.get(cls.name) if cls is not None and ctx.function is None else None
        self.methods.enter(node, admin, admin.columns if admin is not None else ())

    def leave_FunctionDef(self, node: cst.FunctionDef, ctx: PyContext) -> None:
        self.methods.leave(node)

    def visit_Attribute(self, node: cst.Attribute, ctx: PyContext) -> None:
        touched = self.methods.touch(node)
        if touched is None:
            return
        admin, attr, nxt = touched
        if all(t["attr"] != attr for t in admin.touches):
            admin.touches.append({"attr": attr, "next": nxt, "node": node})

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        """`admin.site.register(Ticket, TicketAdmin)`, after the class."""
        if (dotted(node.func) or "").endswith("site.register") and len(node.args) >= 2:
            admin = self.admins.get(dotted(node.args[1].value) or "")
            if admin is not None and not admin.model:
                admin.model = dotted(node.args[0].value) or ""

    def finish(self) -> None:
        for admin in self.admins.values():
            if not admin.model or admin.overrides_queryset or not admin.touches:
                continue
            self.fact(
                "admin-list",
                admin.node.name,
                model=admin.model.rsplit(".", 1)[-1],
                qualname=self.ctx.imports.resolve_dotted(admin.model),
                admin=admin.node.name.value,
                columns=admin.columns,
                select_related=admin.select_related,
                touches=admin.touches,
            )
