"""libcst helpers the Python fixers share: find a reported call again, edit
imports, add keywords without disturbing the layout.

Positions are computed here (PositionProvider) only for files a fixer is
about to rewrite — the scan itself never pays for them.

Its siblings hold the other rule-independent helpers: pyscope (where a node
sits, what a function binds), pysignature (adding parameters to a def),
pyliterals (appending to list/tuple literals in their layout).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scaleaudit.fixes.base import FixContext
from scaleaudit.fixes.writer import SourceText
from scaleaudit.model import Span
from scaleaudit.python.imports import ImportTable

_IDENT = re.compile(r"[A-Za-z_]\w*")
_NONE = cst.SimpleWhitespace("")


@dataclass
class PyFile:
    source: SourceText
    module: cst.Module
    positions: Mapping[cst.CSTNode, CodeRange]
    imports: ImportTable
    name: str  # dotted module name

    @classmethod
    def parse(cls, source: SourceText, name: str) -> PyFile:
        """Raises libcst.ParserSyntaxError for a file that does not parse."""
        wrapper = MetadataWrapper(cst.parse_module(source.text))
        positions = wrapper.resolve(PositionProvider)
        table = ImportTable(name, is_package=source.rel.endswith("__init__.py"))
        for stmt in top_level_imports(wrapper.module):
            if isinstance(stmt, cst.Import):
                table.add_import(stmt)
            else:
                table.add_import_from(stmt)
        return cls(source, wrapper.module, positions, table, name)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def call_at(self, span: Span) -> cst.Call | None:
        """The call a finding or fact points at (1-based line and column)."""
        for node, rng in self.positions.items():
            if (
                isinstance(node, cst.Call)
                and rng.start.line == span.line
                and rng.start.column + 1 == span.column
                and rng.end.line == span.end_line
            ):
                return node
        return None

    def assignment_of(self, call: cst.Call) -> tuple[int, str] | None:
        """(index in module.body, bound name) when `NAME = call` is a plain module-level statement."""
        for index, stmt in enumerate(self.module.body):
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
                name = bound_name(stmt.body[0], call)
                if name:
                    return index, name
        return None

    def top_level_bindings(self, name: str) -> int:
        """How many module-level statements bind `name` (assignments, defs, imports)."""
        count = 0
        for stmt in self.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
                count += 1
            elif isinstance(stmt, cst.SimpleStatementLine):
                count += sum(1 for small in stmt.body if name in _binds(small))
        return count


def load(ctx: FixContext, rel: str) -> PyFile | str:
    """The parsed file (cached per run), or why it cannot be parsed now."""
    if rel not in ctx.parsed:
        try:
            source = ctx.source(rel)
            ctx.parsed[rel] = PyFile.parse(source, ctx.module_name(rel))
        except (OSError, UnicodeDecodeError, LookupError) as exc:
            ctx.parsed[rel] = f"cannot read: {exc}"
        except SyntaxError as exc:  # a malformed PEP 263 coding declaration
            ctx.parsed[rel] = f"cannot read: {exc.msg}"
        except cst.ParserSyntaxError as exc:
            ctx.parsed[rel] = f"does not parse: {exc.message}"
    found: PyFile | str = ctx.parsed[rel]
    return found


def replace_node(module: cst.Module, old: cst.CSTNode, new: cst.CSTNode) -> cst.Module:
    replaced = module.deep_replace(old, new)
    assert isinstance(replaced, cst.Module)
    return replaced


def bound_name(small: cst.BaseSmallStatement, value: cst.CSTNode) -> str:
    if isinstance(small, cst.Assign) and small.value is value and len(small.targets) == 1:
        target = small.targets[0].target
        return target.value if isinstance(target, cst.Name) else ""
    if isinstance(small, cst.AnnAssign) and small.value is value and isinstance(small.target, cst.Name):
        return small.target.value
    return ""


def _binds(small: cst.BaseSmallStatement) -> set[str]:
    if isinstance(small, cst.Assign):
        return {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        return {small.target.value}
    if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
        return {local_name(alias) for alias in small.names}
    return set()


def top_level_imports(module: cst.Module) -> list[cst.Import | cst.ImportFrom]:
    out: list[cst.Import | cst.ImportFrom] = []
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(s for s in stmt.body if isinstance(s, (cst.Import, cst.ImportFrom)))
    return out


def local_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    full = cst.Module([]).code_for_node(alias.name)
    return full.split(".", 1)[0]


def is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def import_module_of(stmt: cst.BaseStatement) -> str:
    """The module a top-level import line imports from ("" for anything else)."""
    if not is_import_line(stmt):
        return ""
    assert isinstance(stmt, cst.SimpleStatementLine)
    small = stmt.body[0]
    if isinstance(small, cst.ImportFrom):
        name = cst.Module([]).code_for_node(small.module) if small.module is not None else ""
        return "." * len(small.relative) + name
    assert isinstance(small, cst.Import)
    return cst.Module([]).code_for_node(small.names[0].name)


def insert_import(module: cst.Module, statement: cst.SimpleStatementLine, before: int, target: str) -> cst.Module:
    """Add an import where isort would put it, never below statement `before`.

    Among the imports above `before` it joins the group of its top-level
    package in alphabetical order, or opens a new group after the last
    import (after the docstring when there is none) — always after
    `from __future__`, and before the first use of the name it binds.
    """
    body = list(module.body)
    imports = [i for i, stmt in enumerate(body[:before]) if is_import_line(stmt)]
    top = target.split(".")[0]
    same = [i for i in imports if import_module_of(body[i]).split(".")[0] == top]
    later = [i for i in same if import_module_of(body[i]) > target]
    if later:  # take its place in the group: it keeps the group's leading lines
        index = later[0]
        displaced = body[index]
        assert isinstance(displaced, cst.SimpleStatementLine)
        body[index] = displaced.with_changes(leading_lines=[])
        body.insert(index, statement.with_changes(leading_lines=displaced.leading_lines))
    elif same:
        body.insert(same[-1] + 1, statement)
    else:
        # a docstring never uses the name: the import goes below it even when `before` is 0
        index = imports[-1] + 1 if imports else (1 if body and is_docstring(body[0]) else 0)
        blank = [cst.EmptyLine()] if index > 0 else []
        body.insert(index, statement.with_changes(leading_lines=blank))
        if index == 0 and len(body) > 1 and not getattr(body[1], "leading_lines", None):
            follower = body[1]
            if isinstance(follower, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                body[1] = follower.with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=body)


def import_statement(module: str, name: str, asname: str = "") -> cst.SimpleStatementLine:
    alias = f" as {asname}" if asname and asname != name else ""
    stmt = cst.parse_statement(f"from {module} import {name}{alias}\n")
    assert isinstance(stmt, cst.SimpleStatementLine)
    return stmt


def import_for(local: str, qualname: str) -> str:
    """Source of an import binding `local` to `qualname` (what ImportTable recorded)."""
    if "." not in qualname:
        return f"import {qualname}" + (f" as {local}" if local != qualname else "")
    parent, _, last = qualname.rpartition(".")
    return f"from {parent} import {last}" + (f" as {local}" if local != last else "")


class _NameCounter(cst.CSTVisitor):
    """Every identifier a module refers to, outside import statements.

    Attribute names and keyword names are not references; identifiers in
    strings are counted (forward references, `__all__`), which can only keep
    an import that could have gone, never drop one still needed.
    """

    def __init__(self, strings: bool = True) -> None:
        super().__init__()
        self.strings = strings
        self.counts: Counter[str] = Counter()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.counts[node.value] += 1

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.strings:
            self.counts.update(_IDENT.findall(node.value))


def name_counts(node: cst.CSTNode) -> Counter[str]:
    counter = _NameCounter()
    node.visit(counter)
    return counter.counts


def drop_orphaned_imports(
    before: cst.Module, after: cst.Module, keep: set[str] | frozenset[str] = frozenset()
) -> cst.Module:
    """Remove import aliases the rewrite left unused (used before, unused now).

    Imports that were already unused stay: they are the user's business; so
    do the names in `keep` (the import the rewrite itself added).
    """
    used_before, used_after = name_counts(before), name_counts(after)
    imported = {
        local_name(a) for s in top_level_imports(before) if not isinstance(s.names, cst.ImportStar) for a in s.names
    }
    orphans = {name for name in used_before if used_after[name] == 0 and name in imported} - set(keep)
    if not orphans:
        return after
    body: list[cst.BaseStatement | None] = []
    for stmt in after.body:
        if is_import_line(stmt):
            assert isinstance(stmt, cst.SimpleStatementLine)
            kept = [s for small in stmt.body if (s := _without(small, orphans)) is not None]
            body.append(stmt.with_changes(body=kept) if kept else None)
        else:
            body.append(stmt)
    return after.with_changes(body=close_gaps(after.body, body))


def tidy(before: str, after: str) -> str:
    """Final pass over a rewritten file: imports that several fixes together orphaned."""
    try:
        return drop_orphaned_imports(cst.parse_module(before), cst.parse_module(after)).code
    except cst.ParserSyntaxError:
        return after  # the validator reports it


def remove_statements(module: cst.Module, indices: set[int]) -> cst.Module:
    """The module without the top-level statements at `indices`; other nodes keep their identity."""
    body = [None if i in indices else stmt for i, stmt in enumerate(module.body)]
    return module.with_changes(body=close_gaps(module.body, body))


def close_gaps(old: Sequence[cst.BaseStatement], new: Sequence[cst.BaseStatement | None]) -> list[cst.BaseStatement]:
    """Drop the None slots; a dropped statement's blank lines and comments go to the next one,
    so removing the first import of a group does not glue two groups together."""
    out: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for before, stmt in zip(old, new, strict=True):
        if stmt is None:
            carried.extend(getattr(before, "leading_lines", ()))
            if not out:  # nothing above: blank lines would open the file
                carried = [line for line in carried if line.comment is not None]
            continue
        if carried and isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            own = list(stmt.leading_lines)
            has_comment = any(line.comment is not None for line in carried)
            # Comments stay where they were; bare blank lines only fill a gap.
            stmt = stmt.with_changes(leading_lines=[*carried, *own] if has_comment or not own else own)
            carried = []
        if not out and before is not old[0] and isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            lines = list(stmt.leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)  # it opens the file now: no blank lines above it
            stmt = stmt.with_changes(leading_lines=lines)
        out.append(stmt)
    return out


def _without(small: cst.BaseSmallStatement, orphans: set[str]) -> cst.BaseSmallStatement | None:
    assert isinstance(small, (cst.Import, cst.ImportFrom))
    if isinstance(small.names, cst.ImportStar):
        return small
    names = [a for a in small.names if local_name(a) not in orphans]
    if len(names) == len(small.names):
        return small
    if not names:
        return None
    parenthesized = isinstance(small, cst.ImportFrom) and small.lpar is not None
    if not parenthesized:
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return small.with_changes(names=names)


def add_to_from_import(module: cst.Module, source_module: str, name: str, asname: str) -> cst.Module | None:
    """Append `name as asname` to an existing `from source_module import ...`, if there is one."""
    for index, stmt in enumerate(module.body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if (
            isinstance(small, cst.ImportFrom)
            and not small.relative
            and small.module is not None
            and module.code_for_node(small.module) == source_module
            and not isinstance(small.names, cst.ImportStar)
        ):
            alias = cst.ImportAlias(
                name=cst.Name(name),
                asname=cst.AsName(name=cst.Name(asname)) if asname and asname != name else None,
            )
            names = list(small.names)
            if isinstance(names[-1].comma, cst.Comma) and small.lpar is not None:
                names.append(alias.with_changes(comma=names[-1].comma))
            else:
                names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                names.append(alias)
            new = stmt.with_changes(body=[small.with_changes(names=names)])
            return module.with_changes(body=[*module.body[:index], new, *module.body[index + 1 :]])
    return None


def add_import(module: cst.Module, source_module: str, name: str, before: int) -> cst.Module:
    """`from source_module import name`: joined to an existing `from source_module import ...`,
    else a new line where isort would put it, above statement `before` (see insert_import).

    Each fixer passes its own `before` (the first class, the first compound statement, the
    first code line): the first place its new code may need the name."""
    merged = add_to_from_import(module, source_module, name, "")
    if merged is not None:
        return merged
    return insert_import(module, import_statement(source_module, name), before, source_module)


def with_keywords(call: cst.Call, pairs: Sequence[tuple[str, str]]) -> cst.Call:
    """`call` with keyword arguments appended, in the layout the call already uses.

    A call written one argument per line with a trailing comma gets one new
    line per keyword; a one-line call stays on one line.
    """
    new = [
        cst.Arg(
            keyword=cst.Name(name),
            value=cst.parse_expression(code),
            equal=cst.AssignEqual(whitespace_before=_NONE, whitespace_after=_NONE),
        )
        for name, code in pairs
    ]
    return _with_args(call, new)


def with_arguments(call: cst.Call, codes: Sequence[str]) -> cst.Call:
    """`call` with positional arguments (source texts) appended, like `with_keywords`.

    Only for calls without keyword or starred arguments: a positional one after them
    would not parse, or would mean something else.
    """
    return _with_args(call, [cst.Arg(value=cst.parse_expression(code)) for code in codes])


def _with_args(call: cst.Call, new: list[cst.Arg]) -> cst.Call:
    if not new:
        return call
    args = list(call.args)
    if not args:
        return call.with_changes(args=new)
    last = args[-1]
    previous = args[-2].comma if len(args) > 1 else cst.MaybeSentinel.DEFAULT
    if isinstance(last.comma, cst.Comma):  # trailing comma: vertical layout
        between = previous.whitespace_after if isinstance(previous, cst.Comma) else call.whitespace_before_args
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        tail = [a.with_changes(comma=cst.Comma(whitespace_after=between)) for a in new[:-1]]
        tail.append(new[-1].with_changes(comma=last.comma))
    else:
        sep = previous.whitespace_after if isinstance(previous, cst.Comma) else cst.SimpleWhitespace(" ")
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=sep), whitespace_after_arg=_NONE)
        tail = [a.with_changes(comma=cst.Comma(whitespace_after=sep)) for a in new[:-1]]
        tail.append(new[-1].with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=[*args, *tail])


def keyword_codes(file: PyFile, call: cst.Call) -> dict[str, str]:
    """keyword -> source text of its value (whitespace-normalised, for comparing sites)."""
    return {arg.keyword.value: " ".join(file.code(arg.value).split()) for arg in call.args if arg.keyword is not None}


def free_names(node: cst.CSTNode) -> set[str]:
    """Identifiers an expression needs from its module (heads of name chains)."""
    counter = _NameCounter(strings=False)
    node.visit(counter)
    return set(counter.counts)
