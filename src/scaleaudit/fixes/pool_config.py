"""SA103/SA105: give long-lived pooled clients explicit pool settings.

Rewrites `create_engine(URL)` to `create_engine(URL, pool_size=7,
max_overflow=4, pool_pre_ping=True)`, `redis.Redis(...)` to
`redis.Redis(..., max_connections=22)`, and `max_size`/`maxPoolSize` for
psycopg/asyncpg/Mongo pools. The numbers come from the connection budget
(`scaleaudit.capacity.pool_plan`: instances × workers × pool ≤ max_connections
minus reserved), so the whole fleet fits the server. A keyword the user
already set is never touched: only missing ones are added, in the layout the
call already uses. Safe: pool sizing and pre-ping do not change what the
code computes, only how many connections it may hold.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from scaleaudit.capacity import PoolPlan
from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.pysource import PyFile, load, replace_node, with_keywords
from scaleaudit.fixes.writer import line_edits
from scaleaudit.model import Finding, Span
from scaleaudit.rulebook import ClientSpec

RULES = ("SA103", "SA105")
# Clients whose pool is sized somewhere else than a keyword (Prisma: the URL).
NOT_BY_KEYWORD = frozenset({"prisma-client"})


PRIORITY = 50  # see scaleaudit.fixes.api


def pool_keywords(spec: ClientSpec, present: set[str], plan: PoolPlan, rules: frozenset[str]) -> list[tuple[str, str]]:
    """The keywords to add to a `spec` call that already has `present`, for the enabled `rules`."""
    out: list[tuple[str, str]] = []
    if "SA103" in rules and spec.pool_args and not present & set(spec.pool_args) and spec.kind not in NOT_BY_KEYWORD:
        if spec.kind == "sqlalchemy-engine":
            out += [("pool_size", str(plan.pool_size)), ("max_overflow", str(plan.max_overflow))]
        elif spec.service == "redis":
            out.append((spec.pool_args[0], str(plan.redis_max_connections)))
        else:
            out.append((spec.pool_args[0], str(plan.pool_size + plan.max_overflow)))
    if "SA105" in rules and spec.kind == "sqlalchemy-engine" and not present & set(spec.health_args):
        out.append(("pool_pre_ping", "True"))
    return out


def spec_of(file: PyFile, call: cst.Call, ctx: FixContext) -> ClientSpec | None:
    qualname = file.imports.resolve(call.func)
    return ctx.clients.get(qualname) if qualname else None


def fix_pool_config(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    by_call: dict[tuple[str, Span], list[Finding]] = {}
    for finding in ctx.findings(*RULES):
        by_call.setdefault((finding.path, finding.location.span), []).append(finding)
    for (rel, span), findings in sorted(by_call.items()):
        if (rel, span) in ctx.claimed:
            continue  # the shared-client fix rewrites or removes this call
        yield _proposal(ctx, rel, span, findings)


def _proposal(ctx: FixContext, rel: str, span: Span, findings: list[Finding]) -> Proposal | Skipped:
    first = findings[0]
    file = load(ctx, rel)
    if isinstance(file, str):
        return Skipped(first.rule, rel, span.line, file)
    call = file.call_at(span)
    spec = spec_of(file, call, ctx) if call is not None else None
    if call is None or spec is None:
        return Skipped(first.rule, rel, span.line, "the file changed since the scan: the call is not there any more")
    present = {a.keyword.value for a in call.args if a.keyword is not None}
    pairs = pool_keywords(spec, present, ctx.plan, frozenset(f.rule for f in findings))
    if not pairs:
        return Skipped(first.rule, rel, span.line, f"no keyword to add for {spec.kind} (set its pool in its URL)")
    new_code = replace_node(file.module, call, with_keywords(call, pairs)).code
    added = ", ".join(f"{k}={v}" for k, v in pairs)
    description = f"add {added} to `{spec.qualname}` ({ctx.plan.basis})"
    edits = line_edits(file.source, new_code, rule=first.rule, description=description, group=f"{rel}:{span.line}")
    ctx.claimed[(rel, span)] = first.rule
    return Proposal(first.rule, rel, span.line, description, {rel: tuple(edits)}, tuple(key_of(f) for f in findings))


FIXER = fix_pool_config
