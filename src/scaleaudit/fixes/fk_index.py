"""SA401: declare `index=True` on an unindexed SQLAlchemy foreign-key column.

`user_id = mapped_column(ForeignKey("users.id"))` becomes
`user_id = mapped_column(ForeignKey("users.id"), index=True)` (likewise for
`Column(...)`): PostgreSQL never indexes a foreign key by itself, so every
`user.orders` load and every delete of a user scans the child table. The
code change is safe — it changes no query result — but the index exists
only once a migration creates it, so the fix prints the statement to run,
`CREATE INDEX CONCURRENTLY` (no write lock on a live table), under the name
SQLAlchemy's default convention gives that index (`ix_<table>_<column>`), so
Alembic's autogenerate sees it as already there. Django models are left to
a human (a `Meta.indexes` entry and a migration): the finding says how.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.pysource import PyFile, load, replace_node, with_keywords
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Finding

PRIORITY = 60  # see scaleaudit.fixes.api
COLUMN_CALLS = frozenset(
    {"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.orm.mapped_column", "sqlalchemy.sql.schema.Column"}
)


def create_index_sql(table: str, column: str) -> str:
    return f"CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_{table}_{column} ON {table} ({column});"


def fix_fk_index(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    for finding in ctx.findings("SA401"):
        yield _proposal(ctx, finding)


def _column_call(file: PyFile, finding: Finding) -> cst.Call | None:
    """The Column/mapped_column call of the field statement the finding points at."""
    span = finding.location.span
    for node, rng in file.positions.items():
        if not isinstance(node, (cst.Assign, cst.AnnAssign)) or rng.start.line != span.line:
            continue
        value = node.value
        if isinstance(value, cst.Call) and file.imports.resolve(value.func) in COLUMN_CALLS:
            return value
    return None


def _proposal(ctx: FixContext, finding: Finding) -> Proposal | Skipped:
    rel, line = finding.path, finding.line
    table, _, column = finding.anchor.partition(".")
    file = load(ctx, rel)
    if isinstance(file, str):
        return Skipped("SA401", rel, line, file)
    call = _column_call(file, finding)
    if call is None:
        return Skipped(
            "SA401", rel, line, "not a SQLAlchemy Column/mapped_column: add the index by hand (Django: Meta.indexes)"
        )
    if any(a.keyword is not None and a.keyword.value == "index" for a in call.args):
        return Skipped("SA401", rel, line, "`index=` is already set on this column")
    if any(a.star for a in call.args) or not table or not column:
        return Skipped("SA401", rel, line, "the column's arguments are not all visible")
    new_code = replace_node(file.module, call, with_keywords(call, [("index", "True")])).code
    description = f"declare index=True on {table}.{column}; then run in a migration: {create_index_sql(table, column)}"
    edits = line_edits(file.source, new_code, rule="SA401", description=description, group=f"SA401:{rel}:{line}")
    return Proposal("SA401", rel, line, description, {rel: tuple(edits)}, (key_of(finding),))


FIXER = fix_fk_index
