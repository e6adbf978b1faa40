"""The project-wide model registry, built from every file's `model` facts.

Per-file rules see one module; a queryset in `views.py` is over a model in
`models.py`. The registry answers the questions the N+1, pagination and index
rules share: which model is `Ticket` here (by name, disambiguated by the
importing module's qualified name), what is `ticket.assignee` (a forward
foreign key, a reverse manager, a lazy SQLAlchemy relationship), which
column does loading it filter on, and does an index cover a column.

Reverse accessors are derived here, since Django declares them on the other
model: `Comment.ticket = ForeignKey(Ticket, related_name="comments")` gives
`Ticket.comments`; without `related_name`, `Ticket.comment_set`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scaleaudit.model import Fact, Location, Span
from scaleaudit.project.modules import ModuleIndex

# SQLAlchemy loader strategies under which touching the relation per item issues no query.
SA_EAGER_OR_GUARDED = frozenset({"selectin", "joined", "subquery", "immediate", "raise", "raise_on_sql", "noload"})


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # fk | o2o | m2m | reverse-fk | reverse-o2o | reverse-m2m | relationship
    target: str  # model name
    lazy: str | None = None
    many: bool = False
    # (model, column) that loading this relation filters by, when we can tell
    lookup: tuple[str, str] | None = None

    @property
    def forward(self) -> bool:
        """One object per item (a foreign key or a one-to-one)."""
        return self.kind in ("fk", "o2o", "reverse-o2o") or (self.kind == "relationship" and not self.many)


@dataclass
class ModelInfo:
    fact: Fact
    module: str
    relations: dict[str, Relation] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.fact.get("name"))

    @property
    def orm(self) -> str:
        return str(self.fact.get("orm"))

    @property
    def table(self) -> str | None:
        table = self.fact.get("table")
        return str(table) if table else None

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.fact.get("fields", ()))

    def field(self, name: str) -> dict[str, Any] | None:
        for item in self.fields:
            if item.get("name") == name or item.get("column") == name:
                return item
        return None

    def column(self, name: str) -> str | None:
        item = self.field(name)
        return str(item["column"]) if item else None

    def covered(self, column: str) -> bool:
        """An index, unique constraint or primary key starts with this column."""
        item = self.field(column)
        if item is not None and (item.get("indexed") or item.get("pk") or item.get("unique")):
            return True
        return any(group and group[0] == column for group in self.fact.get("indexes", ()))

    def field_location(self, name: str) -> Location:
        item = self.field(name)
        span = item.get("span") if item else None
        if isinstance(span, list) and len(span) == 4:
            return Location(self.fact.location.path, Span(*span))
        return self.fact.location


def _reverse_name(rel: dict[str, Any], owner: str) -> str | None:
    related = rel.get("related_name")
    if related == "+" or (isinstance(related, str) and related.endswith("+")):
        return None
    if related:
        return str(related)
    return owner.lower() if rel.get("kind") == "o2o" else f"{owner.lower()}_set"


class Registry:
    def __init__(self, facts: Iterable[Fact], modules: ModuleIndex) -> None:
        self.by_name: dict[str, list[ModelInfo]] = {}
        for fact in facts:
            if fact.kind == "model":
                info = ModelInfo(fact, modules.module_id(fact))
                self.by_name.setdefault(info.name, []).append(info)
        self._inherit()
        self._relations()

    @classmethod
    def of(cls, facts: Sequence[Fact], paths: Sequence[str]) -> Registry:
        return cls(facts, ModuleIndex(paths))

    @classmethod
    def for_context(cls, ctx: Any) -> Registry:
        """The registry of a ProjectContext, built once for all the project rules that ask.

        Keyed by the identity of the fact and path sequences, which a scan's project phase
        shares between rules; one entry, so nothing outlives the next scan.
        """
        cached = _LAST.get("registry")
        if cached is not None and cached[0] is ctx.facts and cached[1] is ctx.paths:
            return cached[2]
        registry = cls.of(ctx.facts, ctx.paths)
        _LAST["registry"] = (ctx.facts, ctx.paths, registry)
        return registry

    def all(self) -> list[ModelInfo]:
        return [m for infos in self.by_name.values() for m in infos]

    def resolve(self, name: str, qualname: str = "") -> ModelInfo | None:
        """The model a name refers to; None when unknown or ambiguous."""
        candidates = self.by_name.get(name.rsplit(".", 1)[-1], [])
        if len(candidates) == 1:
            return candidates[0]
        module = qualname.rpartition(".")[0]
        exact = [m for m in candidates if module and (m.module == module or m.module.endswith("." + module))]
        return exact[0] if len(exact) == 1 else None

    def by_table(self, table: str) -> ModelInfo | None:
        found = [m for m in self.all() if m.table == table]
        return found[0] if len(found) == 1 else None

    def _inherit(self) -> None:
        """Fields and relations of abstract bases declared in the scanned code."""
        for info in self.all():
            extra_fields: list[dict[str, Any]] = []
            extra_relations: list[dict[str, Any]] = []
            for base in info.fact.get("bases", ()):
                parent = self.resolve(str(base).rsplit(".", 1)[-1])
                if parent is not None and parent is not info and parent.fact.get("abstract"):
                    extra_fields.extend(parent.fields)
                    extra_relations.extend(parent.fact.get("relations", ()))
            if extra_fields or extra_relations:
                data = dict(info.fact.data)
                data["fields"] = [*info.fields, *extra_fields]
                data["relations"] = [*data.get("relations", ()), *extra_relations]
                info.fact = Fact(info.fact.kind, info.fact.location, data)

    def _fk_to(self, owner: ModelInfo, target: ModelInfo) -> str | None:
        """The column of `owner` that references `target`, if exactly one does."""
        columns = [
            str(f["column"])
            for f in owner.fields
            if (f.get("fk_table") and f.get("fk_table") == target.table) or f.get("fk_model") == target.name
        ]
        return columns[0] if len(columns) == 1 else None

    def _relations(self) -> None:
        for info in self.all():
            for rel in info.fact.get("relations", ()):
                self._add_relation(info, rel)

    def _add_relation(self, info: ModelInfo, rel: dict[str, Any]) -> None:
        kind, name = str(rel.get("kind")), str(rel.get("name"))
        target = self.resolve(str(rel.get("target") or ""))
        target_name = target.name if target else str(rel.get("target") or "")
        if kind == "relationship":
            lookup = None
            if target is not None and (column := self._fk_to(target, info)) and not rel.get("secondary"):
                lookup = (target.name, column)
            many = bool(rel.get("many")) or lookup is not None
            info.relations[name] = Relation(name, kind, target_name, rel.get("lazy"), many, lookup)
            backref = rel.get("related_name")
            if target is not None and backref and backref not in target.relations:
                back = self._fk_to(info, target)
                target.relations[str(backref)] = Relation(
                    str(backref), kind, info.name, None, back is not None, (info.name, back) if back else None
                )
            return
        info.relations[name] = Relation(name, kind, target_name, many=kind == "m2m")
        reverse = _reverse_name(rel, info.name)
        if target is None or reverse is None:
            return
        column = rel.get("column")
        lookup = (info.name, str(column)) if column else None
        reverse_kind = {"fk": "reverse-fk", "o2o": "reverse-o2o", "m2m": "reverse-m2m"}[kind]
        target.relations.setdefault(reverse, Relation(reverse, reverse_kind, info.name, None, kind != "o2o", lookup))


_LAST: dict[str, tuple[Sequence[Fact], Sequence[str], Registry]] = {}


def span_location(path: str, span: Any, note: str = "") -> Location | None:
    if isinstance(span, list) and len(span) == 4:
        return Location(path, Span(*(int(v) for v in span)), note)
    return None
