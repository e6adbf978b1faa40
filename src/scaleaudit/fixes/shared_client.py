"""SA101 (and SA102 with --unsafe-fixes): one shared client per target.

For each group of import-time constructions of one client kind aimed at one
target (same URL, env var or expression), the fix makes one module hold the
client and every other site import it:

* it reuses the project's shared instance when SA101 found one (the site
  others already import; for a Redis `ConnectionPool` it is the client built
  on that pool), or creates one — `fix.shared-module` if configured, else
  `<package>/db.py` / `database.py` (SQL), `cache.py` (Redis), ... — built
  from the arguments the sites agree on, with the pool sized from the budget
  when SA103/SA105 fixes are on;
* each site's `engine = create_engine(...)` becomes
  `from app.db import engine` (aliased when the module used another name),
  placed after the module's imports and before any use, so decorators,
  default arguments, annotations and re-exports keep working untouched;
  imports the removed construction alone used are dropped;
* sites whose arguments differ (another pool size, `decode_responses=True`,
  async against sync) are not merged: each is reported with the reason.
  Pool-sizing and health keywords (`pool_recycle`, `pool_pre_ping`) a site
  adds are carried over to the shared client, which only hardens it.

With --unsafe-fixes, a client built per request (SA102) in a handler becomes
a use of the shared client — unsafe because the function may rely on its own
client's lifecycle; one that closes or disposes it is left alone.
"""

from __future__ import annotations

import builtins
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from posixpath import dirname

import libcst as cst

from scaleaudit.fixes.base import UNSAFE_REASON, FindingKey, FixContext, Proposal, Skipped
from scaleaudit.fixes.pool_config import pool_keywords
from scaleaudit.fixes.pysource import (
    PyFile,
    add_to_from_import,
    bound_name,
    drop_orphaned_imports,
    free_names,
    import_for,
    import_statement,
    insert_import,
    keyword_codes,
    load,
    remove_statements,
    with_keywords,
)
from scaleaudit.fixes.writer import SourceText, line_edits
from scaleaudit.model import Fact, Finding, Span
from scaleaudit.rulebook import ClientSpec

# Keyword values equal to the library's default: a site spelling them out is
# configured like one that does not.
DEFAULTS = {"echo": "False", "echo_pool": "False", "decode_responses": "False", "future": "True"}
URL_KEYWORDS = ("url", "dsn", "conninfo", "host", "datasource")
MODULE_NAMES = {
    "sql": ("db.py", "database.py"),
    "postgres": ("db.py", "database.py"),
    "redis": ("cache.py", "redis_client.py"),
    "mongodb": ("mongo.py",),
}
DEFAULT_BINDING = {"sqlalchemy-engine": "engine", "redis-client": "redis_client"}
# `client.close()`, `await client.aclose()`, `engine.dispose()`, `with client:` (closes on exit)
_CLOSES = r"\b{name}\s*\.\s*(?:a?close|dispose|disconnect|shutdown)\s*\(|\bwith\s+{name}\s*(?::|\bas\b|,)"


PRIORITY = 10  # see scaleaudit.fixes.api


def flavour(qualname: str) -> str:
    """Async and sync clients of one kind cannot stand in for each other."""
    last = qualname.lower()
    return "async" if "asyncio" in last or "async" in last.rsplit(".", 1)[-1] or ".aio" in last else "sync"


@dataclass
class Site:
    rel: str
    span: Span
    file: PyFile
    call: cst.Call
    spec: ClientSpec
    binding: str
    keywords: dict[str, str]
    finding: Finding | None  # None for the existing shared construction
    function_level: bool = False

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def rule(self) -> str:
        return self.finding.rule if self.finding else "SA101"


@dataclass
class Target:
    rel: str
    module: str
    name: str
    spec: ClientSpec
    keywords: dict[str, str]
    flavour: str
    site: Site | None = None  # the existing shared construction, when reused
    add: dict[str, str] = field(default_factory=dict)  # keywords carried over to it


