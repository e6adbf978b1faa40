"""SA204 n-plus-one-in-serializer, the per-file half: what a DRF serializer touches per object.

A serializer with `many=True` runs its fields once per object. Fields that
read a relation query per object unless the view's queryset loaded it:

* a nested serializer (`owner = UserSerializer()`, `comments =
  CommentSerializer(many=True)`), or a related field that reads the related
  object (`SlugRelatedField`, `StringRelatedField`);
* any field with `source="owner.name"` (the first hop is the relation);
* a `SerializerMethodField` whose `get_<name>(self, obj)` touches `obj.<rel>`;
* a reverse or many-to-many name listed in `Meta.fields` of a
  ModelSerializer (a primary-key list per object; forward keys read `<fk>_id`).

Each serializer becomes a `serializer` fact (model, touches). Each place that
serializes a queryset becomes a `serializer-use` fact: a view class's
`serializer_class` with its `queryset`/`get_queryset()`, or
`XSerializer(qs, many=True)` in a function. `scaleaudit.project.nplusone_serializers`
joins them by serializer name and asks the registry per touch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import PerItemMethods, class_bases, keyword
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.nplusone_tracker import Tracker

# Related fields that read the related object itself (PrimaryKeyRelatedField reads only `<fk>_id`).
_OBJECT_FIELDS = frozenset({"SlugRelatedField", "StringRelatedField"})
_LIST_VIEWS = ("ModelViewSet", "ListAPIView", "ListCreateAPIView", "ListModelMixin")

_MODELS = (
    "from django.db import models\n"
    "class User(models.Model):\n    name = models.CharField(max_length=9)\n"
    "class Ticket(models.Model):\n    title = models.CharField(max_length=9)\n"
    "    owner = models.ForeignKey(User, on_delete=models.CASCADE)\n"
    "class Comment(models.Model):\n    ticket = models.ForeignKey(Ticket, related_name='comments', on_delete=1)\n"
)
_SER = (
    "from rest_framework import serializers\nfrom app.models import Ticket, User, Comment\n"
    "class UserSerializer(serializers.ModelSerializer):\n    class Meta:\n        model = User\n"
    "        fields = ['id', 'name']\n"
)
_VIEW = (
    "from rest_framework import viewsets\nfrom app.models import Ticket\nfrom app.serializers import TicketSerializer\n"
)


def _case(serializer: str, view: str, **kw: Any) -> Case:
    files = {"app/models.py": _MODELS, "app/serializers.py": _SER + serializer, "app/api.py": _VIEW + view}
    return Case(files, **kw)


def _meta(fields: str) -> str:
    return f"    class Meta:\n        model = Ticket\n        fields = {fields}\n"


_NESTED = "class TicketSerializer(serializers.ModelSerializer):\n    owner = UserSerializer()\n" + _meta("'__all__'")
_VS = "class V(viewsets.ModelViewSet):\n    serializer_class = TicketSerializer\n"


@dataclass
class _Serializer:
    node: cst.ClassDef
    model: str = ""
    methods: dict[str, str] = field(default_factory=dict)  # SerializerMethodField name -> method name
    touches: list[dict[str, Any]] = field(default_factory=list)


def _source(call: cst.Call) -> tuple[str, str | None] | None:
    value = keyword(call, "source")
    if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str) and value.evaluated_value != "*":
        head, _, rest = value.evaluated_value.partition(".")
        return head, rest.split(".", 1)[0] or None
    return None


def _many(call: cst.Call) -> bool:
    value = keyword(call, "many")
    return isinstance(value, cst.Name) and value.value == "True"


class SerializerFacts(PythonRule):
    id = "SA204"
    TRIGGERS = (b"serializer", b"Serializer")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _case(_NESTED, _VS + "    queryset = Ticket.objects.select_related('owner')\n"),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n"
            "    owner_name = serializers.CharField(source='owner.name')\n" + _meta("['id', 'owner_name']"),
            _VS + "    queryset = Ticket.objects.select_related('owner__team')\n",
        ),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n" + _meta("['id', 'title', 'owner']"),
            _VS + "    queryset = Ticket.objects.all()\n",
            note="a forward key in Meta.fields is serialized from owner_id",
        ),
        _case(
            _NESTED,
            "from rest_framework import generics\nclass V(generics.RetrieveAPIView):\n"
            "    serializer_class = TicketSerializer\n    queryset = Ticket.objects.all()\n",
            note="one object",
        ),
        _case(
            _NESTED,
            "class Base(viewsets.ModelViewSet):\n    def get_queryset(self):\n        return optimise(self.queryset)\n"
            "class V(Base):\n    serializer_class = TicketSerializer\n    queryset = Ticket.objects.all()\n",
            note="a base class's get_queryset() may load anything",
        ),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n    n = serializers.SerializerMethodField()\n"
            + _meta("['id', 'n']")
            + "    def get_n(self, obj):\n        return obj.comments.count()\n",
            _VS + "    queryset = Ticket.objects.prefetch_related('comments')\n",
        ),
        _case(
            _NESTED,
            "from app.serializers import TicketSerializer\ndef f(request, pk):\n"
            "    return TicketSerializer(Ticket.objects.get(pk=pk)).data\n",
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _case(_NESTED, _VS + "    queryset = Ticket.objects.all()\n", expect=1),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n"
            "    owner_name = serializers.CharField(source='owner.name')\n" + _meta("['id', 'owner_name']"),
            _VS + "    queryset = Ticket.objects.filter(title='x')\n",
            expect=1,
        ),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n    n = serializers.SerializerMethodField()\n"
            + _meta("['id', 'n']")
            + "    def get_n(self, obj):\n        return obj.comments.count()\n",
            _VS + "    queryset = Ticket.objects.all()\n",
            expect=1,
        ),
        _case(
            "class TicketSerializer(serializers.ModelSerializer):\n" + _meta("['id', 'comments']"),
            _VS + "    queryset = Ticket.objects.select_related('owner')\n",
            expect=1,
            note="a reverse relation in Meta.fields: a primary-key list per ticket",
        ),
        _case(
            _NESTED,
            "from rest_framework.decorators import api_view\n@api_view(['GET'])\ndef f(request):\n"
            "    qs = Ticket.objects.filter(title='x')[:50]\n    return TicketSerializer(qs, many=True).data\n",
            expect=1,
        ),
    )

    def setup(self) -> None:
        self.tracker = Tracker()
        self.serializers: dict[int, _Serializer] = {}
        self.view_serializer: dict[int, str] = {}
        self.methods: PerItemMethods[_Serializer] = PerItemMethods()

    # --- serializers ------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        bases = class_bases(node, ctx.imports)
        if ctx.is_test or not any(b.endswith("Serializer") for b in bases) or ctx.function is not None:
            return
        ser = _Serializer(node)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Meta":
                self._meta(ser, stmt)
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                target = small.targets[0].target if isinstance(small, cst.Assign) else None
                if isinstance(target, cst.Name) and isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                    self._field(ser, target.value, small.value, ctx)
        self.serializers[id(node)] = ser

    def _meta(self, ser: _Serializer, meta: cst.ClassDef) -> None:
        body = meta.body.body if isinstance(meta.body, cst.IndentedBlock) else ()
        for stmt in body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if not isinstance(small, cst.Assign) or not isinstance(small.targets[0].target, cst.Name):
                    continue
                name = small.targets[0].target.value
                if name == "model":
                    ser.model = dotted(small.value) or ""
                elif name == "fields" and isinstance(small.value, (cst.List, cst.Tuple)):
                    for element in small.value.elements:
                        value = element.value
                        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                            ser.touches.append(
                                {"attr": value.evaluated_value, "next": "__iter__", "how": "field", "node": value}
                            )

    def _field(self, ser: _Serializer, name: str, call: cst.Call, ctx: PyContext) -> None:
        callee = ctx.imports.resolve(call.func) or ""
        short = callee.rsplit(".", 1)[-1]
        ser.touches = [t for t in ser.touches if t["attr"] != name]  # declared fields replace Meta.fields
        if short == "SerializerMethodField":
            method = keyword(call, "method_name")
            text = method.evaluated_value if isinstance(method, cst.SimpleString) else None
            ser.methods[str(text) if isinstance(text, str) else f"get_{name}"] = name
            return
        source = _source(call)
        nested = short.endswith("Serializer") and not callee.startswith("rest_framework.")
        if nested or short in _OBJECT_FIELDS:
            attr = source[0] if source else name
            ser.touches.append(
                {"attr": attr, "next": "__iter__" if _many(call) else None, "how": "nested", "node": call}
            )
        elif source is not None and source[1] is not None:
            ser.touches.append({"attr": source[0], "next": source[1], "how": "source", "node": call})

    def visit_FunctionDef(self, node: cst.FunctionDef, ctx: PyContext) -> None:
        cls = ctx.cls
        ser = self.serializers.get(id(cls.node)) if cls is not None and ctx.function is None else None
        self.methods.enter(node, ser, ser.methods if ser is not None else ())

    def leave_FunctionDef(self, node: cst.FunctionDef, ctx: PyContext) -> None:
        self.methods.leave(node)

    def visit_Attribute(self, node: cst.Attribute, ctx: PyContext) -> None:
        touched = self.methods.touch(node)
        if touched is not None:
            ser, attr, nxt = touched
            ser.touches.append({"attr": attr, "next": nxt, "how": "method", "node": node})

    # --- where serializers meet querysets ------------------------------------
    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)
        target = node.targets[0].target if len(node.targets) == 1 else None
        cls = ctx.cls
        named = isinstance(target, cst.Name) and target.value == "serializer_class"
        if cls is not None and ctx.function is None and named:
            self.view_serializer[id(cls.node)] = dotted(node.value) or ""

    def visit_Return(self, node: cst.Return, ctx: PyContext) -> None:
        self.tracker.returned(node, ctx)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        name = (dotted(node.func) or "").rsplit(".", 1)[-1]
        if not name.endswith("Serializer") or not _many(node) or not node.args or ctx.function is None:
            return
        found = self.tracker.query(node.args[0].value, ctx)
        if found is not None and found[0].rows and not found[0].single and not ctx.is_test:
            self.fact("serializer-use", found[0].node, serializer=name, bases=[], **found[0].data())

    def leave_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        serializer = self.view_serializer.get(id(node))
        query = self.tracker.classes.by_class.get(id(node))
        bases = class_bases(node, ctx.imports)
        lists = any(b.rsplit(".", 1)[-1].endswith(_LIST_VIEWS) for b in bases)
        # Only list views serialize many objects; a retrieve view's one object costs one query per field.
        if serializer and lists and query is not None and query.rows and not ctx.is_test:
            name = serializer.rsplit(".", 1)[-1]
            self.fact("serializer-use", query.node, serializer=name, bases=bases, **query.data())

    def finish(self) -> None:
        for ser in self.serializers.values():
            if ser.model and ser.touches:
                self.fact(
                    "serializer",
                    ser.node.name,
                    name=ser.node.name.value,
                    model=ser.model.rsplit(".", 1)[-1],
                    qualname=self.ctx.imports.resolve_dotted(ser.model),
                    touches=ser.touches,
                )
