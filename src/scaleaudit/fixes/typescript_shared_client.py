"""SA101 for TypeScript/JavaScript: one shared PrismaClient, imported everywhere.

What the review proposed, done mechanically:

* the shared module is the project's existing singleton when SA101 found one
  (the site others already import), else a new one following the project's
  convention: `src/lib/prisma.ts` when a `lib/` directory exists, else
  `src/utils/prisma.ts`; `.js` projects get the CommonJS or ESM form their
  sites use. It caches the client on `globalThis` outside production, so hot
  reload does not multiply it, and logs queries only in development;
* each site's `const db = new PrismaClient(...)` becomes an import of the
  shared client under the name the file used (`import { prisma as db } from
  "../lib/prisma"` or `const { prisma: db } = require("../lib/prisma")`), in
  place, so everything after it keeps working; the `PrismaClient` import is
  dropped when nothing else in the file uses it.

Sites whose constructor names a different database (`datasourceUrl`,
`datasources`) are never merged: SA101 groups by target, and such a site is
skipped with the reason. Per-site logging options are dropped (the shared
client logs errors everywhere and queries in development).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.writer import TextEdit, register_validator
from scaleaudit.model import Fact, Finding
from scaleaudit.typescript.parser import Node, object_keys, parse, text, unwrap

TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs")
_TARGET_KEYS = {"datasourceUrl", "datasources", "adapter"}


def parses(source: str, rel: str) -> str | None:
    """Validator: the rewritten file parses without tree-sitter error nodes."""
    tree = parse(rel, source.encode("utf-8"))
    if tree.root_node.has_error:
        return "rewritten code does not parse (tree-sitter reports a syntax error)"
    return None


for _suffix in (*TS_SUFFIXES, *JS_SUFFIXES):
    register_validator(_suffix, parses)


@dataclass(frozen=True)
class Shared:
    rel: str  # the module file
    name: str  # the exported binding
    created: str = ""  # the module's text when this run creates it
    default: bool = False  # exported only as the default export (`export default prisma`)
    commonjs: bool = False  # the module assigns `module.exports`


def _byte_to_char(data: bytes, offset: int) -> int:
    return len(data[:offset].decode("utf-8", "replace"))


def _statement(node: Node) -> Node | None:
    """The top-level `const x = new PrismaClient()` statement holding the construction."""
    current: Node | None = node
    while current is not None and current.parent is not None and current.parent.type != "program":
        current = current.parent
    if current is None or current.type not in ("lexical_declaration", "variable_declaration"):
        return None
    declarators = [c for c in current.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = unwrap(declarators[0].child_by_field_name("value"))
    return current if value is not None and value.id == node.id else None


def _construction_at(root: Node, data: bytes, line: int, column: int) -> Node | None:
    row = line - 1
    prefix = data.split(b"\n")[row].decode("utf-8", "replace")[: column - 1].encode("utf-8")
    start = sum(len(x) + 1 for x in data.split(b"\n")[:row]) + len(prefix)
    node = root.descendant_for_byte_range(start, start + 3)
    while node is not None and node.type != "new_expression":
        node = node.parent
    return node


def _is_commonjs(rel: str, data: bytes) -> bool:
    return rel.endswith(".cjs") or (
        rel.endswith(".js") and b"require(" in data and not re.search(rb"^\s*(import|export)\s", data, re.M)
    )


def _specifier(site: str, module: str) -> str:
    rel = posixpath.relpath(posixpath.splitext(module)[0], posixpath.dirname(site) or ".")
    rel = rel if rel.startswith(".") else "./" + rel
    return rel + ".js" if site.endswith(".mjs") else rel


def import_line(site: str, data: bytes, shared: Shared, local: str) -> str:
    spec = _specifier(site, shared.rel)
    if shared.default:
        if not _is_commonjs(site, data):
            return f"import {local} from '{spec}';"
        member = "" if shared.commonjs else ".default"  # an ES default export seen from CommonJS
        return f"const {local} = require('{spec}'){member};"
    if _is_commonjs(site, data):
        member = shared.name if shared.name == local else f"{shared.name}: {local}"
        return f"const {{ {member} }} = require('{spec}');"
    member = shared.name if shared.name == local else f"{shared.name} as {local}"
    return f"import {{ {member} }} from '{spec}';"


def _bound_names(stmt: Node) -> list[str]:
    """Names an import statement or `const {...} = require(...)` binds."""
    if stmt.type == "import_statement":
        clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
        names: list[str] = []
        for part in clause.named_children if clause is not None else ():
            if part.type == "identifier":
                names.append(text(part))
            elif part.type == "namespace_import":
                names.extend(text(c) for c in part.named_children if c.type == "identifier")
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type == "import_specifier":
                        names.append(text(spec.child_by_field_name("alias") or spec.child_by_field_name("name")))
        return names
    declarators = [c for c in stmt.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1 or b"require(" not in (declarators[0].text or b""):
        return []
    target = declarators[0].child_by_field_name("name")
    if target is not None and target.type == "identifier":
        return [text(target)]
    if target is not None and target.type == "object_pattern":
        return [text(c.child_by_field_name("value") or c) for c in target.named_children]
    return []


def _unused_import_edits(data: bytes, root: Node, removed: Node, name: str) -> list[TextEdit]:
    """Drop the statement that imported `name` when it binds nothing else and nothing else uses it."""
    rest = data[: removed.start_byte] + data[removed.end_byte :]
    if len(re.findall(rb"(?<![\w$.])" + re.escape(name.encode()) + rb"(?![\w$])", rest)) != 1:
        return []
    for stmt in root.named_children:
        if stmt.type not in ("import_statement", "lexical_declaration", "variable_declaration"):
            continue
        if _bound_names(stmt) == [name] and b"prisma" in (stmt.text or b""):
            end = stmt.end_byte + (1 if data[stmt.end_byte : stmt.end_byte + 1] == b"\n" else 0)
            start, stop = _byte_to_char(data, stmt.start_byte), _byte_to_char(data, end)
            return [TextEdit(start, stop, "", "SA101", f"drop the unused {name} import")]
    return []


def site_edits(ctx: FixContext, finding: Finding, shared: Shared) -> list[TextEdit] | str:
    """Edits turning one reported construction into an import of the shared client, or why not."""
    source = ctx.source(finding.path)
    data = source.text.encode("utf-8")
    tree = parse(finding.path, data)
    span = finding.location.span
    node = _construction_at(tree.root_node, data, span.line, span.column)
    if node is None:
        return "construction not found where it was reported"
    if set(_options(node)) & _TARGET_KEYS:
        return "this client names its own database (datasourceUrl/datasources/adapter); not merged"
    stmt = _statement(node)
    if stmt is None:
        return "not a plain `const x = new PrismaClient()` declaration at module level"
    declarator = next(c for c in stmt.named_children if c.type == "variable_declarator")
    local = text(declarator.child_by_field_name("name"))
    exported = stmt.parent is not None and stmt.parent.type == "export_statement"
    if exported or not re.fullmatch(r"[A-Za-z_$][\w$]*", local):
        return "the client is exported or destructured here; move it by hand"
    group = f"SA101:{finding.path}"
    line = import_line(finding.path, data, shared, local)
    description = f"import the shared client from {shared.rel}"
    callee = text(node.child_by_field_name("constructor")).split(".")[0]
    dropped = _unused_import_edits(data, tree.root_node, stmt, callee)
    if dropped:
        # the new import takes the old one's place, among the imports; the declaration goes
        old = dropped[0]
        newline = "\n" if source.text[old.start : old.end].endswith("\n") else ""
        stop = stmt.end_byte + (1 if data[stmt.end_byte : stmt.end_byte + 1] == b"\n" else 0)
        start, end = _byte_to_char(data, stmt.start_byte), _byte_to_char(data, stop)
        return [
            TextEdit(old.start, old.end, line + newline, "SA101", description, group),
            TextEdit(start, end, "", "SA101", f"drop this module's own PrismaClient ({local})", group),
        ]
    start, end = _byte_to_char(data, stmt.start_byte), _byte_to_char(data, stmt.end_byte)
    return [TextEdit(start, end, line, "SA101", description, group)]


def _options(node: Node) -> dict[str, Node]:
    args = node.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    return object_keys(first)


MODULE_TS = """\
// The one PrismaClient of this process (created by `scaleaudit fix`, rule SA101).
// It is cached on globalThis outside production so that hot reload does not
// open a new connection pool on every reload. Size the pool with
// connection_limit/pool_timeout on DATABASE_URL (SA104).
import {{ PrismaClient }} from '@prisma/client';