def fix_shared_clients(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    reported = {(f.path, f.location.span): f for f in ctx.findings("SA101", "SA102")}
    groups: dict[tuple[str, str], list[Fact]] = {}
    for fact in ctx.scan.facts:
        if fact.kind != "client-site" or fact.get("language") != "python":
            continue
        if fact.get("scope") == "module" or (fact.location.path, fact.location.span) in reported:
            groups.setdefault((str(fact.get("kind")), str(fact.get("url"))), []).append(fact)
    for _key, facts in sorted(groups.items()):
        if any((f.location.path, f.location.span) in reported for f in facts):
            yield from _fix_group(ctx, facts, reported)


def _fix_group(
    ctx: FixContext, facts: list[Fact], reported: dict[tuple[str, Span], Finding]
) -> Iterator[Proposal | Skipped]:
    sites: list[Site] = []
    unreported = [f for f in facts if (f.location.path, f.location.span) not in reported and f.get("scope") == "module"]
    for fact in sorted(facts, key=lambda f: (f.location.path, f.location.span)):
        finding = reported.get((fact.location.path, fact.location.span))
        if finding is None:
            continue
        site = _site(ctx, fact, finding)
        if isinstance(site, Skipped):
            yield site
        else:
            sites.append(site)
    target = _existing_target(ctx, unreported) if len(unreported) == 1 else None
    if isinstance(target, Skipped):
        yield from (Skipped(s.rule, s.rel, s.line, target.reason) for s in sites)
        return
    if target is not None:
        inside = [s for s in sites if s.rel == target.rel]
        yield from (
            Skipped(s.rule, s.rel, s.line, "a second client inside the shared module: merge by hand") for s in inside
        )
        sites = [s for s in sites if s.rel != target.rel]
    merged, rejected = _agree(ctx, sites, target)
    yield from rejected
    if target is None:
        created = _new_target(ctx, [s for s in merged if not s.function_level])
        if isinstance(created, str):
            yield from (Skipped(s.rule, s.rel, s.line, created) for s in merged)
            return
        target = created
    if not merged:
        return
    made = _proposal(ctx, target, merged)
    yield from ([made] if isinstance(made, Proposal) else made)


# --- sites ----------------------------------------------------------------------


def _site(ctx: FixContext, fact: Fact, finding: Finding) -> Site | Skipped:
    rel, span = fact.location.path, fact.location.span
    file = load(ctx, rel)
    if isinstance(file, str):
        return Skipped(finding.rule, rel, span.line, file)
    call = file.call_at(span)
    qualname = file.imports.resolve(call.func) if call is not None else None
    spec = ctx.clients.get(qualname or "")
    if call is None or spec is None:
        return Skipped(finding.rule, rel, span.line, "the file changed since the scan: the call is not there any more")
    function_level = fact.get("scope") != "module"
    if function_level and not ctx.unsafe:
        return Skipped(finding.rule, rel, span.line, UNSAFE_REASON)
    reason = _unmovable(file, call, spec, function_level)
    if reason:
        return Skipped(finding.rule, rel, span.line, reason)
    binding = _binding(file, call, function_level)
    if not binding:
        return Skipped(finding.rule, rel, span.line, "the client is not assigned to a plain name; move it by hand")
    if not function_level and file.top_level_bindings(binding) > 1:
        return Skipped(finding.rule, rel, span.line, f"`{binding}` is bound more than once in this module")
    if function_level and re.search(_CLOSES.format(name=re.escape(binding)), _function_code(file, call)):
        return Skipped(
            finding.rule, rel, span.line, f"the code closes or disposes `{binding}`; a shared client must outlive it"
        )
    keywords = _config(file, call)
    return Site(rel, span, file, call, spec, binding, keywords, finding, function_level)


def _unmovable(file: PyFile, call: cst.Call, spec: ClientSpec, function_level: bool) -> str:
    if any(a.star for a in call.args):
        return "arguments are forwarded with */**: the configuration is not visible"
    positional = [a for a in call.args if a.keyword is None]
    allowed = 1 if spec.url_arg is not None else 0
    if len(positional) > allowed:
        return "positional arguments beyond the URL: merge by hand"
    return ""


def _binding(file: PyFile, call: cst.Call, function_level: bool) -> str:
    if not function_level:
        found = file.assignment_of(call)
        return found[1] if found else ""
    statement = _statement_of(file.module, call)
    return bound_name(statement.body[0], call) if statement is not None and len(statement.body) == 1 else ""


def _statement_of(module: cst.Module, call: cst.Call) -> cst.SimpleStatementLine | None:
    found: list[cst.SimpleStatementLine] = []

    class _Find(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            if any(bound_name(small, call) for small in node.body):
                found.append(node)
            return not found

    module.visit(_Find())
    return found[0] if found else None


def _function_code(file: PyFile, call: cst.Call) -> str:
    """Source of the innermost function around `call` (where its lifecycle is visible)."""
    stack: list[cst.FunctionDef] = []
    found: list[cst.FunctionDef] = []

    class _Find(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            stack.append(node)
            return not found

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            stack.pop()

        def visit_Call(self, node: cst.Call) -> bool:
            if node is call and stack:
                found.append(stack[-1])
            return not found

    file.module.visit(_Find())
    return file.code(found[0]) if found else file.source.text


def _config(file: PyFile, call: cst.Call) -> dict[str, str]:
    """The keywords that configure the client (URL and default-valued ones left out)."""
    return {k: v for k, v in keyword_codes(file, call).items() if k not in URL_KEYWORDS and DEFAULTS.get(k) != v}


# --- agreeing on one configuration ------------------------------------------


def _tunable(spec: ClientSpec) -> set[str]:
    """Keywords that size or harden the pool: carrying them over only helps."""
    return set(spec.pool_args) | set(spec.health_args)


def _agree(ctx: FixContext, sites: list[Site], target: Target | None) -> tuple[list[Site], list[Skipped]]:
    if not sites:
        return [], []
    if target is None:
        # No shared instance yet: the configuration most module-level sites share wins.
        module_sites = [s for s in sites if not s.function_level] or sites
        signature = Counter(_signature(s) for s in module_sites).most_common(1)[0][0]
        first = next(s for s in module_sites if _signature(s) == signature)
        base = {k: v for k, v in first.keywords.items() if k not in _tunable(first.spec)}
        reference = Target("", "", "", first.spec, base, flavour(first.spec.qualname))
    else:
        reference = target
    merged: list[Site] = []
    rejected: list[Skipped] = []
    for site in sites:
        reason = _disagreement(site, reference)
        if reason:
            rejected.append(Skipped(site.rule, site.rel, site.line, reason))
        else:
            merged.append(site)
            for k, v in site.keywords.items():
                if k not in reference.keywords:
                    reference.add.setdefault(k, v)
    if target is None:
        target_keywords = {**reference.keywords, **reference.add}
        reference.keywords, reference.add = target_keywords, {}
    return merged, rejected


def _signature(site: Site) -> tuple[str, tuple[tuple[str, str], ...]]:
    tunable = _tunable(site.spec)
    return flavour(site.spec.qualname), tuple(sorted((k, v) for k, v in site.keywords.items() if k not in tunable))


def _disagreement(site: Site, target: Target) -> str:
    if flavour(site.spec.qualname) != target.flavour:
        return f"{flavour(site.spec.qualname)} client; the shared one is {target.flavour}"
    tunable = _tunable(site.spec) | _tunable(target.spec)
    wanted = {**target.keywords, **target.add}
    for key, value in sorted(site.keywords.items()):
        if key in wanted and wanted[key] != value:
            return f"`{key}={value}` here, `{key}={wanted[key]}` in the shared client: merge by hand"
        if key not in wanted and key not in tunable:
            return f"`{key}={value}` here, not set on the shared client: a different configuration"
        if key not in wanted and not _is_literal(value):
            return f"`{key}={value}` is not a literal: carry it over by hand"
    for key, value in sorted(target.keywords.items()):
        if key not in site.keywords and key not in tunable:
            return f"the shared client sets `{key}={value}`, this site does not: a different configuration"
    return ""


def _is_literal(code: str) -> bool:
    try:
        node = cst.parse_expression(code)
    except cst.ParserSyntaxError:
        return False
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(node, cst.Name) and node.value in ("True", "False", "None")
    )


# --- the shared module ----------------------------------------------------------


def _existing_target(ctx: FixContext, unreported: list[Fact]) -> Target | Skipped | None:
    fact = unreported[0]
    rel = fact.location.path
    file = load(ctx, rel)
    if isinstance(file, str):
        return None
    call = file.call_at(fact.location.span)
    spec = ctx.clients.get(file.imports.resolve(call.func) or "") if call is not None else None
    if call is None or spec is None:
        return None
    name = str(fact.get("binding") or "")
    client_spec = spec
    if not spec.shares_pool and "ConnectionPool" in spec.qualname and name:
        found = _client_on_pool(ctx, file, name)
        if found is None:
            return Skipped("SA101", rel, fact.location.span.line, f"`{rel}` holds a pool, not a client built on it")
        name, client_spec = found
    if not name:
        return None
    target = Target(rel, file.name, name, client_spec, _config(file, call), flavour(client_spec.qualname))
    target.site = Site(rel, fact.location.span, file, call, spec, name, target.keywords, None)
    return target


def _client_on_pool(ctx: FixContext, file: PyFile, pool: str) -> tuple[str, ClientSpec] | None:
    """`cache = redis.Redis(connection_pool=pool)` in the shared module -> ("cache", spec)."""
    for stmt in file.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
        if not isinstance(value, cst.Call):
            continue
        spec = ctx.clients.get(file.imports.resolve(value.func) or "")
        name = bound_name(small, value)
        if spec is None or not spec.shares_pool or not name:
            continue
        handed = next((a.value for a in value.args if a.keyword and a.keyword.value == spec.shares_pool), None)
        if isinstance(handed, cst.Name) and handed.value == pool:
            return name, spec
    return None


def _new_target(ctx: FixContext, sites: list[Site]) -> Target | str:
    if len({s.rel for s in sites}) < 2:
        return "no two modules agree on this client's arguments: nothing to share"
    first = sites[0]
    rel = _shared_path(ctx, sites, first.spec.service)
    if rel is None:
        return "no free module name for the shared client: set `fix.shared-module`"
    names = Counter(s.binding for s in sites).most_common()
    name = names[0][0] if names else DEFAULT_BINDING.get(first.spec.kind, "client")
    module = ctx.module_name(rel)
    return Target(rel, module, name, first.spec, dict(first.keywords), flavour(first.spec.qualname))


def _shared_path(ctx: FixContext, sites: Sequence[Site], service: str) -> str | None:
    configured = ctx.settings.fix.shared_module
    if configured:
        return configured if configured.endswith(".py") else configured.replace(".", "/") + ".py"
    packages = Counter(_top_package(ctx, s.rel) for s in sites)
    package = packages.most_common(1)[0][0]
    for name in (*MODULE_NAMES.get(service, ()), "clients.py", "shared_clients.py"):
        rel = f"{package}/{name}" if package else name
        if not (ctx.root / rel).exists():
            return rel
    return None


def _top_package(ctx: FixContext, rel: str) -> str:
    parts = dirname(rel).split("/") if dirname(rel) else []
    for depth in range(1, len(parts) + 1):
        candidate = "/".join(parts[:depth])
        if (ctx.root / candidate / "__init__.py").is_file():
            return candidate
    return dirname(rel)


def _new_module_text(ctx: FixContext, target: Target, first: Site) -> str | None:
    """The shared module's source; None when the construction needs a name local to a site."""
    call = _shared_call(ctx, target, first)
    imports: set[str] = set()
    for name in sorted(free_names(call)):
        qualname = first.file.imports.bindings.get(name)
        if qualname is None:
            if hasattr(builtins, name):
                continue
            return None
        imports.add(import_for(name, qualname))
    body = first.file.code(call)
    if len(body) > 90 and call.args:
        body = _vertical(first.file, call)
    docstring = f'"""The shared {first.spec.library} client: one pool per process (written by `scaleaudit fix`)."""'
    top = target.module.split(".")[0]
    local = sorted((line for line in imports if line.split()[1].split(".")[0] == top), key=_import_order)
    others = sorted((line for line in imports if line.split()[1].split(".")[0] != top), key=_import_order)
    blocks = [block for block in ("\n".join(others), "\n".join(local)) if block]
    return "\n\n".join([docstring, *blocks, f"{target.name} = {body}"]) + "\n"


def _import_order(line: str) -> tuple[str, bool]:
    """isort's order within a group: by module name, `import x` before `from x import`."""
    return line.split()[1], line.startswith("from")


def _shared_call(ctx: FixContext, target: Target, first: Site) -> cst.Call:
    url = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in first.call.args if a.keyword is None]
    url_kw = [a for a in first.call.args if a.keyword is not None and a.keyword.value in URL_KEYWORDS]
    bare = first.call.with_changes(args=[*url, *url_kw], whitespace_before_args=cst.SimpleWhitespace(""))
    bare = bare.with_changes(args=[a.with_changes(whitespace_after_arg=cst.SimpleWhitespace("")) for a in bare.args])
    pairs = list(target.keywords.items())
    pairs += pool_keywords(first.spec, set(target.keywords), ctx.plan, ctx.enabled)
    return with_keywords(bare, pairs)


def _vertical(file: PyFile, call: cst.Call) -> str:
    parts = [" ".join(file.code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)).split()) for a in call.args]
    return file.code(call.func) + "(\n" + "".join(f"    {p},\n" for p in parts) + ")"


