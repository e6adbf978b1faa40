"""What the index fixers (SA401, SA402) share: which model and column a finding is
about, and the proposal that bundles every index of a run with its migration.

The SQLAlchemy fixer (`sqlalchemy_index`) and the Django one (`django_index`)
each take the findings whose model their ORM declares. A finding is located
through the model registry by its anchor (`table.column`), not by its line
alone: a field inherited from an abstract base is reported at the base's
line, but the index belongs to the concrete model's table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from scaleaudit.fixes.base import FindingKey, FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.pysource import PyFile
from scaleaudit.fixes.writer import TextEdit
from scaleaudit.model import Finding
from scaleaudit.project.models import ModelInfo

RULES = ("SA401", "SA402")
# Column types with no length limit: a B-tree entry must fit a third of a page (2704 bytes),
# so indexing one turns a long value into a failed INSERT — writes the fix must not break.
UNBOUNDED_TYPES = frozenset({"Text", "TextField", "UnicodeText", "LargeBinary", "BinaryField"})
# Directories a project's own migrations never live in.
_PRUNE = frozenset({"node_modules", "site-packages", "__pycache__", "venv", "env", "build", "dist"})


@dataclass(frozen=True)
class IndexTarget:
    """One column to index: the finding, the model that owns the table, the field."""

    finding: Finding
    model: ModelInfo
    field: str  # attribute name as written in the model
    column: str  # database column

    @property
    def table(self) -> str:
        return self.model.table or ""

    @property
    def rel(self) -> str:
        """The file that declares the model class."""
        return self.model.fact.location.path

    @property
    def skip_key(self) -> tuple[str, str, int]:
        return (self.finding.rule, self.finding.path, self.finding.line)

    def skip(self, reason: str) -> Skipped:
        return Skipped(self.finding.rule, self.finding.path, self.finding.line, reason)


def targets(ctx: FixContext, orm: str) -> Iterator[IndexTarget | Skipped]:
    """The SA401/SA402 findings on models of `orm`; a finding whose model is not known
    is reported (Skipped) by the SQLAlchemy fixer only, so it is reported once."""
    models = ctx.registry()
    for finding in ctx.findings(*RULES):
        table, _, column = finding.anchor.rpartition(".")
        model = models.by_table(table) if table else None
        if model is None or model.orm not in ("django", "sqlalchemy"):
            if orm == "sqlalchemy":
                reason = f"cannot tell which model declares `{finding.anchor}`: add the index by hand"
                yield Skipped(finding.rule, finding.path, finding.line, reason)
            continue
        if model.orm != orm:
            continue
        field = next((f for f in model.fields if f.get("column") == column), None)
        if field is None:
            yield Skipped(finding.rule, finding.path, finding.line, f"`{column}` is not a field of {model.name}")
            continue
        kind = str(field.get("type") or "").rsplit(".", 1)[-1]
        if kind in UNBOUNDED_TYPES:
            reason = _unbounded_reason(model, str(field["name"]), column, kind)
            yield Skipped(finding.rule, finding.path, finding.line, reason)
            continue
        yield IndexTarget(finding, model, str(field["name"]), column)


def _unbounded_reason(model: ModelInfo, field: str, column: str, kind: str) -> str:
    if model.orm == "django":
        bounded = "CharField(max_length=...)"
        hashed = f'`HashIndex(fields=["{field}"], name=...)` (django.contrib.postgres.indexes) to Meta.indexes'
    else:
        bounded = "String(n)"
        hashed = f'`Index("ix_{model.table}_{column}_hash", "{column}", postgresql_using="hash")` to __table_args__'
    return (
        f"`{model.name}.{field}` is unbounded ({kind}): a B-tree index entry holds at most about 2.7 kB, so "
        f"once indexed a longer value fails to insert; bound the column ({bounded}) and index it, or for "
        f"equality lookups add {hashed}"
    )


def class_of(file: PyFile, model: ModelInfo) -> cst.ClassDef | None:
    """The model's class statement, at the line its `model` fact points at."""
    line = model.fact.location.span.line
    for node, rng in file.positions.items():
        if isinstance(node, cst.ClassDef) and node.name.value == model.name and rng.start.line <= line:
            name_at = file.positions.get(node.name)
            if name_at is not None and name_at.start.line == line:
                return node
    return None


def bundle(
    rule_targets: Sequence[IndexTarget],
    description: str,
    edits: dict[str, list[TextEdit]],
) -> Proposal:
    """One proposal for several indexes (and their migration): they stand or fall together,
    since the migration creates all of them."""
    first = rule_targets[0].finding
    resolves: tuple[FindingKey, ...] = tuple(key_of(t.finding) for t in rule_targets)
    return Proposal(
        first.rule, first.path, first.line, description, {rel: tuple(e) for rel, e in edits.items()}, resolves
    )


def walk_dirs(root: Path) -> Iterator[Path]:
    """Every directory under `root`, skipping hidden, vendored and virtualenv ones."""
    for current, dirs, _ in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _PRUNE)
        yield Path(current)


def created_file(rel: str, text: str, rule: str, description: str, group: str) -> dict[str, list[TextEdit]]:
    """The edit that creates `rel` (a SourceText that does not exist yet) with `text`."""
    return {rel: [TextEdit(0, 0, text, rule, description, group)]}
