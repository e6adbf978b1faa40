"""Model class declarations read from syntax: Django and SQLAlchemy, fields, relations, indexes.

The result is the `model` fact (see docs/architecture.md): one per model
class, with the columns the database will have, which of them an index
covers, and the relations the ORM loads lazily. The project phase merges
them into a registry (`scaleaudit.project.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from scaleaudit.python.imports import ImportTable, dotted
from scaleaudit.python.orm import keyword

DJANGO_RELATIONS = {"ForeignKey": "fk", "OneToOneField": "o2o", "ManyToManyField": "m2m"}
# Django fields that get an index without being asked (SlugField: db_index=True by default).
DJANGO_INDEXED_BY_DEFAULT = frozenset({"SlugField"})


def _true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def _strings(node: cst.BaseExpression | None) -> list[str]:
    if isinstance(node, (cst.List, cst.Tuple)):
        return [s for e in node.elements if (s := _string(e.value)) is not None]
    single = _string(node)
    return [single] if single is not None else []


def _groups(node: cst.BaseExpression | None) -> list[list[str]]:
    """unique_together = ("a", "b") or [("a", "b"), ("c", "d")]."""
    if not isinstance(node, (cst.List, cst.Tuple)):
        return []
    if node.elements and all(isinstance(e.value, (cst.List, cst.Tuple)) for e in node.elements):
        return [_strings(e.value) for e in node.elements]
    return [_strings(node)]


@dataclass
class ModelDraft:
    orm: str
    name: str
    node: cst.ClassDef
    bases: list[str]
    table: str | None = None
    abstract: bool = False
    fields: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    index_fields: list[list[str]] = field(default_factory=list)  # attribute names, mapped at the end

    def columns(self) -> dict[str, str]:
        return {f["name"]: f["column"] for f in self.fields}

    def data(self) -> dict[str, Any]:
        names = self.columns()
        indexes = [[names.get(n, n) for n in group] for group in self.index_fields if group]
        return {
            "orm": self.orm,
            "name": self.name,
            "table": self.table,
            "fields": self.fields,
            "indexes": indexes,
            "relations": self.relations,
            "bases": self.bases,
            "abstract": self.abstract,
        }


def _assignments(body: cst.BaseSuite) -> list[tuple[str, cst.BaseExpression, cst.CSTNode]]:
    out: list[tuple[str, cst.BaseExpression, cst.CSTNode]] = []
    if not isinstance(body, cst.IndentedBlock):
        return out
    for stmt in body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    out.append((target.value, small.value, small))
            elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                out.append((small.target.value, small.value, small))
    return out


def _inner_class(body: cst.BaseSuite, name: str) -> cst.ClassDef | None:
    if isinstance(body, cst.IndentedBlock):
        for stmt in body.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
                return stmt
    return None


# --- Django ----------------------------------------------------------------
def _is_django_call(call: cst.BaseExpression, imports: ImportTable) -> str | None:
    """`models.CharField(...)` -> "CharField" when it resolves into django.db.models."""
    if not isinstance(call, cst.Call):
        return None
    resolved = imports.resolve(call.func) or ""
    if resolved.startswith("django.db.models.") or resolved.startswith("django.contrib.postgres.fields."):
        return resolved.rsplit(".", 1)[-1]
    return None


def _relation_target(call: cst.Call, model: str) -> str:
    target = call.args[0].value if call.args and call.args[0].keyword is None else keyword(call, "to")
    text = _string(target) if target is not None else None
    if text is None and target is not None:
        text = dotted(target) or ""
    text = text or ""
    if text == "self":
        return model
    return text.rsplit(".", 1)[-1]


def _django_field(draft: ModelDraft, name: str, call: cst.Call, kind: str, node: cst.CSTNode) -> None:
    relation = DJANGO_RELATIONS.get(kind)
    if relation == "m2m":
        draft.relations.append(
            {
                "name": name,
                "kind": "m2m",
                "target": _relation_target(call, draft.name),
                "related_name": _string(keyword(call, "related_name")),
                "column": None,
                "lazy": None,
            }
        )
        return
    column = _string(keyword(call, "db_column")) or (f"{name}_id" if relation else name)
    pk = _true(keyword(call, "primary_key"))
    unique = _true(keyword(call, "unique")) or relation == "o2o" or pk
    db_index = keyword(call, "db_index")
    indexed = pk or unique or _true(db_index)
    if (relation or kind in DJANGO_INDEXED_BY_DEFAULT) and not _false(db_index):
        indexed = True  # Django creates the index for ForeignKey/OneToOneField/SlugField
    target = _relation_target(call, draft.name) if relation else None
    draft.fields.append(
        {
            "name": name,
            "column": column,
            "fk_table": None,
            "indexed": indexed,
            "unique": unique,
            "pk": pk,
            "type": kind,
            "fk_model": target,
            "span": node,
        }
    )
    if relation:
        draft.relations.append(
            {
                "name": name,
                "kind": relation,
                "target": target,
                "related_name": _string(keyword(call, "related_name")),
                "column": column,
                "lazy": None,
            }
        )


def _django_meta(draft: ModelDraft, meta: cst.ClassDef, app_label: str) -> None:
    for name, value, _ in _assignments(meta.body):
        if name == "db_table":
            draft.table = _string(value) or draft.table
        elif name == "app_label":  # a model declared outside its app's package
            app_label = _string(value) or app_label
        elif name == "abstract" and _true(value):
            draft.abstract = True
        elif name in ("unique_together", "index_together"):
            draft.index_fields.extend(_groups(value))
        elif name in ("indexes", "constraints") and isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                item = element.value
                if isinstance(item, cst.Call) and (dotted(item.func) or "").endswith(("Index", "UniqueConstraint")):
                    fields = [f.lstrip("-") for f in _strings(keyword(item, "fields"))]
                    # A partial index (condition=...) counts too: it is written for the queries
                    # that match its condition, and we cannot tell those apart from syntax.
                    if fields:
                        draft.index_fields.append(fields)
    if draft.table is None and not draft.abstract:
        draft.table = f"{app_label}_{draft.name.lower()}"


def django_model(node: cst.ClassDef, imports: ImportTable, app_label: str, bases: list[str]) -> ModelDraft | None:
    draft = ModelDraft("django", node.name.value, node, bases)
    for name, value, stmt in _assignments(node.body):
        kind = _is_django_call(value, imports)
        if kind and (kind.endswith("Field") or kind in DJANGO_RELATIONS) and isinstance(value, cst.Call):
            _django_field(draft, name, value, kind, stmt)
    is_model = any(b in ("django.db.models.Model", "django.db.models.base.Model") for b in bases)
    if not is_model and not draft.fields and not draft.relations:
        return None
    meta = _inner_class(node.body, "Meta")
    if meta is not None:
        _django_meta(draft, meta, app_label)
    elif not draft.abstract:
        draft.table = f"{app_label}_{draft.name.lower()}"
    if not any(f["pk"] for f in draft.fields) and not draft.abstract:
        draft.fields.insert(
            0,
            {
                "name": "id",
                "column": "id",
                "fk_table": None,
                "indexed": True,
                "unique": True,
                "pk": True,
                "type": "AutoField",
                "fk_model": None,
                "span": node.name,
            },
        )
    return draft


# --- SQLAlchemy --------------------------------------------------------------
_SA_COLUMNS = ("Column", "mapped_column")


def _callee(call: cst.BaseExpression) -> str:
    return (dotted(call.func) or "").rsplit(".", 1)[-1] if isinstance(call, cst.Call) else ""


def _sa_foreign_key(call: cst.Call) -> tuple[str | None, str | None]:
    """(fk_table, fk_model) of the ForeignKey among a column's arguments."""
    for arg in call.args:
        if isinstance(arg.value, cst.Call) and _callee(arg.value) == "ForeignKey" and arg.value.args:
            target = arg.value.args[0].value
            text = _string(target)
            if text is not None:
                return text.rsplit(".", 1)[0] if "." in text else text, None
            name = dotted(target) or ""
            if "." in name:
                return None, name.rsplit(".", 2)[-2]
    return None, None


