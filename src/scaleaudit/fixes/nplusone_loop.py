"""SA201: load the relation a loop touches with the query it iterates.

`for c in Comment.objects.filter(...)` then `c.ticket.title` becomes
`Comment.objects.select_related("ticket").filter(...)`; a reverse or
many-to-many manager gets `prefetch_related`, a SQLAlchemy relationship
`.options(selectinload(Order.user))` (see `scaleaudit.fixes.queryset`). The
query is edited where it is built: the loop's iterable itself, or the one
assignment of the looped name in the same function. All relations one query
needs are added by one edit, so `c.ticket` and `c.author` in one loop give
`select_related("ticket", "author")`.

Unsafe: the query's shape changes (a JOIN, or one more query for the
prefetch) and so does its memory use; and `only()`/`defer()` must agree with
what is joined. Anything the fix cannot see — a queryset from a parameter,
from the view class, built on several paths — is left with the exact edit to
make by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from scaleaudit.fixes.base import FixContext, Proposal, Skipped
from scaleaudit.fixes.pyscope import enclosing, expression_at
from scaleaudit.fixes.pysource import PyFile, load
from scaleaudit.fixes.queryset import (
    Chain,
    Group,
    Need,
    locate,
    need_for,
    settle,
)
from scaleaudit.model import Fact, Finding, Span
from scaleaudit.project.models import Registry

PRIORITY = 70  # see scaleaudit.fixes.api; after the pagination fixes, which may reshape the same query
RULE = "SA201"


def fix_relation_in_loop(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    findings = ctx.findings(RULE)
    if not findings:
        return
    registry = ctx.registry()
    facts = {(f.location.path, f.location.span): f for f in ctx.scan.facts if f.kind == "orm-loop-access"}
    groups: dict[tuple[str, int], Group] = {}
    for finding in findings:
        found = _target(ctx, registry, facts, finding)
        if isinstance(found, Skipped):
            yield found
            continue
        file, chain, need = found
        group = groups.setdefault((finding.path, id(chain.root)), Group(file, chain))
        group.findings.append(finding)
        group.needs.append(need)
    yield from settle(RULE, list(groups.values()))


def _target(
    ctx: FixContext, registry: Registry, facts: dict[tuple[str, Span], Fact], finding: Finding
) -> tuple[PyFile, Chain, Need] | Skipped:
    rel, line = finding.path, finding.line
    fact = facts.get((rel, finding.location.span))
    model = registry.resolve(str(fact.get("model")), str(fact.get("qualname") or "")) if fact else None
    if fact is None or model is None:
        return Skipped(RULE, rel, line, "the loop or its model is no longer where the scan found it")
    need = need_for(registry, model, str(fact.get("attr")), fact.get("next"))
    if isinstance(need, str):
        return Skipped(RULE, rel, line, need)
    file = load(ctx, rel)
    if isinstance(file, str):
        return Skipped(RULE, rel, line, file)
    query = next((r for r in finding.related if r.note.endswith(" query") and r.path == rel), None)
    expr = expression_at(file, query.span) if query is not None else None
    if expr is None:
        return Skipped(RULE, rel, line, f"cannot find the looped query again; add {need.suggestion} by hand")
    if fact.get("source") == "view":
        reason = "the queryset comes from the view class (`self.get_queryset()`)"
        return Skipped(RULE, rel, line, f"{reason}; add {need.suggestion} to the view's `queryset`")
    function = enclosing(file, expr, cst.FunctionDef)
    chain = locate(file, expr, function if isinstance(function, cst.FunctionDef) else None)
    if isinstance(chain, str):
        return Skipped(RULE, rel, line, f"{chain}; add {need.suggestion} where it is built")
    return file, chain, need


FIXER = fix_relation_in_loop
