"""SA401/SA402 on SQLAlchemy models: declare `index=True` on the column, then migrate.

`user_id = mapped_column(ForeignKey("users.id"))` becomes
`user_id = mapped_column(ForeignKey("users.id"), index=True)` (likewise for
`Column(...)` and Flask-SQLAlchemy's `db.Column(...)`): for SA401, the
foreign key PostgreSQL never indexes by itself; for SA402 (with
--unsafe-fixes: a new index costs every write and disk), the column the code
filters or orders by. The code change alters no query result, but the index
exists only once a migration creates it. By default the fix prints the
statement to run, `CREATE INDEX CONCURRENTLY` (no write lock on a live
table), under the name SQLAlchemy's default convention gives that index
(`ix_<table>_<column>`), so Alembic's autogenerate sees it as already there.

With `fix.migrations` (`--migrations`) it writes one Alembic revision for all
the indexes of the run instead: found as the `versions/` folder next to an
Alembic `env.py`, chained to the current head (`down_revision`), creating
each index with `postgresql_concurrently=True` inside an
`autocommit_block()` (CREATE INDEX CONCURRENTLY cannot run in a transaction),
and dropping them in `downgrade()`. It refuses — and leaves the models alone,
so the findings stay visible — when there is no such folder, several of
them, or the history has several heads. A second run writes nothing: the
columns now declare their index, so the findings are gone.

A model whose table may be in a schema (`__table_args__` with `schema`, one
that cannot be read, or a module `MetaData(schema=...)`) is skipped: the model
registry does not know the schema, and SQLAlchemy's index name includes it.

Django models are `scaleaudit.fixes.django_index`'s.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.indexes import IndexTarget, bundle, class_of, created_file, targets, walk_dirs
from scaleaudit.fixes.pysource import PyFile, load, replace_node, with_keywords
from scaleaudit.fixes.writer import TextEdit, line_edits

PRIORITY = 60  # see scaleaudit.fixes.api
COLUMN_CALLS = frozenset(
    {"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.orm.mapped_column", "sqlalchemy.sql.schema.Column"}
)
# PostgreSQL truncates identifiers to 63 bytes; SQLAlchemy shortens longer generated names itself.
_PG_MAX_IDENTIFIER = 63


def index_name(table: str, column: str) -> str:
    """The name SQLAlchemy's default convention (`ix_%(column_0_label)s`) gives the index,
    shortened the way SQLAlchemy shortens a generated name PostgreSQL would truncate."""
    name = f"ix_{table}_{column}"
    if len(name) > _PG_MAX_IDENTIFIER:
        name = name[: _PG_MAX_IDENTIFIER - 8] + "_" + hashlib.md5(name.encode()).hexdigest()[-4:]
    return name


# PostgreSQL's reserved key words (also those allowed only as function or type names) and the
# few more SQLAlchemy's PostgreSQL dialect quotes: as an identifier each is quoted, as in the
# DDL SQLAlchemy emits.
# fmt: off
_RESERVED = frozenset({
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
    "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
    "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
    "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
    "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
    "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
    "with", "between", "new", "of", "off", "old", "over",
})
# fmt: on
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def quoted(name: str) -> str:
    """`name` as SQL, quoted when PostgreSQL would otherwise fold its case or read a key word."""
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def create_index_sql(table: str, column: str) -> str:
    name, on = quoted(index_name(table, column)), quoted(table)
    return f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {on} ({quoted(column)});"


@dataclass(frozen=True)
class ColumnEdit:
    target: IndexTarget
    edits: tuple[TextEdit, ...]

    @property
    def sql(self) -> str:
        return create_index_sql(self.target.table, self.target.column)


def fix_column_index(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    done: list[ColumnEdit] = []
    for item in targets(ctx, "sqlalchemy"):
        result = item if isinstance(item, Skipped) else _column_edit(ctx, item)
        if isinstance(result, Skipped):
            yield result
        else:
            done.append(result)
    if not done:
        return
    if ctx.settings.fix.migrations:
        yield from _with_revision(ctx, done)
        return
    for edit in done:
        finding = edit.target.finding
        t = edit.target
        description = f"declare index=True on {t.table}.{t.column}; then run in a migration: {edit.sql}"
        edits = {t.rel: tuple(e for e in edit.edits)}
        yield Proposal(finding.rule, finding.path, finding.line, description, edits, (key_of(finding),))


def _column_call(file: PyFile, target: IndexTarget) -> cst.Call | None:
    """The Column/mapped_column call that declares the target's field in its model's class."""
    cls = class_of(file, target.model)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return None
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            name = small.targets[0].target
        elif isinstance(small, cst.AnnAssign):
            name = small.target
        else:
            continue
        if isinstance(name, cst.Name) and name.value == target.field and isinstance(small.value, cst.Call):
            return small.value if _is_column(file, small.value) else None
    return None


def _is_column(file: PyFile, call: cst.Call) -> bool:
    resolved = file.imports.resolve(call.func) or ""
    # Flask-SQLAlchemy's `db.Column` is SQLAlchemy's Column, reached through the extension object.
    return resolved in COLUMN_CALLS or resolved.endswith((".Column", ".mapped_column"))


def _column_edit(ctx: FixContext, target: IndexTarget) -> ColumnEdit | Skipped:
    file = load(ctx, target.rel)
    if isinstance(file, str):
        return target.skip(file)
    cls = class_of(file, target.model)
    schema = _schema(file, cls) if cls is not None else ""
    if schema:
        return target.skip(
            f"{schema}: the index name and SQL here would name the table without it; add `index=True` to "
            f"`{target.model.name}.{target.field}` and write its migration by hand"
        )
    call = _column_call(file, target)
    if call is None:
        where = f"{target.model.name}.{target.field}"
        return target.skip(f"`{where}` is not a Column/mapped_column call in its class: add the index by hand")
    if any(a.keyword is not None and a.keyword.value == "index" for a in call.args):
        return target.skip("`index=` is already set on this column")
    if any(a.star for a in call.args):
        return target.skip("the column's arguments are not all visible")
    new_code = replace_node(file.module, call, with_keywords(call, [("index", "True")])).code
    description = f"index=True on {target.table}.{target.column}"
    group = f"SA40x:{target.rel}:{target.table}.{target.column}"
    rule = target.finding.rule
    return ColumnEdit(target, tuple(line_edits(file.source, new_code, rule=rule, description=description, group=group)))


def _schema(file: PyFile, cls: cst.ClassDef) -> str:
    """Why the model's table may be in a schema ("" when it is not): SQLAlchemy then names the
    index `ix_<schema>_<table>_<column>`, and `ON <table>` would reach another table or none."""
    if any(
        isinstance(node, cst.Call)
        and (file.imports.resolve(node.func) or "").endswith("MetaData")
        and any(a.keyword is not None and a.keyword.value == "schema" for a in node.args)
        for node in file.positions
    ):
        return "this module's MetaData sets a schema"
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__table_args__":
            return "`__table_args__` is computed (declared_attr) and may set a schema"
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
        if not (isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None):
            continue
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        if not any(isinstance(t, cst.Name) and t.value == "__table_args__" for t in targets):
            continue
        value = small.value
        options = value.elements[-1].value if isinstance(value, cst.Tuple) and value.elements else value
        if isinstance(value, cst.Tuple) and not isinstance(options, cst.Dict):
            return ""  # constraints and indexes only
        if not isinstance(options, cst.Dict) or any(not isinstance(e, cst.DictElement) for e in options.elements):
            return "`__table_args__` is not a literal this fix can read and may set a schema"
        if any(isinstance(e, cst.DictElement) and _is_string(e.key, "schema") for e in options.elements):
            return f"`{cls.name.value}` is in a schema (`__table_args__`)"
    return ""


def _is_string(node: cst.BaseExpression, text: str) -> bool:
    return isinstance(node, cst.SimpleString) and node.evaluated_value == text


# --- Alembic ------------------------------------------------------------------------


@dataclass(frozen=True)
class Revisions:
    versions: str  # the versions/ folder, relative to the root
    head: str | None  # None: an empty history


def alembic_versions(root: Path) -> Revisions | str:
    """The one Alembic history under `root` and its head, or why there is none to extend."""
    found = [
        d / "versions"
        for d in walk_dirs(root)
        if (d / "versions").is_dir() and (d / "env.py").is_file() and "alembic" in _read(d / "env.py")
    ]
    if not found:
        return "no Alembic versions/ folder (next to an env.py) under the project"
    if len(found) > 1:
        where = ", ".join(str(f.relative_to(root)) for f in found)
        return f"several Alembic histories ({where}): write the migration by hand"
    versions = found[0]
    revisions: dict[str, tuple[str, ...]] = {}
    # Alembic reads subfolders of versions/ only when alembic.ini says so; then so must we,
    # or a head hidden in a subfolder makes the new revision a second head.
    pattern = "**/*.py" if _recursive_versions(root, versions) else "*.py"
    for path in sorted(versions.glob(pattern)):
        parsed = _revision_of(path)
        if isinstance(parsed, str):
            return f"{path.relative_to(root)}: {parsed}"
        if parsed is not None:
            revisions[parsed[0]] = parsed[1]
    heads = sorted(set(revisions) - {down for downs in revisions.values() for down in downs})
    if len(heads) > 1:
        return f"the Alembic history has several heads ({', '.join(heads)}): run `alembic merge heads` first"
    if revisions and not heads:
        return "the Alembic history has no head (a cycle in down_revision)"
    return Revisions(versions.relative_to(root).as_posix(), heads[0] if heads else None)


def _recursive_versions(root: Path, versions: Path) -> bool:
    """`recursive_version_locations = true` in the alembic.ini beside the history or at the root."""
    for ini in (versions.parent / "alembic.ini", versions.parent.parent / "alembic.ini", root / "alembic.ini"):
        if ini.is_file() and re.search(r"(?im)^\s*recursive_version_locations\s*=\s*(true|1|yes|on)\s*$", _read(ini)):
            return True
    return False


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | str | None:
    """(revision, down revisions) of a revision file; None for a file that is not one."""
    try:
        tree = ast.parse(_read(path))
    except SyntaxError as exc:
        return f"does not parse ({exc.msg})"
    values: dict[str, object] = {}
    for stmt in tree.body:
        value: ast.expr | None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                return f"`{target.id}` is not a literal"
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, (down,)
    return revision, tuple(d for d in down if isinstance(d, str)) if isinstance(down, (tuple, list)) else ()


def revision_text(revision: str, down: str | None, indexes: Sequence[tuple[str, str, str]]) -> str:
    """An Alembic revision creating (table, column, name) indexes concurrently."""
    create = "\n".join(
        f'        op.create_index(op.f("{name}"), "{table}", ["{column}"], unique=False, postgresql_concurrently=True)'
        for table, column, name in indexes
    )
    drop = "\n".join(
        f'        op.drop_index(op.f("{name}"), table_name="{table}", postgresql_concurrently=True)'
        for table, _, name in reversed(indexes)
    )
    down_code = f'"{down}"' if down else "None"
    return (
        f'"""scaleaudit: indexes for foreign keys and filtered columns (SA401/SA402)\n\n'
        f"Revision ID: {revision}\nRevises: {down or ''}\n"
        f'"""\n\nfrom alembic import op\n\n'
        f'revision = "{revision}"\ndown_revision = {down_code}\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade() -> None:\n"
        "    # CREATE INDEX CONCURRENTLY cannot run inside a transaction block\n"
        f"    with op.get_context().autocommit_block():\n{create}\n\n\n"
        "def downgrade() -> None:\n"
        f"    with op.get_context().autocommit_block():\n{drop}\n"
    )


def _with_revision(ctx: FixContext, done: list[ColumnEdit]) -> Iterator[Proposal | Skipped]:
    history = alembic_versions(ctx.root)
    if isinstance(history, str):
        reason = f"--migrations: {history}; or rerun without --migrations to get the SQL"
        yield from (c.target.skip(reason) for c in done)
        return
    indexes = [(c.target.table, c.target.column, index_name(c.target.table, c.target.column)) for c in done]
    seed = "|".join([history.head or "", *(name for _, _, name in indexes)])
    revision = hashlib.sha1(seed.encode()).hexdigest()[:12]  # deterministic: a rerun proposes the same file
    rel = f"{history.versions}/{revision}_scaleaudit_indexes.py"
    if (ctx.root / rel).exists():
        yield from (c.target.skip(f"--migrations: {rel} already exists") for c in done)
        return
    description = f"index=True on {', '.join(f'{t}.{c}' for t, c, _ in indexes)}; Alembic revision {rel}"
    edits = created_file(rel, revision_text(revision, history.head, indexes), "SA401", description, "SA40x:alembic")
    for column_edit in done:
        edits.setdefault(column_edit.target.rel, []).extend(column_edit.edits)
    yield bundle([c.target for c in done], description, edits)


FIXER = fix_column_index