def _sa_column(draft: ModelDraft, name: str, call: cst.Call, node: cst.CSTNode) -> None:
    column = _string(call.args[0].value) if call.args and call.args[0].keyword is None else None
    fk_table, fk_model = _sa_foreign_key(call)
    pk = _true(keyword(call, "primary_key"))
    unique = _true(keyword(call, "unique")) or pk
    indexed = pk or unique or _true(keyword(call, "index"))
    types = [_callee(a.value) or (dotted(a.value) or "") for a in call.args if a.keyword is None]
    draft.fields.append(
        {
            "name": name,
            "column": column or name,
            "fk_table": fk_table,
            "indexed": indexed,
            "unique": unique,
            "pk": pk,
            "type": next((t for t in types if t and t != "ForeignKey"), ""),
            "fk_model": fk_model,
            "span": node,
        }
    )


def _sa_relationship(draft: ModelDraft, name: str, call: cst.Call, annotation: str) -> None:
    target = _string(call.args[0].value) if call.args and call.args[0].keyword is None else None
    if target is None and call.args and call.args[0].keyword is None:
        target = dotted(call.args[0].value)
    if target is None:
        # relationship() typed by Mapped["Order"] / Mapped[list["Order"]]
        target = annotation.split("[")[-1].strip("]\"' ")
    lazy = _string(keyword(call, "lazy"))
    uselist = keyword(call, "uselist")
    many = "list[" in annotation.lower() or "List[" in annotation or _true(uselist)
    draft.relations.append(
        {
            "name": name,
            "kind": "relationship",
            "target": (target or "").rsplit(".", 1)[-1],
            "related_name": _string(keyword(call, "back_populates")) or _string(keyword(call, "backref")),
            "column": None,
            "lazy": lazy,
            "many": many,
            "secondary": keyword(call, "secondary") is not None,
        }
    )


