"""SA401/SA402 on Django models (unsafe): a `Meta.indexes` entry, and the migration.

The fix adds `models.Index(fields=["email"], name="accounts_profile_email_idx")`
to the model's `Meta.indexes`: it extends a literal list or tuple, adds
`indexes = [...]` to a `class Meta:` without one, or adds `class Meta:` at the
end of the class body. It refuses — with the exact edit to make — where
that could change what the model inherits: `indexes` that is not a literal
(a name, a concatenation), a `class Meta(Base.Meta):` without its own
`indexes` (a new list would drop the inherited ones), a model without a
Meta of its own whose bases are not plain models (it inherits an abstract
parent's Meta, which a new `class Meta:` would replace); and on proxy and
unmanaged (`managed = False`) models, whose indexes migrations never create.

Why a Meta index for SA401 too. Django indexes a ForeignKey unless the field
says `db_index=False`, so that is what SA401 flags on a Django model
(nothing else covering the column). Deleting `db_index=False` would also
index it, but Django would then create the index in an `AlterField`
migration, inside a transaction, without CONCURRENTLY: a write lock on the
table for the whole build. A named Meta index can be created with
`AddIndexConcurrently`, and the explicit `db_index=False` — someone's
decision about the field — stays as written. It is unsafe (a new index costs
every write and disk), so it runs with --unsafe-fixes only, though SA401's
SQLAlchemy half is safe.

Names obey Django's checks: at most 30 characters (models.E034), starting
with a letter (models.E033): `<table>_<column>_idx` when that fits, else a
shortened form with a hash of the table and column, like Django's own; never
a name another index or constraint in the scanned models uses.

With `fix.migrations` (`--migrations`) all indexes of one app go into one new
`<app>/migrations/NNNN_scaleaudit_indexes.py`: the next number, depending on
the app's latest migration, non-atomic, one `AddIndexConcurrently` each on
PostgreSQL (a plain `AddIndex` on the other databases, chosen by the
connection's vendor when the migration is loaded, so a project testing on
SQLite still migrates). It refuses — and leaves the models alone too, so the
findings stay visible — when the app has no `migrations/` package, no
migration yet, or several leaf migrations (run `makemigrations --merge`).
Without it, the description gives the SQL (`CREATE INDEX CONCURRENTLY`).
A second run changes nothing: the model now declares the index, which
covers the column, so the finding is gone.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from posixpath import dirname

import libcst as cst

from scaleaudit.fixes.base import UNSAFE_REASON, FixContext, Proposal, Skipped
from scaleaudit.fixes.indexes import IndexTarget, bundle, class_of, created_file, targets
from scaleaudit.fixes.pyliterals import with_element, wrapped_if_long
from scaleaudit.fixes.pysource import PyFile, add_import, load, replace_node
from scaleaudit.fixes.writer import TextEdit, line_edits
from scaleaudit.project.models import ModelInfo

PRIORITY = 60  # see scaleaudit.fixes.api
MAX_NAME = 30  # django.db.models.Index.max_name_length (models.E034)
_MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_NAME_KW = re.compile(r"""\bname\s*=\s*["']([^"'\\]+)["']""")
_NUMBERED = re.compile(r"^(\d+)_\w+\.py$")


@dataclass(frozen=True)
class NewIndex:
    target: IndexTarget
    name: str

    @property
    def sql(self) -> str:
        t = self.target
        return f'CREATE INDEX CONCURRENTLY "{self.name}" ON "{t.table}" ("{t.column}");'


@dataclass(frozen=True)
class ModelEdit:
    """Every new index of one model class, as edits of its file."""

    model: ModelInfo
    indexes: tuple[NewIndex, ...]
    edits: tuple[TextEdit, ...]


def index_name(table: str, column: str, taken: set[str] | frozenset[str]) -> str:
    """`<table>_<column>_idx`, or a ≤30-character form with a hash when that is too long or taken."""
    plain = f"{table}_{column}_idx"
    if len(plain) <= MAX_NAME and plain[0].isalpha() and plain not in taken:
        return plain
    head = re.sub(r"^[^A-Za-z]+", "", f"{table[:11].strip('_')}_{column[:7].strip('_')}") or "ix"
    for salt in range(1000):
        digest = hashlib.md5(f"{table}.{column}.{salt}".encode()).hexdigest()[:6]
        name = f"{head}_{digest}_idx"
        if name not in taken:
            return name
    raise AssertionError("unreachable: 1000 hashes collide")


def fix_django_index(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    found = [t for t in targets(ctx, "django")]
    chosen: list[IndexTarget] = []
    for item in found:
        if isinstance(item, Skipped):
            yield item
        elif not ctx.unsafe:
            yield item.skip(UNSAFE_REASON)  # SA401 is enabled as a safe rule for SQLAlchemy
        else:
            chosen.append(item)
    taken = _taken_names(ctx, {t.rel for t in chosen})
    edits: list[ModelEdit] = []
    for model_targets in _by_model(chosen):
        result = _model_edit(ctx, model_targets, taken)
        if isinstance(result, ModelEdit):
            edits.append(result)
        else:
            yield from result
    if ctx.settings.fix.migrations:
        yield from _with_migrations(ctx, edits)
        return
    for edit in edits:
        described = "; ".join(f"{i.target.table}.{i.target.column} ({i.sql})" for i in edit.indexes)
        description = (
            f"add {len(edit.indexes)} index(es) to {edit.model.name}.Meta.indexes; create them with "
            f"AddIndexConcurrently in a non-atomic migration (or rerun with --migrations): {described}"
        )
        yield bundle([i.target for i in edit.indexes], description, {edit.model.fact.location.path: list(edit.edits)})


def _by_model(chosen: Sequence[IndexTarget]) -> list[list[IndexTarget]]:
    grouped: dict[int, list[IndexTarget]] = {}
    for target in chosen:
        entry = grouped.setdefault(id(target.model), [])
        if all(t.column != target.column for t in entry):
            entry.append(target)
    return list(grouped.values())


def _taken_names(ctx: FixContext, rels: Iterable[str]) -> set[str]:
    """Index and constraint names the scanned Django models use (a name must be unique per database).

    Every `name="..."` keyword in a model file counts: a field called so only makes
    the generated name avoid one more string.
    """
    files = set(rels) | {f.location.path for f in ctx.scan.facts if f.kind == "model" and f.get("orm") == "django"}
    taken: set[str] = set()
    for rel in files:
        try:
            taken.update(_NAME_KW.findall(ctx.source(rel).text))
        except (OSError, UnicodeDecodeError):
            continue
    return taken


# --- the model class ----------------------------------------------------------


def _model_edit(ctx: FixContext, group: list[IndexTarget], taken: set[str]) -> ModelEdit | list[Skipped]:
    model = group[0].model
    file = load(ctx, group[0].rel)
    if isinstance(file, str):
        return [t.skip(file) for t in group]
    cls = class_of(file, model)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return [t.skip(f"cannot find the body of class {model.name}") for t in group]
    callee = _index_callee(file)
    if callee is None:
        reason = "the name `Index` is bound to something else in this module: add the index by hand"
        return [t.skip(reason) for t in group]
    indexes = []
    for target in group:
        name = index_name(target.table, target.column, taken)
        taken.add(name)
        indexes.append(NewIndex(target, name))
    codes = [index_code(callee, i.target.field, i.name, *_house_style(file.source.text)) for i in indexes]
    new_cls = _with_indexes(file, cls, codes)
    if isinstance(new_cls, str):
        return [t.skip(new_cls) for t in group]
    module = replace_node(file.module, cls, new_cls)
    if callee == "Index" and "Index" not in file.imports.bindings:
        first_class = next((i for i, s in enumerate(module.body) if isinstance(s, cst.ClassDef)), len(module.body))
        module = add_import(module, "django.db.models", "Index", first_class)
    description = f"Meta.indexes of {model.name}"
    group_id = f"SA40x:{file.source.rel}:{model.name}"
    edits = line_edits(file.source, module.code, rule=group[0].finding.rule, description=description, group=group_id)
    return ModelEdit(model, tuple(indexes), tuple(edits))


_EXISTING_INDEX = re.compile(r"""Index\(\s*fields\s*=\s*([\[(])\s*(['"])""")
_STRING_START = re.compile(r"""[=(\[,]\s*(['"])(?!\1\1)""")  # a string argument, not a docstring


def _house_style(text: str) -> tuple[str, bool]:
    """(quote, fields as a tuple) as the module's own indexes are written — NetBox writes
    `fields=('name', 'id')` — else the quote its strings mostly use; a reviewer should
    not have to restyle the line the fix adds.

    Not queryset.quote_of, which counts every string literal: here only string arguments
    vote, so a models file with double-quoted docstrings and single-quoted arguments keeps
    writing single quotes."""
    existing = _EXISTING_INDEX.findall(text)
    if existing:
        bracket, quote = existing[-1]
        return quote, bracket == "("
    quotes = _STRING_START.findall(text)
    single = quotes.count("'")
    return ("'" if single > len(quotes) - single else '"'), False


def index_code(callee: str, field: str, name: str, quote: str = '"', as_tuple: bool = False) -> str:
    fields = f"({quote}{field}{quote},)" if as_tuple else f"[{quote}{field}{quote}]"
    return f"{callee}(fields={fields}, name={quote}{name}{quote})"


def _index_callee(file: PyFile) -> str | None:
    """How this module spells django.db.models.Index (None: `Index` means something else here)."""
    bindings = file.imports.bindings
    for local, qualname in sorted(bindings.items()):
        if qualname in ("django.db.models.Index", "django.db.models.indexes.Index"):
            return local
    for local, qualname in sorted(bindings.items()):
        if qualname == "django.db.models":
            return f"{local}.Index"
    if bindings.get("django") == "django":
        return "django.db.models.Index"  # `import django.db.models`
    return "Index" if file.top_level_bindings("Index") == 0 and "Index" not in bindings else None


def _with_indexes(file: PyFile, cls: cst.ClassDef, codes: Sequence[str]) -> cst.ClassDef | str:
    body = cls.body
    assert isinstance(body, cst.IndentedBlock)
    metas = [s for s in body.body if isinstance(s, cst.ClassDef) and s.name.value == "Meta"]
    if len(metas) > 1:
        return "the class declares Meta twice"
    entries = "".join(f"    {c},\n" for c in codes)
    if not metas:
        bases = _foreign_bases(file, cls)
        if bases:
            return (
                f"{cls.name.value} may inherit Meta from {', '.join(bases)}, which a new `class Meta:` would replace: "
                f"add `class Meta({bases[0]}.Meta): indexes = [{', '.join(codes)}]` by hand"
            )
        meta = _statement(file, f"class Meta:\n    indexes = [\n{_indented(entries)}    ]\n")
        assert isinstance(meta, cst.ClassDef)
        meta = meta.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        return cls.with_changes(body=body.with_changes(body=[*body.body, meta]))
    new_meta = _meta_with_indexes(file, metas[0], codes, entries)
    if isinstance(new_meta, str):
        return new_meta
    return cls.with_changes(body=body.with_changes(body=[new_meta if s is metas[0] else s for s in body.body]))


def _meta_with_indexes(file: PyFile, meta: cst.ClassDef, codes: Sequence[str], entries: str) -> cst.ClassDef | str:
    if not isinstance(meta.body, cst.IndentedBlock):
        return "Meta is written on one line: add the index by hand"
    options = _meta_options(meta.body)
    if options.get("proxy") == "True":
        return "a proxy model has no table of its own: index the concrete model"
    if options.get("managed") == "False":
        return "an unmanaged model (managed = False): migrations do not create its indexes; add it with SQL"
    assigns = [
        (stmt, small)
        for stmt in meta.body.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
        if _assigns_indexes(small)
    ]
    if not assigns:
        if meta.bases:
            base = file.code(meta.bases[0].value)
            return (
                f"Meta inherits from {base}: a new `indexes` would drop the inherited ones; add "
                f"`indexes = [*{base}.indexes, {', '.join(codes)}]` by hand"
            )
        stmt = _statement(file, f"indexes = [\n{entries}]\n")
        return meta.with_changes(body=meta.body.with_changes(body=[*meta.body.body, stmt]))
    if len(assigns) > 1:
        return "Meta assigns `indexes` more than once: add the index by hand"
    stmt, small = assigns[0]
    value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
    if not isinstance(value, (cst.List, cst.Tuple)) or any(isinstance(e, cst.StarredElement) for e in value.elements):
        shown = file.code(value) if value is not None else "indexes"
        return f"Meta.indexes is `{shown}`, not a list literal: add {' and '.join(codes)} to it by hand"
    new_value = with_element(value, codes)
    new_stmt = stmt.with_changes(body=[small.with_changes(value=new_value) if s is small else s for s in stmt.body])
    new_stmt = wrapped_if_long(file, stmt, new_stmt, new_value)
    return meta.with_changes(body=meta.body.with_changes(body=[new_stmt if s is stmt else s for s in meta.body.body]))


def _assigns_indexes(small: cst.BaseSmallStatement) -> bool:
    if isinstance(small, cst.Assign):
        return any(isinstance(t.target, cst.Name) and t.target.value == "indexes" for t in small.targets)
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return isinstance(small.target, cst.Name) and small.target.value == "indexes"
    return False


def _meta_options(body: cst.IndentedBlock) -> dict[str, str]:
    out: dict[str, str] = {}
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name) and isinstance(small.value, cst.Name):
                        out[target.value] = small.value.value
    return out


def _foreign_bases(file: PyFile, cls: cst.ClassDef) -> list[str]:
    """Bases a Meta could be inherited from: anything but models.Model (an abstract model,
    a mixin with a Meta). A concrete parent model's Meta is not inherited."""
    out = []
    for arg in cls.bases:
        resolved = file.imports.resolve(arg.value) or ""
        if resolved not in _MODEL_BASES:
            out.append(file.code(arg.value))
    return out


def _statement(file: PyFile, code: str) -> cst.BaseStatement:
    """A statement written with 4-space indents, re-indented to the module's own indent."""
    indent = file.module.default_indent
    text = "".join(
        indent * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ") for line in code.splitlines(True)
    )
    return cst.parse_statement(text, config=file.module.config_for_parsing)


def _indented(entries: str) -> str:
    return "".join(f"    {line}" for line in entries.splitlines(True))


# --- migrations ---------------------------------------------------------------


@dataclass(frozen=True)
class App:
    folder: str  # the app's directory, relative to the root
    label: str


def _with_migrations(ctx: FixContext, edits: list[ModelEdit]) -> Iterator[Proposal | Skipped]:
    by_app: dict[str, list[ModelEdit]] = {}
    for edit in edits:
        by_app.setdefault(_app_dir(ctx.root, edit.model.fact.location.path) or "", []).append(edit)
    for folder, app_edits in sorted(by_app.items()):
        all_targets = [i.target for e in app_edits for i in e.indexes]
        plan = _migration_plan(ctx.root, folder, app_edits[0].model)
        if isinstance(plan, str):
            yield from (t.skip(f"--migrations: {plan}; or rerun without --migrations") for t in all_targets)
            continue
        rel, text = plan[0], migration_text(plan[1], plan[2], [(e.model.name, i) for e in app_edits for i in e.indexes])
        names = ", ".join(i.name for e in app_edits for i in e.indexes)
        description = f"add {names} to Meta.indexes; migration {rel} (AddIndexConcurrently)"
        files = created_file(rel, text, all_targets[0].finding.rule, description, f"SA40x:{rel}")
        for edit in app_edits:
            files.setdefault(edit.model.fact.location.path, []).extend(edit.edits)
        yield bundle(all_targets, description, files)


def _app_dir(root: Path, rel: str) -> str | None:
    """The nearest folder above the model file that has a migrations/ folder."""
    folder = dirname(rel)
    while True:
        if (root / folder / "migrations").is_dir():
            return folder
        if not folder:
            return None
        folder = dirname(folder)


def _app_label(root: Path, folder: str) -> str:
    """The AppConfig's `label` in apps.py, else the folder name (Django's default)."""
    apps = root / folder / "apps.py"
    if apps.is_file():
        found = re.search(r"""^\s+label\s*=\s*["'](\w+)["']""", apps.read_text(errors="replace"), re.MULTILINE)
        if found:
            return found.group(1)
    return Path(folder).name or root.resolve().name


def _migration_plan(root: Path, folder: str, model: ModelInfo) -> tuple[str, str, str] | str:
    """(path of the new migration, app label, the migration it depends on), or why not."""
    migrations = root / folder / "migrations"
    if not folder and not migrations.is_dir():
        return f"no migrations/ folder next to {model.fact.location.path} or above it"
    if not (migrations / "__init__.py").is_file():
        return f"{migrations.relative_to(root)} is not a package (no __init__.py)"
    label = _app_label(root, folder)
    graph: dict[str, tuple[set[str], set[str]]] = {}  # name -> (same-app dependencies, replaces)
    for path in sorted(migrations.glob("*.py")):
        if path.name == "__init__.py":
            continue
        parsed = _dependencies(path, label)
        if isinstance(parsed, str):
            return f"{path.relative_to(root)}: {parsed}"
        graph[path.stem] = parsed
    if not graph:
        return f"{migrations.relative_to(root)} has no migration yet: run `manage.py makemigrations {label}` first"
    leaves = _leaves(graph)
    if len(leaves) != 1:
        return f"app {label} has {len(leaves)} latest migrations ({', '.join(leaves)}): run `makemigrations --merge`"
    numbers = [int(m.group(1)) for p in migrations.glob("*.py") if (m := _NUMBERED.match(p.name))]
    number = max(numbers, default=0) + 1
    name = f"{number:04d}_scaleaudit_indexes"
    return (migrations / f"{name}.py").relative_to(root).as_posix(), label, leaves[0]


def _dependencies(path: Path, label: str) -> tuple[set[str], set[str]] | str:
    """(same-app dependencies, same-app replaced migrations) of a migration file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError as exc:
        return f"does not parse ({exc.msg})"
    deps: set[str] = set()
    replaces: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    pairs = _pairs(stmt.value, label)
                    if stmt.targets[0].id == "dependencies":
                        deps |= pairs
                    elif stmt.targets[0].id == "replaces":
                        replaces |= pairs
    return deps, replaces


def _pairs(node: ast.expr, label: str) -> set[str]:
    out: set[str] = set()
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            if isinstance(item, (ast.Tuple, ast.List)) and len(item.elts) == 2:
                app, name = (e.value if isinstance(e, ast.Constant) else None for e in item.elts)
                if app == label and isinstance(name, str):
                    out.add(name)
    return out


def _leaves(graph: dict[str, tuple[set[str], set[str]]]) -> list[str]:
    """Migrations nothing else of the app depends on. A squashed migration stands for the ones
    it replaces: depending on one of those depends on it, and they are not leaves themselves."""
    replaced = {r for _, reps in graph.values() for r in reps}
    depended = {d for deps, _ in graph.values() for d in deps}
    squash_used = {name for name, (_, reps) in graph.items() if reps & depended}
    return sorted(set(graph) - depended - replaced - squash_used)


def migration_text(label: str, parent: str, indexes: Sequence[tuple[str, NewIndex]]) -> str:
    operations = "".join(
        "        AddIndex(\n"
        f'            model_name="{model.lower()}",\n'
        f'            index=models.Index(fields=["{index.target.field}"], name="{index.name}"),\n'
        "        ),\n"
        for model, index in indexes
    )
    # CREATE INDEX CONCURRENTLY exists on PostgreSQL only, and importing
    # django.contrib.postgres needs psycopg: a project that runs its tests on SQLite
    # (healthchecks does) must still be able to migrate, with a plain AddIndex.
    return (
        "# Generated by scaleaudit fix --migrations (SA401/SA402): indexes created without locking writes.\n\n"
        "from django.db import connection, migrations, models\n\n"
        'if connection.vendor == "postgresql":  # CREATE INDEX CONCURRENTLY: no write lock on a live table\n'
        "    from django.contrib.postgres.operations import AddIndexConcurrently as AddIndex\n"
        "else:  # other databases have no concurrent build; a plain index there\n"
        "    AddIndex = migrations.AddIndex\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    # CREATE INDEX CONCURRENTLY cannot run inside a transaction\n"
        "    atomic = False\n\n"
        f'    dependencies = [\n        ("{label}", "{parent}"),\n    ]\n\n'
        f"    operations = [\n{operations}    ]\n"
    )


FIXER = fix_django_index
