"""SA302 drf-list-view-without-pagination, the per-file half: DRF view classes and REST_FRAMEWORK settings.

A DRF list view (`ListAPIView`, `ListCreateAPIView`, `ModelViewSet`,
`ReadOnlyModelViewSet`, `ListModelMixin`) pages its results only when
`pagination_class` is set on it (or a base) or `REST_FRAMEWORK` sets
`DEFAULT_PAGINATION_CLASS`. Both can live in other files — a project base
class, the settings module — so each file reports what it declares:

* `drf-view`: a class with its resolved bases, whether it sets
  `pagination_class` (`"set"`, `"none"` for an explicit `None`, `""`), whether
  it overrides `list()`/`paginate_queryset()`, and whether it declares a
  queryset (`queryset`, `model`, `get_queryset`), and whether it defines
  `get_queryset()` (SA204 trusts no base class that does);
* `drf-settings`: a module-level `REST_FRAMEWORK` and whether it names a
  default pagination class (a dict we cannot read counts as paginated).

`scaleaudit.project.pagination_drf` walks the inheritance and decides.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import class_bases
from scaleaudit.python.rule import Case, PythonRule

_PAGINATES = frozenset({"list", "paginate_queryset", "get_paginated_response"})
_QUERYSET = frozenset({"queryset", "model", "get_queryset"})
_KEY = "DEFAULT_PAGINATION_CLASS"

_SETTINGS = "REST_FRAMEWORK = {'DEFAULT_AUTHENTICATION_CLASSES': ['x']}\n"
_PAGED = "REST_FRAMEWORK = {'DEFAULT_PAGINATION_CLASS': 'rest_framework.pagination.PageNumberPagination'}\n"
_VIEWS = "from rest_framework import generics, viewsets\nfrom app.models import Ticket\n"


def _case(views: str, settings: str = _SETTINGS, **kw: object) -> Case:
    files = {"proj/settings.py": settings, "app/api.py": _VIEWS + views}
    return Case(files, **kw)  # type: ignore[arg-type]


def _class_body(node: cst.ClassDef) -> list[cst.CSTNode]:
    body = node.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def _assigned(stmt: cst.CSTNode) -> list[tuple[str, cst.BaseExpression]]:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return []
    out: list[tuple[str, cst.BaseExpression]] = []
    for small in stmt.body:
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                out.append((target.value, small.value))
        elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
            out.append((small.target.value, small.value))
    return out


def _names_pagination(value: cst.BaseExpression) -> bool:
    """Does a REST_FRAMEWORK value set a default pagination class? Unreadable values count as yes."""
    if not isinstance(value, cst.Dict):
        return True  # dict(...), a variable, a merge: we cannot tell, so assume it does
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return True  # **base: the key may come from there
        key = element.key
        if isinstance(key, cst.SimpleString) and key.evaluated_value == _KEY:
            return not (isinstance(element.value, cst.Name) and element.value.value == "None")
    return False


class DrfViewFacts(PythonRule):
    id = "SA302"
    TRIGGERS = (b"ViewSet", b"APIView", b"rest_framework", b"REST_FRAMEWORK", b"pagination_class")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _case(
            "class L(generics.ListAPIView):\n    queryset = Ticket.objects.all()\n", settings=_PAGED, note="default set"
        ),
        _case(
            "from rest_framework.pagination import CursorPagination\nclass L(viewsets.ModelViewSet):\n"
            "    queryset = Ticket.objects.all()\n    pagination_class = CursorPagination\n"
        ),
        _case(
            "class Base(viewsets.ModelViewSet):\n    pagination_class = MyPager\n"
            "class L(Base):\n    queryset = Ticket.objects.all()\n",
            note="a project base class sets it",
        ),
        _case(
            "class L(viewsets.ReadOnlyModelViewSet):\n    queryset = Ticket.objects.all()\n"
            "    pagination_class = None\n",
            note="explicitly unpaginated: the author decided",
        ),
        _case("class D(generics.RetrieveAPIView):\n    queryset = Ticket.objects.all()\n", note="one object"),
        _case(
            "from vendor.views import VendorViewSet\nclass L(VendorViewSet):\n    queryset = Ticket.objects.all()\n",
            note="a third-party base may set pagination",
        ),
        _case(
            "class L(generics.ListAPIView):\n    queryset = Ticket.objects.all()\n"
            "    def list(self, request):\n        return page(self.get_queryset())\n",
            note="list() overridden",
        ),
        _case(
            "class Base(viewsets.ModelViewSet):\n    serializer_class = S\n",
            note="an abstract base without a queryset is not routed",
        ),
        _case(
            "class L(generics.ListAPIView):\n    queryset = Ticket.objects.all()\n",
            settings="from .base import *\nREST_FRAMEWORK = {**BASE_REST, 'X': 1}\n",
            note="settings merged from elsewhere",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _case("class L(generics.ListAPIView):\n    queryset = Ticket.objects.all()\n", expect=1),
        _case(
            "class L(viewsets.ModelViewSet):\n    def get_queryset(self):\n        return Ticket.objects.all()\n",
            expect=1,
        ),
        _case(
            "class Base(viewsets.GenericViewSet):\n    pass\n"
            "from rest_framework.mixins import ListModelMixin\nclass L(ListModelMixin, Base):\n    model = Ticket\n",
            expect=1,
            note="list mixin on a project base",
        ),
        _case(
            "class L(generics.ListCreateAPIView):\n    queryset = Ticket.objects.all()\n",
            settings=_SETTINGS + "REST_FRAMEWORK['PAGE_SIZE'] = 50\n",
            expect=1,
            note="PAGE_SIZE alone does not paginate",
        ),
    )

    def visit_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        if ctx.is_test or not node.bases:
            return
        pagination, overrides, declares, own_queryset = "", False, False, False
        for stmt in _class_body(node):
            if isinstance(stmt, cst.FunctionDef):
                overrides = overrides or stmt.name.value in _PAGINATES
                declares = declares or stmt.name.value in _QUERYSET
                own_queryset = own_queryset or stmt.name.value == "get_queryset"
            for name, value in _assigned(stmt):
                declares = declares or name in _QUERYSET
                if name == "pagination_class":
                    pagination = "none" if isinstance(value, cst.Name) and value.value == "None" else "set"
        bases = class_bases(node, ctx.imports)
        self.fact(
            "drf-view",
            node.name,
            name=node.name.value,
            bases=bases,
            pagination=pagination,
            overrides_list=overrides,
            declares_queryset=declares,
            get_queryset=own_queryset,
        )

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        if not ctx.at_module_level or ctx.frames or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name) and target.value == "REST_FRAMEWORK":
            self.fact("drf-settings", node, paginated=_names_pagination(node.value))
        elif isinstance(target, cst.Subscript) and dotted(target.value) == "REST_FRAMEWORK":
            keys = [e.slice.value for e in target.slice if isinstance(e.slice, cst.Index)]
            if any(isinstance(k, cst.SimpleString) and k.evaluated_value == _KEY for k in keys):
                self.fact("drf-settings", node, paginated=True)
