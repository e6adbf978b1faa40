"""SA204 and SA205: load what a DRF serializer or an admin changelist column reads per row.

SA204: the queryset the finding's view serializes — its `queryset = ...`
attribute, what `get_queryset()` returns, or `Serializer(qs, many=True)`'s
`qs` followed to its one assignment — gets `select_related`/`prefetch_related`
for the relation (`scaleaudit.fixes.queryset`), one edit per queryset.

SA205: the admin's `list_select_related` gets each foreign-key or one-to-one
column's relation: extended when it is a tuple or list, created after
`list_display` when unset (or `False`). A reverse `.count()` or a
many-to-many column cannot be loaded that way: skipped with the
`get_queryset()` override to write.

Unsafe for the reasons the rules' `fix` texts give: the query changes shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.pyscope import enclosing, expression_at
from scaleaudit.fixes.pysource import PyFile, load, replace_node
from scaleaudit.fixes.queryset import (
    Chain,
    Group,
    Need,
    literal,
    locate,
    need_for,
    quote_of,
    settle,
)
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Fact, Finding, Location, Span
from scaleaudit.project.models import Registry
from scaleaudit.project.nplusone_decide import per_item_query
from scaleaudit.project.nplusone_serializers import dynamic_queryset

PRIORITY = 70  # see scaleaudit.fixes.api; with the SA201 fix


def _touch(facts: Sequence[Fact], kind: str, finding: Finding) -> tuple[Fact, dict[str, object]] | None:
    """The fact, and its touch, that a finding reports (the touch's node is the finding's location)."""
    span = finding.location.span
    for fact in facts:
        if fact.kind != kind or fact.location.path != finding.path:
            continue
        for touch in fact.get("touches", ()):
            node = touch.get("node")
            if isinstance(node, list) and len(node) == 4 and Span(*node) == span:
                return fact, touch
    return None


def fix_views(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    serializer = ctx.findings("SA204")
    admin = ctx.findings("SA205")
    if not serializer and not admin:
        return
    registry = ctx.registry()
    yield from _serializers(ctx, registry, serializer)
    yield from _admins(ctx, registry, admin)


# --- SA204 ----------------------------------------------------------------------------


def _serializers(ctx: FixContext, registry: Registry, findings: list[Finding]) -> Iterator[Proposal | Skipped]:
    uses = [f for f in ctx.scan.facts if f.kind == "serializer-use"]
    views: dict[str, list[Fact]] = {}
    for fact in ctx.scan.facts:
        if fact.kind == "drf-view":
            views.setdefault(str(fact.get("name")), []).append(fact)
    groups: dict[tuple[str, int], Group] = {}
    for finding in findings:
        found = _serialized(ctx, registry, finding, uses, views)
        if isinstance(found, Skipped):
            yield found
            continue
        need, targets = found
        for key, group in targets:
            group = groups.setdefault(key, group)
            group.findings.append(finding)
            group.needs.append(need)
    yield from settle("SA204", list(groups.values()))


def _serialized(
    ctx: FixContext, registry: Registry, finding: Finding, uses: list[Fact], views: dict[str, list[Fact]]
) -> tuple[Need, list[tuple[tuple[str, int], Group]]] | Skipped:
    """What the finding needs, and every queryset its serializer lists that lacks it (the finding
    names the first; fixing only that one would let the next take its place)."""
    line = finding.line
    found = _touch(ctx.scan.facts, "serializer", finding)
    model = registry.resolve(str(found[0].get("model")), str(found[0].get("qualname") or "")) if found else None
    if found is None or model is None:
        return Skipped("SA204", finding.path, line, "the serializer or its model is no longer where the scan found it")
    ser, touch = found
    attr, nxt = str(touch.get("attr")), _str(touch.get("next"))
    need = need_for(registry, model, attr, nxt)
    if isinstance(need, str):
        return Skipped("SA204", finding.path, line, need)
    named = next((r for r in finding.related if r.note.endswith(" queryset serialized")), None)
    if named is None:
        return Skipped("SA204", finding.path, line, f"no queryset to edit; add {need.suggestion} by hand")
    locations = [named] + [
        use.location
        for use in uses
        if use.get("serializer") == ser.get("name")
        and use.get("model") == model.name
        and use.location != Location(named.path, named.span)
        and not dynamic_queryset(use, views)
        and per_item_query(model, attr, nxt, use.data) is not None
    ]
    targets: list[tuple[tuple[str, int], Group]] = []
    for location in locations:
        chain = _chain_at(ctx, location.path, location.span)
        if isinstance(chain, str):
            where = f"{location.path}:{location.span.line}"
            return Skipped("SA204", finding.path, line, f"{chain}; add {need.suggestion} at {where} by hand")
        targets.append(((location.path, id(chain[1].root)), Group(*chain)))
    return need, targets


def _chain_at(ctx: FixContext, rel: str, span: Span) -> tuple[PyFile, Chain] | str:
    file = load(ctx, rel)
    if isinstance(file, str):
        return f"{rel}: {file}"
    expr = expression_at(file, span)
    if expr is None:
        return "cannot find the serialized queryset again"
    function = enclosing(file, expr, cst.FunctionDef)
    chain = locate(file, expr, function if isinstance(function, cst.FunctionDef) else None)
    return chain if isinstance(chain, str) else (file, chain)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# --- SA205 ----------------------------------------------------------------------------


def _admins(ctx: FixContext, registry: Registry, findings: list[Finding]) -> Iterator[Proposal | Skipped]:
    wanted: dict[tuple[str, Span], tuple[Fact, list[Finding], list[str]]] = {}
    for finding in findings:
        found = _touch(ctx.scan.facts, "admin-list", finding)
        model = registry.resolve(str(found[0].get("model")), str(found[0].get("qualname") or "")) if found else None
        if found is None or model is None:
            reason = "the admin or its model is no longer where the scan found it"
            yield Skipped("SA205", finding.path, finding.line, reason)
            continue
        fact, touch = found
        attr = str(touch.get("attr"))
        need = need_for(registry, model, attr, _str(touch.get("next")))
        if isinstance(need, str) or need.method != "select_related":
            yield Skipped("SA205", finding.path, finding.line, _admin_advice(attr, _str(touch.get("next")), need))
            continue
        entry = wanted.setdefault((fact.location.path, fact.location.span), (fact, [], []))
        entry[1].append(finding)
        entry[2].append(need.path)
    for fact, group, paths in wanted.values():
        yield _list_select_related(ctx, fact, group, paths)


def _admin_advice(attr: str, nxt: str | None, need: Need | str) -> str:
    """The get_queryset() override a reverse or many-to-many column needs (list_select_related cannot)."""
    head = "def get_queryset(self, request): return super().get_queryset(request)"
    if nxt in ("count", "exists"):
        return (
            f"`{attr}.{nxt}()` per row cannot be joined: override `{head}"
            f'.annotate({attr}_count=Count("{attr}"))` and return `obj.{attr}_count` from the column'
        )
    if isinstance(need, Need):
        return f'`{attr}` is a list per row: override `{head}.prefetch_related("{attr}")`'
    return need


def _list_select_related(ctx: FixContext, fact: Fact, findings: list[Finding], paths: list[str]) -> Proposal | Skipped:
    rel = fact.location.path
    first = min(findings, key=lambda f: f.line)
    wanted = list(dict.fromkeys(paths))
    suggestion = f"set `list_select_related = ({', '.join(repr(p) for p in wanted)},)` on `{fact.get('admin')}`"
    file = load(ctx, rel)
    if isinstance(file, str):
        return Skipped("SA205", first.path, first.line, file)
    name = expression_at(file, fact.location.span)
    cls = enclosing(file, name, cst.ClassDef) if name is not None else None
    if not isinstance(cls, cst.ClassDef) or not isinstance(cls.body, cst.IndentedBlock):
        return Skipped("SA205", first.path, first.line, f"cannot find the admin class again; {suggestion}")
    if any(isinstance(s, cst.FunctionDef) and s.name.value == "get_list_select_related" for s in cls.body.body):
        # Django reads the attribute only through this method: setting it would change nothing
        names = ", ".join(repr(p) for p in wanted)
        reason = f"`{fact.get('admin')}` overrides `get_list_select_related()`: add {names} to what it returns"
        return Skipped("SA205", first.path, first.line, reason)
    new_body = _with_select_related(file, cls.body, wanted)
    if isinstance(new_body, str):
        return Skipped("SA205", first.path, first.line, f"{new_body}; {suggestion}")
    code = replace_node(file.module, cls.body, new_body).code
    description = f"list_select_related += {', '.join(wanted)} on {fact.get('admin')}"
    edits = line_edits(file.source, code, rule="SA205", description=description, group=f"SA205:{rel}:{first.line}")
    keys = tuple(key_of(f) for f in findings)
    return Proposal("SA205", first.path, first.line, description, {rel: tuple(edits)}, keys)


def _class_assign(stmt: cst.BaseStatement, name: str) -> cst.Assign | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name) and target.value == name:
                return small
    return None


def _with_select_related(file: PyFile, body: cst.IndentedBlock, wanted: list[str]) -> cst.IndentedBlock | str:
    quote = quote_of(file)
    statements = list(body.body)
    for index, stmt in enumerate(statements):
        assign = _class_assign(stmt, "list_select_related")
        if assign is None:
            continue
        value = assign.value
        if isinstance(value, cst.Name) and value.value == "False":
            codes = [literal(p, quote) for p in wanted]
            new_value = cst.parse_expression(f"({', '.join(codes)}{',' if len(codes) == 1 else ''})")
        elif isinstance(value, (cst.Tuple, cst.List)):
            present = [e.value.evaluated_value for e in value.elements if isinstance(e.value, cst.SimpleString)]
            if len(present) != len(value.elements):
                return "`list_select_related` holds names this fix cannot read"
            missing = [p for p in wanted if not any(q == p or str(q).startswith(p + "__") for q in present)]
            if not missing:
                return "`list_select_related` already names these relations"
            new_value = with_elements(value, [literal(p, quote) for p in missing])
        else:
            return "`list_select_related` is set to an expression this fix cannot extend"
        statements[index] = stmt.with_deep_changes(assign, value=new_value)
        return body.with_changes(body=statements)
    display = next((i for i, s in enumerate(statements) if _class_assign(s, "list_display") is not None), None)
    if display is None:
        return "`list_display` is not a plain class attribute"
    codes = [literal(p, quote) for p in wanted]
    trailing = "," if len(codes) == 1 else ""  # a one-tuple needs its comma
    new = cst.parse_statement(f"list_select_related = ({', '.join(codes)}{trailing})\n")
    statements.insert(display + 1, new)
    return body.with_changes(body=statements)


def with_elements(seq: cst.Tuple | cst.List, codes: Sequence[str]) -> cst.Tuple | cst.List:
    """`seq` with elements appended in its layout (one per line when written one per line)."""
    space = cst.SimpleWhitespace(" ")
    elements = list(seq.elements)
    new = [cst.Element(cst.parse_expression(code)) for code in codes]
    if not elements:
        one_tuple = isinstance(seq, cst.Tuple) and len(new) == 1
        tail = [e.with_changes(comma=cst.Comma(whitespace_after=space)) for e in new[:-1]]
        return seq.with_changes(
            elements=[*tail, new[-1].with_changes(comma=cst.Comma() if one_tuple else new[-1].comma)]
        )
    last = elements[-1]
    if isinstance(seq, cst.List):
        opener: cst.BaseParenthesizableWhitespace | None = seq.lbracket.whitespace_after
    else:
        opener = seq.lpar[0].whitespace_after if seq.lpar else None
    trailing: cst.Comma | cst.MaybeSentinel
    if isinstance(opener, cst.ParenthesizedWhitespace):  # one element per line
        previous = elements[-2].comma if len(elements) > 1 else None
        between: cst.BaseParenthesizableWhitespace = (
            previous.whitespace_after if isinstance(previous, cst.Comma) else opener
        )
        trailing = last.comma
    else:
        between = space
        # `("queue",)`: the comma that made a one-tuple is not needed at the end any more
        trailing = last.comma if isinstance(last.comma, cst.Comma) and len(elements) > 1 else cst.MaybeSentinel.DEFAULT
    head = [*elements[:-1], last.with_changes(comma=cst.Comma(whitespace_after=between))]
    tail = [e.with_changes(comma=cst.Comma(whitespace_after=between)) for e in new[:-1]]
    return seq.with_changes(elements=[*head, *tail, new[-1].with_changes(comma=trailing)])


FIXER = fix_views