def _annotation_text(stmt: cst.CSTNode) -> str:
    if isinstance(stmt, cst.AnnAssign):
        return cst.Module([]).code_for_node(stmt.annotation.annotation)
    return ""


def _sa_table_args(draft: ModelDraft, value: cst.BaseExpression) -> None:
    if not isinstance(value, (cst.Tuple, cst.List)):
        return
    for element in value.elements:
        item = element.value
        if isinstance(item, cst.Call) and _callee(item) in ("Index", "UniqueConstraint", "PrimaryKeyConstraint"):
            draft.index_fields.append(index_columns(item, skip_name=_callee(item) == "Index"))


def index_columns(call: cst.Call, skip_name: bool) -> list[str]:
    """Columns of Index("ix", "a", Model.b) / UniqueConstraint("a", "b")."""
    args = [a for a in call.args if a.keyword is None]
    if skip_name and args and _string(args[0].value) is not None:
        args = args[1:]
    out: list[str] = []
    for arg in args:
        value = arg.value
        text = _string(value)
        if text is not None:
            out.append(text)
        elif isinstance(value, cst.Attribute):
            out.append(value.attr.value)
        else:
            break  # an expression index: only the columns before it are a usable prefix
    return out


def sqlalchemy_model(node: cst.ClassDef, bases: list[str]) -> ModelDraft | None:
    draft = ModelDraft("sqlalchemy", node.name.value, node, bases)
    tablename = None
    for name, value, stmt in _assignments(node.body):
        callee = _callee(value)
        if name == "__tablename__":
            tablename = _string(value)
        elif name == "__table_args__":
            _sa_table_args(draft, value)
        elif callee in _SA_COLUMNS and isinstance(value, cst.Call):
            _sa_column(draft, name, value, stmt)
        elif callee == "relationship" and isinstance(value, cst.Call):
            _sa_relationship(draft, name, value, _annotation_text(stmt))
    if tablename is None:
        return None
    draft.table = tablename
    return draft