# --- the proposal -----------------------------------------------------------------


def _proposal(ctx: FixContext, target: Target, merged: list[Site]) -> Proposal | list[Skipped]:
    first = merged[0]
    edits: dict[str, list[tuple[str, SourceText]]] = {}
    resolves: list[FindingKey] = []
    group = f"SA101:{target.module}.{target.name}"
    if target.site is None:
        text = _new_module_text(ctx, target, next((s for s in merged if not s.function_level), first))
        if text is None:
            reason = "the client's arguments use names local to the module"
            return [Skipped(s.rule, s.rel, s.line, reason) for s in merged]
        source = ctx.source(target.rel)
        if source.exists:
            text = source.text.rstrip("\n") + "\n\n\n" + text.split("\n", 2)[2]
        edits[target.rel] = [(text, source)]
    by_file: dict[str, list[Site]] = {}
    for site in merged:
        by_file.setdefault(site.rel, []).append(site)
    extend = _target_extension(ctx, target)
    if target.site is not None and extend and target.rel not in by_file:
        by_file[target.rel] = []
    for rel, sites in sorted(by_file.items()):
        file = sites[0].file if sites else target.site.file  # type: ignore[union-attr]
        new = _rewrite_file(file, sites, target, extend if target.site and target.site.rel == rel else [])
        edits[rel] = [(new, file.source)]
    for site in merged:
        resolves += [(r, site.rel, site.line) for r in ("SA101", "SA102", "SA103", "SA105")]
        ctx.claimed[(site.rel, site.span)] = "SA101"
    if target.site is not None and extend:
        ctx.claimed[(target.rel, target.site.span)] = "SA101"
        resolves += [(r, target.rel, target.site.line) for r in ("SA103", "SA105")]
    where = f"`{target.module}.{target.name}`" + ("" if target.site else f" (new module {target.rel})")
    description = f"use the shared client {where} in {len({s.rel for s in merged})} module(s)"
    text_edits = {
        rel: tuple(
            e
            for new, source in pairs
            for e in line_edits(source, new, rule="SA101", description=description, group=group)
        )
        for rel, pairs in edits.items()
    }
    return Proposal(first.rule, first.rel, first.line, description, text_edits, tuple(resolves))


