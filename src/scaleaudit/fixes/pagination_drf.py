"""SA302 (unsafe): give an unpaginated DRF list view a `pagination_class` that really pages.

DRF pages a list view when its `pagination_class` (or the
`DEFAULT_PAGINATION_CLASS` setting) is set — but only if that class has a
page size: `PageNumberPagination` and `CursorPagination` take theirs from
`REST_FRAMEWORK["PAGE_SIZE"]` and, without it, return the whole list
unpaginated; `LimitOffsetPagination` does the same unless the client sends
`?limit=`, and never caps `?limit=` (`max_limit = None`). So naming a DRF
class alone can change nothing. The fix picks, in this order:

1. a pagination class the project already defines (a subclass of
   `PageNumberPagination` or `LimitOffsetPagination`, found through the
   scan's class facts) that has a page size of its own or gets one from
   `PAGE_SIZE`, and does not override how it pages (`paginate_queryset`,
   `get_page_size`, `get_limit`: we cannot tell what those do). Reusing it
   keeps the API's one paging style. `CursorPagination` subclasses are not
   reused: their `ordering` names a field of one model;
2. with `PAGE_SIZE` set in `REST_FRAMEWORK`: DRF's `PageNumberPagination` —
   pages of `PAGE_SIZE` rows that a client cannot enlarge (DRF's
   `LimitOffsetPagination` would let `?limit=` ask for everything);
3. otherwise a four-line `LimitOffsetPagination` subclass in the views
   module, right after its imports, with `default_limit = 50` and `max_limit = 200` (the numbers the
   FastAPI fix uses: one page a client renders, and a cap on `?limit=`).

`pagination_class = <it>` goes right after the view's
`queryset`/`serializer_class`/`model` attributes, imports added as needed;
every SA302 view of one module is fixed by one proposal, so a generated
class is written once per module (and, once written, is the project's own
class that a later run reuses). The description names the project classes
passed over and why, so a reviewer can pick one instead. Unsafe: the list response changes from a
JSON array to `{"count", "next", "previous", "results"}` and holds one page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT
from scaleaudit.fixes.pysource import (
    PyFile,
    add_import,
    is_docstring,
    is_import_line,
    load,
)
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Fact, Finding

PRIORITY = 70  # see scaleaudit.fixes.api; edits only view class bodies

DRF_PAGINATION = "rest_framework.pagination"
_REUSABLE = frozenset({f"{DRF_PAGINATION}.PageNumberPagination", f"{DRF_PAGINATION}.LimitOffsetPagination"})
_CURSOR = f"{DRF_PAGINATION}.CursorPagination"
_SIZES = frozenset({"page_size", "default_limit"})
_OVERRIDES = frozenset({"paginate_queryset", "get_page_size", "get_limit"})
_AFTER = frozenset({"queryset", "serializer_class", "model"})
GENERATED = "BoundedLimitOffsetPagination"
_GENERATED_CODE = f"""class {GENERATED}(LimitOffsetPagination):
{{i}}# LimitOffsetPagination alone returns every row when a request has no ?limit= and
{{i}}# PAGE_SIZE is unset, and never caps ?limit=: both bounds are set here.
{{i}}default_limit = {DEFAULT_LIMIT}
{{i}}max_limit = {MAX_LIMIT}
"""


@dataclass(frozen=True)
class _Choice:
    name: str  # the class to name in `pagination_class = ...`
    module: str  # where to import it from ("" when it is defined in the view's module)
    generated: bool = False
    why: str = ""
    line: int = 0  # where a class of the view's own module is defined


def fix_pagination_drf(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    findings = ctx.findings("SA302")
    if not findings:
        return
    page_size = _page_size_set(ctx)
    reusable, passed_over = _project_paginators(ctx, page_size)
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, []).append(finding)
    for rel, group in sorted(by_file.items()):
        yield from _fix_module(ctx, rel, group, _choose(ctx, rel, reusable, passed_over, page_size))


# --- which class --------------------------------------------------------------


def _page_size_set(ctx: FixContext) -> bool:
    """Does a scanned `REST_FRAMEWORK` give `PAGE_SIZE` a value?"""
    for rel in sorted({f.location.path for f in ctx.scan.facts if f.kind == "drf-settings"}):
        file = load(ctx, rel)
        if isinstance(file, PyFile) and _settings_page_size(file.module):
            return True
    return False


def _settings_page_size(module: cst.Module) -> bool:
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            target = small.targets[0].target
            if isinstance(target, cst.Name) and target.value == "REST_FRAMEWORK" and isinstance(small.value, cst.Dict):
                for element in small.value.elements:
                    if isinstance(element, cst.DictElement) and _is_key(element.key, "PAGE_SIZE"):
                        return not _is_none(element.value)
            elif isinstance(target, cst.Subscript) and cst.Module([]).code_for_node(target.value) == "REST_FRAMEWORK":
                index = target.slice[0].slice if len(target.slice) == 1 else None
                if isinstance(index, cst.Index) and _is_key(index.value, "PAGE_SIZE"):
                    return not _is_none(small.value)
    return False


def _is_key(node: cst.BaseExpression, key: str) -> bool:
    return isinstance(node, cst.SimpleString) and node.evaluated_value == key


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


@dataclass(frozen=True)
class _Paginator:
    name: str
    path: str
    line: int


def _project_paginators(ctx: FixContext, page_size: bool) -> tuple[list[_Paginator], list[str]]:
    """Project classes that page by themselves (see the module docstring, point 1), and
    why each other project pagination class was passed over (for the reviewer)."""
    classes = [f for f in ctx.scan.facts if f.kind == "drf-view"]
    by_name: dict[str, list[Fact]] = {}
    for fact in classes:
        by_name.setdefault(str(fact.get("name")), []).append(fact)
    out: list[_Paginator] = []
    passed_over: list[str] = []
    for fact in classes:
        info = _walk(ctx, fact, by_name, frozenset())
        name = str(fact.get("name"))
        if info is None or not (info.drf or info.cursor):
            continue
        if info.cursor:
            passed_over.append(f"{name} (a CursorPagination: its ordering is one model's)")
        elif info.overrides:
            passed_over.append(f"{name} (overrides {', '.join(sorted(info.overrides))})")
        elif not (info.sized or page_size):
            passed_over.append(f"{name} (no page size)")
        else:
            out.append(_Paginator(name, fact.location.path, fact.location.span.line))
    return out, sorted(passed_over)


@dataclass(frozen=True)
class _Info:
    drf: bool  # reaches PageNumberPagination / LimitOffsetPagination
    cursor: bool
    sized: bool  # sets page_size / default_limit to a value
    overrides: frozenset[str]  # paging methods it redefines


def _walk(ctx: FixContext, fact: Fact, by_name: dict[str, list[Fact]], seen: frozenset[str]) -> _Info | None:
    """What a class and its project bases say about paging; None when a base is out of sight."""
    sized, overrides = _body_facts(ctx, fact)
    drf = cursor = False
    for base in (str(b) for b in fact.get("bases", ())):
        short = base.rsplit(".", 1)[-1]
        parents = by_name.get(short, [])
        if base in _REUSABLE:
            drf = True
        elif base == _CURSOR:
            cursor = True
        elif len(parents) == 1 and short not in seen:
            parent = _walk(ctx, parents[0], by_name, seen | {short})
            if parent is None:
                return None
            drf, cursor = drf or parent.drf, cursor or parent.cursor
            sized, overrides = sized or parent.sized, overrides | parent.overrides
        elif base.startswith(DRF_PAGINATION) or parents:
            return None
    return _Info(drf, cursor, sized, overrides)


def _body_facts(ctx: FixContext, fact: Fact) -> tuple[bool, frozenset[str]]:
    """(sets a page size, the paging methods it overrides) — read from the class body."""
    file = load(ctx, fact.location.path)
    node = _class_at(file, fact.location.span.line, str(fact.get("name"))) if isinstance(file, PyFile) else None
    if node is None or not isinstance(node.body, cst.IndentedBlock):
        return False, frozenset({"an unreadable body"})
    sized = False
    overrides = frozenset(s.name.value for s in node.body.body if isinstance(s, cst.FunctionDef)) & _OVERRIDES
    for stmt in node.body.body:
        for name, value in _assignments(stmt):
            sized = sized or (name in _SIZES and not _is_none(value))
    return sized, overrides


def _choose(
    ctx: FixContext, rel: str, reusable: Sequence[_Paginator], passed_over: Sequence[str], page_size: bool
) -> _Choice:
    if reusable:
        # a module named for pagination is the project's deliberate choice; then the first one
        best = sorted(reusable, key=lambda p: ("pagination" not in p.path.rsplit("/", 1)[-1], p.path, p.line))[0]
        module = "" if best.path == rel else ctx.module_name(best.path)
        why = f"the project's own `{best.name}` ({best.path}:{best.line})"
        return _Choice(best.name, module, why=why, line=best.line if not module else 0)
    not_reused = f"; not reused: {', '.join(passed_over)}" if passed_over else ""
    if page_size:
        why = "DRF's PageNumberPagination: pages of REST_FRAMEWORK['PAGE_SIZE'] rows, which clients cannot enlarge"
        return _Choice("PageNumberPagination", DRF_PAGINATION, why=why + not_reused)
    why = (
        f"a new {GENERATED} (default_limit={DEFAULT_LIMIT}, max_limit={MAX_LIMIT}): no PAGE_SIZE is set, "
        "so DRF's own classes would return every row"
    )
    return _Choice(GENERATED, "", generated=True, why=why + not_reused)


# --- the edit -----------------------------------------------------------------


def _fix_module(ctx: FixContext, rel: str, findings: list[Finding], choice: _Choice) -> Iterator[Proposal | Skipped]:
    file = load(ctx, rel)
    if isinstance(file, str):
        for finding in findings:
            yield Skipped("SA302", rel, finding.line, file)
        return
    local = _local_name(file, choice)
    if isinstance(local, _Taken):
        for finding in findings:
            reason = (
                f"`{local.name}` names something else in this module: set `pagination_class` by hand ({choice.why})"
            )
            yield Skipped("SA302", rel, finding.line, reason)
        return
    replacements: dict[int, cst.ClassDef] = {}
    fixed: list[Finding] = []
    for finding in findings:
        view = _class_at(file, finding.line, finding.anchor)
        if view is None or not isinstance(view.body, cst.IndentedBlock):
            yield Skipped(
                "SA302",
                rel,
                finding.line,
                f"`{finding.anchor}` is not a class with an indented body here: add `pagination_class = {local}`",
            )
            continue
        if choice.line > finding.line:  # a class body runs at import: the name is not bound yet
            reason = (
                f"`{local}` is defined below `{finding.anchor}` (line {choice.line}), so naming it there raises "
                f"NameError: move `{local}` above the view and add `pagination_class = {local}`"
            )
            yield Skipped("SA302", rel, finding.line, reason)
            continue
        replacements[id(view)] = _with_pagination(view, local)
        fixed.append(finding)
    if not fixed:
        return
    module = file.module.visit(_ReplaceClasses(replacements))
    module = _add_definitions(file, module, choice, local)
    description = f"pagination_class = {local} on {', '.join(f.anchor for f in fixed)}: {choice.why}"
    description += "; the list response becomes one page with count/next"
    edits = line_edits(file.source, module.code, rule="SA302", description=description, group=f"SA302:{rel}")
    keys = tuple(key_of(f) for f in fixed)
    yield Proposal("SA302", rel, fixed[0].line, description, {rel: tuple(edits)}, keys)


class _ReplaceClasses(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.ClassDef]) -> None:
        super().__init__()
        self.replacements = replacements

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        return self.replacements.get(id(original_node), updated_node)


@dataclass(frozen=True)
class _Taken:
    name: str


def _local_name(file: PyFile, choice: _Choice) -> str | _Taken:
    """The name the view module will use for the chosen class, or the name that is taken."""
    if not choice.module and not choice.generated:
        return choice.name  # defined in this very module
    qualname = f"{choice.module}.{choice.name}"
    bound = next((local for local, q in file.imports.bindings.items() if q == qualname), None)
    if bound is not None and not choice.generated:
        return bound
    if choice.name in file.imports.bindings or file.top_level_bindings(choice.name):
        return _Taken(choice.name)
    if choice.generated and not _free_for(file, "LimitOffsetPagination", f"{DRF_PAGINATION}.LimitOffsetPagination"):
        return _Taken("LimitOffsetPagination")
    return choice.name


def _free_for(file: PyFile, name: str, qualname: str) -> bool:
    """`name` already means `qualname` here, or is free to be imported as it."""
    if name in file.imports.bindings:
        return file.imports.bindings[name] == qualname
    return not file.top_level_bindings(name)


def _add_definitions(file: PyFile, module: cst.Module, choice: _Choice, local: str) -> cst.Module:
    """The generated class goes right after the imports (before every view); imports as needed."""
    if choice.generated:
        indent = file.module.default_indent
        stmt = cst.parse_statement(_GENERATED_CODE.format(i=indent))
        stmt = stmt.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        body = list(module.body)
        body.insert(_after_imports(body), stmt)
        module = module.with_changes(body=body)
        if "LimitOffsetPagination" not in file.imports.bindings:
            module = add_import(module, DRF_PAGINATION, "LimitOffsetPagination", _after_imports(module.body))
    elif choice.module and local == choice.name and choice.name not in file.imports.bindings:
        module = add_import(module, choice.module, choice.name, _after_imports(module.body))
    return module


def _with_pagination(view: cst.ClassDef, local: str) -> cst.ClassDef:
    assert isinstance(view.body, cst.IndentedBlock)
    body = list(view.body.body)
    after = [i for i, stmt in enumerate(body) if any(name in _AFTER for name, _ in _assignments(stmt))]
    index = after[-1] + 1 if after else (1 if body and is_docstring(body[0]) else 0)
    line = cst.parse_statement(f"pagination_class = {local}\n")
    body.insert(index, line)
    return view.with_changes(body=view.body.with_changes(body=body))


def _after_imports(body: Sequence[cst.BaseStatement]) -> int:
    return next((i for i, s in enumerate(body) if not is_import_line(s) and not is_docstring(s)), len(body))


# --- small libcst readers -------------------------------------------------------


def _assignments(stmt: cst.CSTNode) -> list[tuple[str, cst.BaseExpression]]:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return []
    out: list[tuple[str, cst.BaseExpression]] = []
    for small in stmt.body:
        if isinstance(small, cst.Assign):
            out.extend((t.target.value, small.value) for t in small.targets if isinstance(t.target, cst.Name))
        elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
            out.append((small.target.value, small.value))
    return out


def _class_at(file: PyFile, line: int, name: str) -> cst.ClassDef | None:
    for node in file.positions:
        if isinstance(node, cst.ClassDef) and node.name.value == name:
            name_range = file.positions.get(node.name)  # findings point at the class name
            if name_range is not None and name_range.start.line == line:
                return node
    return None


FIXER = fix_pagination_drf