const globalForPrisma = globalThis as unknown as {{ {name}?: PrismaClient }};

export const {name} =
  globalForPrisma.{name} ??
  new PrismaClient({{ log: process.env.NODE_ENV === 'development' ? ['query', 'error', 'warn'] : ['error'] }});

if (process.env.NODE_ENV !== 'production') globalForPrisma.{name} = {name};

export default {name};
"""
MODULE_CJS = """\
// The one PrismaClient of this process (created by `scaleaudit fix`, rule SA101).
// It is cached on globalThis outside production so that hot reload does not
// open a new connection pool on every reload.
const {{ PrismaClient }} = require('@prisma/client');

const {name} =
  globalThis.{name} ??
  new PrismaClient({{ log: process.env.NODE_ENV === 'development' ? ['query', 'error', 'warn'] : ['error'] }});

if (process.env.NODE_ENV !== 'production') globalThis.{name} = {name};

module.exports = {{ {name} }};
"""


def _new_module(ctx: FixContext, sites: list[Finding]) -> Shared:
    scanned = {f.location.path for f in ctx.scan.facts} | {f.path for f in ctx.scan.findings}
    lib = next((d for d in ("src/lib", "lib", "src/utils", "utils") if any(p.startswith(d + "/") for p in scanned)), "")
    directory = lib or ("src/utils" if any(p.startswith("src/") for p in scanned) else "lib")
    if any(s.path.endswith(TS_SUFFIXES) for s in sites):
        rel, template = f"{directory}/prisma.ts", MODULE_TS
    else:
        cjs = sum(_is_commonjs(s.path, ctx.source(s.path).text.encode()) for s in sites) * 2 >= len(sites)
        rel, template = (f"{directory}/prisma.js", MODULE_CJS) if cjs else (f"{directory}/prisma.mjs", MODULE_TS)
    return Shared(rel, "prisma", template.format(name="prisma"))


def _shared_instance(ctx: FixContext, group: list[Finding]) -> Shared | str | None:
    """The project's existing singleton, how it is exported, or why it cannot be imported."""
    for finding in group:
        for related in finding.related:
            if related.note == "the shared instance":
                fact = _site_fact(ctx, related.path, related.span.line)
                binding = str(fact.get("binding")) if fact else ""
                if binding and binding != "default":
                    return exported_as(related.path, ctx.source(related.path).text, binding)
    return None