def _target_extension(ctx: FixContext, target: Target) -> list[tuple[str, str]]:
    if target.site is None:
        return []
    present = set(keyword_codes(target.site.file, target.site.call))
    pairs = [(k, v) for k, v in target.add.items() if k not in present]
    spec = target.site.spec
    pairs += [
        p for p in pool_keywords(spec, present | {k for k, _ in pairs}, ctx.plan, ctx.enabled) if p[0] not in present
    ]
    return pairs


class _Rewrite(cst.CSTTransformer):
    """Rewrites function-level sites and extends the shared call, by node identity."""

    def __init__(self, replace: dict[int, cst.BaseStatement | None], extend: dict[int, list[tuple[str, str]]]) -> None:
        super().__init__()
        self.replace = replace
        self.extend = extend

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        if id(original) not in self.replace:
            return updated
        new = self.replace[id(original)]
        return cst.RemovalSentinel.REMOVE if new is None else new.with_changes(leading_lines=original.leading_lines)

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if updated.body:
            return updated
        return updated.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        pairs = self.extend.get(id(original))
        return with_keywords(updated, pairs) if pairs else updated


def _rewrite_file(file: PyFile, sites: list[Site], target: Target, extend: list[tuple[str, str]]) -> str:
    """One file's new text: sites gone or pointing at the shared client, its import added,
    imports only the old construction used removed."""
    module = file.module
    top_level = [s for s in sites if not s.function_level]
    # The name the module sees the shared client under (function-level sites reuse it).
    import_as = top_level[0].binding if top_level else target.name
    if not top_level and file.top_level_bindings(target.name):
        import_as = f"shared_{target.name}"
    removed: set[int] = set()
    aliases: dict[int, cst.SimpleStatementLine] = {}
    replace: dict[int, cst.BaseStatement | None] = {}
    first_index = len(module.body)
    for site in sites:
        statement = _statement_of(module, site.call)
        if statement is None:
            continue
        index = _top_index(module, statement)
        first_index = min(first_index, index)
        rebind = _rebind(site.binding, import_as, statement.leading_lines)
        if not site.function_level and rebind is None:
            removed.add(index)
        elif not site.function_level and rebind is not None:
            aliases[index] = rebind  # a second name for the same client in one module
        else:
            replace[id(statement)] = rebind
    body = [aliases.get(i, stmt) for i, stmt in enumerate(module.body)]
    rewritten = remove_statements(module.with_changes(body=body), removed)
    extend_map = {id(target.site.call): extend} if extend and target.site is not None else {}
    if replace or extend_map:
        visited = rewritten.visit(_Rewrite(replace, extend_map))
        assert isinstance(visited, cst.Module)
        rewritten = visited
    if sites and target.rel != file.source.rel:
        before = first_index - sum(1 for i in removed if i < first_index)
        rewritten = _add_import(rewritten, target, import_as, before)
    keep = {import_as, *(s.binding for s in sites)}
    return drop_orphaned_imports(module, rewritten, keep=keep).code


def _rebind(name: str, shared: str, leading: Sequence[cst.EmptyLine]) -> cst.SimpleStatementLine | None:
    """`name = shared` where a site used another name than the shared import; None if the same."""
    if name == shared:
        return None
    return cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(name))], cst.Name(shared))], leading_lines=leading
    )


def _top_index(module: cst.Module, statement: cst.CSTNode) -> int:
    for index, top in enumerate(module.body):
        if top is statement or _contains(top, statement):
            return index
    return len(module.body)


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    found: list[bool] = []

    class _Find(cst.CSTVisitor):
        def on_visit(self, inner: cst.CSTNode) -> bool:
            if inner is node:
                found.append(True)
            return not found

    tree.visit(_Find())
    return bool(found)


def _add_import(module: cst.Module, target: Target, import_as: str, before: int) -> cst.Module:
    extended = add_to_from_import(module, target.module, target.name, import_as)
    if extended is not None:
        return extended
    return insert_import(module, import_statement(target.module, target.name, import_as), before, target.module)


FIXER = fix_shared_clients
