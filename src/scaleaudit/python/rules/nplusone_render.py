"""SA203 n-plus-one-in-template, the Python half: which queryset each template receives.

`render(request, "helpdesk/ticket_list.html", {"tickets": qs})`,
`TemplateResponse(...)`, `render_to_string(...)`, Flask/Jinja
`render_template("t.html", tickets=qs)`, and class-based list views
(`template_name` + `queryset`/`get_queryset()`/`model`, context names
`object_list`, `<model>_list` and `context_object_name`) become
`template-context` facts, located at the query. The template front end
reports what each loop touches; `scaleaudit.project.nplusone_templates` joins
the two through the template's name.
"""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.orm import Query
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.nplusone_tracker import Tracker

_RENDER = frozenset({"render", "render_to_response", "TemplateResponse", "render_to_string", "render_template"})
_MODELS = (
    "from django.db import models\nclass User(models.Model):\n    name = models.CharField(max_length=9)\n"
    "class Ticket(models.Model):\n    owner = models.ForeignKey(User, on_delete=models.CASCADE)\n"
    "class Note(models.Model):\n    ticket = models.ForeignKey(Ticket, related_name='notes', on_delete=1)\n"
)
_VIEW = "from django.shortcuts import render\nfrom app.models import Ticket\n"
_TPL = "<ul>{% for t in tickets %}\n<li>{{ t.owner.name }}</li>\n{% endfor %}</ul>\n"


def _case(view: str, template: str = _TPL, **kw: Any) -> Case:
    files = {"app/models.py": _MODELS, "app/views.py": _VIEW + view, "app/templates/app/list.html": template}
    return Case(files, **kw)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


class TemplateContextFacts(PythonRule):
    id = "SA203"
    TRIGGERS = (b"render", b"template_name", b"TemplateResponse")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        _case(
            "def v(request):\n    qs = Ticket.objects.select_related('owner')[:20]\n"
            "    return render(request, 'app/list.html', {'tickets': qs})\n"
        ),
        _case(
            "def v(request):\n    return render(request, 'app/list.html', {'tickets': Ticket.objects.all()})\n",
            template="{% for t in tickets %}{{ t.owner_id }}{% endfor %}",
        ),
        _case(
            "def v(request):\n    return render(request, 'app/list.html', {'tickets': Ticket.objects.all()})\n",
            template="{% for t in tickets %}{{ t.notes.count }}{% endfor %}".replace("tickets", "others"),
        ),
        _case(
            "def v(request):\n    qs = Ticket.objects.prefetch_related('notes')\n"
            "    return render(request, 'app/list.html', {'tickets': qs})\n",
            template="{% for t in tickets %}{{ t.notes.all|length }}{% endfor %}",
        ),
        _case(
            "def v(request):\n    return render(request, 'app/other.html', {'tickets': Ticket.objects.all()})\n",
            note="another template",
        ),
        _case(
            "def v(request):\n    return render(request, 'app/list.html', {'tickets': Ticket.objects.values('id')})\n"
        ),
        _case(
            "from django.views.generic import ListView\nclass L(ListView):\n"
            "    queryset = Ticket.objects.select_related('owner')\n    template_name = 'app/list.html'\n"
            "    context_object_name = 'tickets'\n"
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        _case(
            "def v(request):\n    return render(request, 'app/list.html', {'tickets': Ticket.objects.all()[:20]})\n",
            expect=1,
        ),
        _case(
            "def v(request):\n    qs = Ticket.objects.filter(x=1)\n"
            "    return render(request, 'app/list.html', {'tickets': qs})\n",
            expect=1,
        ),
        _case(
            "def v(request):\n    return render(request, 'app/list.html', {'tickets': Ticket.objects.all()[:9]})\n",
            template="{% for t in tickets %}{{ t.notes.count }}{% endfor %}",
            expect=1,
        ),
        _case(
            "def v(request):\n    qs = Ticket.objects.prefetch_related('notes')[:9]\n"
            "    return render(request, 'app/list.html', {'tickets': qs})\n",
            template="{% for t in tickets %}{% for n in t.notes.filter %}{% endfor %}{% endfor %}",
            expect=1,
        ),
        _case(
            "from django.views.generic import ListView\nclass L(ListView):\n    model = Ticket\n"
            "    paginate_by = 20\n    template_name = 'app/list.html'\n    context_object_name = 'tickets'\n",
            expect=1,
        ),
        _case(
            "from flask import render_template\ndef v():\n"
            "    return render_template('app/list.html', tickets=Ticket.objects.all()[:5])\n",
            expect=1,
        ),
    )

    def setup(self) -> None:
        self.tracker = Tracker()
        self.class_names: dict[int, dict[str, str]] = {}

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        self.tracker.assign(node, ctx)
        cls = ctx.cls
        target = node.targets[0].target if len(node.targets) == 1 else None
        if cls is not None and ctx.function is None and isinstance(target, cst.Name):
            value = _string(node.value)
            if value is not None and target.value in ("template_name", "context_object_name"):
                self.class_names.setdefault(id(cls.node), {})[target.value] = value

    def visit_Return(self, node: cst.Return, ctx: PyContext) -> None:
        self.tracker.returned(node, ctx)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        name = (dotted(node.func) or "").rsplit(".", 1)[-1]
        if name not in _RENDER or ctx.is_test or ctx.function is None:
            return
        positional = [a.value for a in node.args if a.keyword is None]
        template_at = 0 if name in ("render_template", "render_to_string") else 1
        template = _string(positional[template_at]) if len(positional) > template_at else None
        if template is None:
            return
        context = positional[template_at + 1] if len(positional) > template_at + 1 else None
        pairs: list[tuple[str, cst.BaseExpression]] = []
        if isinstance(context, cst.Dict):
            pairs = [
                (k, e.value)
                for e in context.elements
                if isinstance(e, cst.DictElement) and (k := _string(e.key)) is not None
            ]
        pairs += [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
        for var, value in pairs:
            found = self.tracker.query(value, ctx)
            if found is not None and found[0].rows and not found[0].single:
                self._emit(found[0], template, var, found[1])

    def _emit(self, query: Query, template: str, var: str, source: str) -> None:
        self.fact("template-context", query.node, template=template, var=var, source=source, **query.data())

    def leave_ClassDef(self, node: cst.ClassDef, ctx: PyContext) -> None:
        names = self.class_names.get(id(node), {})
        query = self.tracker.classes.by_class.get(id(node))
        if query is None or "template_name" not in names or not query.rows:
            return
        variables = ["object_list", f"{query.model.lower()}_list"]
        if "context_object_name" in names:
            variables.append(names["context_object_name"])
        for var in variables:
            self._emit(query, names["template_name"], var, "view")