def exported_as(rel: str, source: str, binding: str) -> Shared | str:
    """How other modules can import `binding` from `rel`: by name (preferred) or as the default."""
    name = re.escape(binding)
    commonjs = re.search(r"\bmodule\.exports\s*=", source) is not None
    named = (
        rf"^\s*export\s+(?:const|let|var)\s+{name}\b",
        rf"^\s*export\s*\{{[^}}]*(?<![\w$]){name}\s*(?:,|\}})",
        rf"\bexports\.{name}\s*=",
        rf"\bmodule\.exports\s*=\s*\{{[^}}]*(?<![\w$:]){name}\s*[,}}]",
    )
    if any(re.search(pattern, source, re.M) for pattern in named):
        return Shared(rel, binding, commonjs=commonjs)
    default = (
        rf"^\s*export\s+default\s+{name}\s*;?\s*$",
        rf"^\s*export\s*\{{[^}}]*(?<![\w$]){name}\s+as\s+default\b",
        rf"\bmodule\.exports\s*=\s*{name}\s*;?\s*$",
    )
    if any(re.search(pattern, source, re.M) for pattern in default):
        return Shared(rel, binding, default=True, commonjs=commonjs)
    return f"the shared client `{binding}` in {rel} is not exported; export it, then import it by hand"


def _site_fact(ctx: FixContext, rel: str, line: int) -> Fact | None:
    return next(
        (
            f
            for f in ctx.scan.facts
            if f.kind == "client-site" and f.location.path == rel and f.location.span.line == line
        ),
        None,
    )


def fix_typescript_shared_clients(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    groups: dict[str, list[Finding]] = {}
    for finding in ctx.findings("SA101"):
        fact = _site_fact(ctx, finding.path, finding.line)
        if fact is None or fact.get("language") not in ("typescript", "javascript"):
            continue
        if fact.get("kind") != "prisma-client":
            continue  # only Prisma, the review's case, has a known shared-module shape
        groups.setdefault(str(fact.get("url")), []).append(finding)
    for _url, group in sorted(groups.items()):
        yield from _fix_group(ctx, sorted(group, key=key_of))


def _fix_group(ctx: FixContext, group: list[Finding]) -> Iterator[Proposal | Skipped]:
    shared = _shared_instance(ctx, group)
    if isinstance(shared, str):
        for finding in group:
            yield Skipped("SA101", finding.path, finding.line, shared)
        return
    if shared is None:
        shared = _new_module(ctx, group)
        if ctx.source(shared.rel).exists:
            yield Skipped(
                "SA101", group[0].path, group[0].line, f"{shared.rel} exists but holds no client; merge by hand"
            )
            return
    edits: dict[str, tuple[TextEdit, ...]] = {}
    resolves = []
    for finding in group:
        result = site_edits(ctx, finding, shared)
        if isinstance(result, str):
            yield Skipped("SA101", finding.path, finding.line, result)
            continue
        edits[finding.path] = tuple(result)
        resolves.append(key_of(finding))
    if not edits:
        return
    if shared.created:
        edits[shared.rel] = (TextEdit(0, 0, shared.created, "SA101", "create the shared client module"),)
    first = group[0]
    description = f"{len(resolves)} PrismaClient construction(s) now import `{shared.name}` from {shared.rel}"
    yield Proposal("SA101", first.path, first.line, description, edits, tuple(resolves))


FIXER = fix_typescript_shared_clients
PRIORITY = 20  # after Python's shared-client fix; before pool sizing (scaleaudit.fixes.api)
