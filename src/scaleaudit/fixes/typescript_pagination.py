"""SA311 (unsafe): page a Prisma `findMany` from the request's query string.

Where the call sits in an Express-style handler whose request parameter we can
name — `(req, res)`, `(req: Request, res: Response, next)`, the callback of
`router.get(...)`, or a controller function that a route registers — two
declarations go before the statement holding the call, and the call gets
`take, skip`:

    const take = Math.min(Math.max(parseInt(String(req.query.limit), 10) || 50, 1), 200);
    const skip = Math.max(parseInt(String(req.query.offset), 10) || 0, 0);
    const posts = await prisma.post.findMany({ where: { published: true }, take, skip });

`?limit=` and `?offset=` are the names the FastAPI fix uses. The clamps are
not decoration: Prisma reads a negative `take` as "the last n rows", so
`?limit=-100000` would get round a plain `Math.min` cap, and a fractional or
negative value fails Prisma's validation (a 500); `parseInt` drops fractions.

Only rows that go out as the response (`res.json(rows)`, mapped first, or
returned) are paged. Everything else is skipped with the edit to make by hand:
a function that is not a handler (a service called by one: the request is not
here, and guessing where it is would be wrong); a handler that also writes
(found on a real app: the cart items an order is built from, before the cart
is deleted — paging them would drop items from the order); rows that are summed
or only checked; a handler that already reads a paging parameter
(`req.query.page`, ...: one API, one paging scheme); two unbounded lists in one
handler (which one `?limit=` pages is a design decision); options that are not
an object literal; a call in an arrow function's expression body; Fastify,
hapi, Koa and Fetch API (`Request`, Next.js route handlers) requests, which
have no `req.query`. Unsafe: clients that expected every row now get the
first page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT  # every pagination fix's (why: there)
from scaleaudit.fixes.typescript_shared_client import parses as parses  # registers the .ts/.js validator
from scaleaudit.fixes.writer import SourceText, TextEdit
from scaleaudit.model import Fact, Finding
from scaleaudit.typescript.context import REQ_NAMES, ROUTE_METHODS
from scaleaudit.typescript.parser import FUNCTIONS, Node, ancestors, call_args, parse, text, unwrap
from scaleaudit.typescript.prisma import match_query

TAKE = "Math.min(Math.max(parseInt(String({req}.query.limit), 10) || {default}, 1), {max})"
SKIP = "Math.max(parseInt(String({req}.query.offset), 10) || 0, 0)"
# Local names tried in order (a name the handler already uses is never shadowed).
TAKE_NAMES = ("take", "limit", "pageTake")
SKIP_NAMES = ("skip", "offset", "pageSkip")
# Request fields that mean the handler pages already, by some scheme of its own.
PAGING_FIELDS = frozenset(
    {"limit", "offset", "page", "take", "skip", "cursor", "perPage", "per_page", "pageSize", "page_size", "size"}
)
# Express's response parameter (Fastify's `reply` and hapi's `h` are other frameworks,
# whose `request.query` is typed differently).
RES_NAMES = frozenset({"res", "response", "_res", "_response"})
OTHER_FRAMEWORKS = re.compile(rb"""(?:from\s+|require\(\s*)['"](fastify|@hapi/hapi|koa|next/server)['"]""")
# Calls that write: a handler making them is not a list endpoint, and what it reads it writes.
WRITES = re.compile(
    r"\.\s*(?:create|createMany|update|updateMany|upsert|delete|deleteMany|\$transaction|\$executeRaw\w*)\s*[(<]"
)
# Response methods that send what they are given.
_SENDS = frozenset({"json", "send", "jsonp", "render", "write", "end"})
# A `Request` type imported from somewhere (Express's); unimported, it is the Fetch API's, which has no `.query`.
_IMPORTED_REQUEST = re.compile(rb"\bimport\b[^;]*\bRequest\b[^;]*\bfrom\b")
_DECLARATION_WRAPPERS = frozenset(
    {"variable_declarator", "lexical_declaration", "variable_declaration", "export_statement"}
)
# Characters a statement may start with that would continue an unterminated line.
_ASI_HAZARDS = ("(", "[", "`", "+", "-", "/")


def _take_expr(req: str) -> str:
    return TAKE.format(req=req, default=DEFAULT_LIMIT, max=MAX_LIMIT)


def _skip_expr(req: str) -> str:
    return SKIP.format(req=req)


def suggestion(req: str = "req") -> str:
    """The edit to make by hand, spelled out (the reason of every Skipped)."""
    return (
        f"`const take = {_take_expr(req)}; const skip = {_skip_expr(req)};` "
        "in the handler, and `take, skip` in the findMany options"
    )


@dataclass(frozen=True)
class Site:
    """One reported findMany in the file as read."""

    finding: Finding
    call: Node
    function: Node | None


@dataclass(frozen=True)
class File:
    source: SourceText
    data: bytes
    root: Node

    def char(self, byte: int) -> int:
        return len(self.data[:byte].decode("utf-8", "replace"))

    def line_prefix(self, node: Node) -> str:
        start = self.data.rfind(b"\n", 0, node.start_byte) + 1
        return self.data[start : node.start_byte].decode("utf-8", "replace")


def fix_typescript_pagination(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    by_path: dict[str, list[Finding]] = {}
    for finding in ctx.findings("SA311"):
        by_path.setdefault(finding.path, []).append(finding)
    for rel, findings in sorted(by_path.items()):
        yield from _fix_file(ctx, rel, sorted(findings, key=key_of))


def _fix_file(ctx: FixContext, rel: str, findings: list[Finding]) -> Iterator[Proposal | Skipped]:
    source = ctx.source(rel)
    data = source.text.encode("utf-8")
    file = File(source, data, parse(rel, data).root_node)
    sites: list[Site] = []
    for finding in findings:
        call = call_at(file, finding)
        if call is None:
            yield Skipped("SA311", rel, finding.line, "findMany call not found where it was reported")
            continue
        function = next((a for a in ancestors(call) if a.type in FUNCTIONS), None)
        sites.append(Site(finding, call, function))
    per_function: dict[int, int] = {}
    for site in sites:
        if site.function is not None:
            per_function[site.function.id] = per_function.get(site.function.id, 0) + 1
    for site in sites:
        crowded = site.function is not None and per_function[site.function.id] > 1
        result = _site_edits(ctx, file, site, crowded)
        if isinstance(result, str):
            yield Skipped("SA311", rel, site.finding.line, result)
            continue
        description = (
            f"page `{site.finding.anchor or 'findMany'}` from `?limit=` (default {DEFAULT_LIMIT}, "
            f"at most {MAX_LIMIT}) and `?offset=`; clients that read the whole list now get the first page"
        )
        yield Proposal("SA311", rel, site.finding.line, description, {rel: tuple(result)}, (key_of(site.finding),))


def call_at(file: File, finding: Finding, methods: frozenset[str] = frozenset({"findMany"})) -> Node | None:
    """The Prisma query call (one of `methods`) that starts where `finding` was reported."""
    span = finding.location.span
    start = len(file.source.text[: file.source.offset(span.line, span.column - 1)].encode("utf-8"))
    node: Node | None = file.root.descendant_for_byte_range(start, start + 1)
    while node is not None and not (node.type == "call_expression" and node.start_byte == start):
        node = node.parent
    if node is None or match_query(node, methods) is None:
        return None
    return node


def _site_edits(ctx: FixContext, file: File, site: Site, crowded: bool) -> list[TextEdit] | str:
    fn = site.function
    handler = _handler(ctx, file, fn) if fn is not None else None
    if fn is None or handler is None:
        return (
            "not in an Express-style handler (`(req, res)`, a route callback, a controller a route registers), "
            "so where the request is is not known here: have the function that has it pass `{ take, skip }` "
            f"down to this findMany, computed there: {suggestion()}"
        )
    if handler.problem:
        return handler.problem
    req = handler.request
    body = fn.child_by_field_name("body")
    hidden = declared_again(body, req, site.call) if body is not None else None
    if hidden is not None:
        return (
            f"`{req}` is declared again inside the handler (line {hidden.start_point[0] + 1}), so `{req}.query` "
            f"there is not the request's: rename that one, then {suggestion(req)}"
        )
    paging = _paging_read(text(body), req)
    if paging:
        return f"the handler already reads {paging}: pass this page to findMany as `take`/`skip` by hand"
    writes = WRITES.search(text(body))
    if writes:
        return (
            f"the handler also writes (`{writes.group(0).strip()}...`): paging a read that feeds a write changes what "
            f"is written (e.g. an order of only the first {DEFAULT_LIMIT} cart items); only if it is a list for the "
            f"response, {suggestion(req)}"
        )
    unsent = _not_sent(fn, site.call, handler.response)
    if unsent:
        return f"{unsent}; page it by hand if it is the list the response shows: {suggestion(req)}"
    if crowded:
        return f"this handler has several unbounded findMany calls; choose the one `?limit=` pages: {suggestion(req)}"
    if body is None or body.type != "statement_block":
        return f"in an arrow function's expression body: give it a block body, then {suggestion(req)}"
    options = _options(site.call)
    if isinstance(options, str):
        return f"{options} {suggestion(req)}"
    names = _free_names(text(fn))
    if names is None:
        return f"`take`, `limit` and `pageTake` (or the skip names) are all used in this handler: {suggestion(req)}"
    group = _group(file, site.call)
    declarations = _declarations(file, _statement(site.call, body), names, req, group)
    return [declarations, *_argument_edits(file, site.call, options, names, group)]


@dataclass(frozen=True)
class Handler:
    request: str  # the request parameter's name
    response: str = ""  # the response parameter's name ("" when destructured)
    problem: str = ""  # why it cannot be used, with the edit to make


def _handler(ctx: FixContext, file: File, fn: Node) -> Handler | None:
    """The request parameter when `fn` is an Express-style handler; None when it is not one."""
    params = _params(fn)
    other = OTHER_FRAMEWORKS.search(file.data)
    if other:
        framework = other.group(1).decode()
        problem = f"a {framework} app: only Express-style handlers are fixed; read the page from its query object "
        return Handler("", problem=problem + f"the same way: {suggestion()}")
    if _route_callback(fn):
        if len(params) not in (2, 3):
            return None  # `(err, req, res, next)` is error middleware; one parameter is not Express
    elif not (len(params) >= 2 and _names_request(params[0]) and _names_response(params[1])) and not (
        len(params) in (2, 3) and _registered_as_route(ctx, file, fn)
    ):
        return None
    if _param_name(params[1]) in ("reply", "h"):
        return None
    name = _param_name(params[0])
    if _fetch_request(file, params[0]):
        where = f"`new URL({name or 'req'}.url).searchParams`"
        return Handler("", problem=f"the request is a Fetch API `Request` (no `.query`): read the page from {where} "
                       f"the same way: {suggestion()}")  # fmt: skip
    if name is None:
        return Handler("", problem=f"the request parameter is destructured; name it (`req`) and then {suggestion()}")
    query = _query_type(params[0])
    if query:
        return Handler("", problem=f"the request's query is typed (`{query}`) without `limit` and `offset`, so "
                       f"`{name}.query.limit` fails tsc: add `limit?: string; offset?: string` to it, then "
                       f"{suggestion(name)}")  # fmt: skip
    return Handler(name, _param_name(params[1]) or "")


def _query_type(param: Node) -> str:
    """The query type of `Request<Params, ResBody, ReqBody, Query>` when it names no `limit` and `offset`."""
    annotation = param.child_by_field_name("type")
    generic = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    arguments = next((c for c in generic.named_children if c.type == "type_arguments"), None) if generic else None
    types = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
    if len(types) < 4 or text(types[3]) == "any":
        return ""
    query = text(types[3])
    return "" if re.search(r"\blimit\b", query) and re.search(r"\boffset\b", query) else query


def _params(fn: Node) -> list[Node]:
    single = fn.child_by_field_name("parameter")  # `req => ...`
    if single is not None:
        return [single]
    params = fn.child_by_field_name("parameters")
    return [p for p in (params.named_children if params is not None else []) if p.type != "comment"]


def _param_name(param: Node) -> str | None:
    pattern = param.child_by_field_name("pattern") if param.type.endswith("_parameter") else param
    if pattern is not None and pattern.type == "assignment_pattern":
        pattern = pattern.child_by_field_name("left")
    return text(pattern) if pattern is not None and pattern.type == "identifier" else None


def _param_type(param: Node) -> str:
    annotation = param.child_by_field_name("type")
    return text(annotation).lstrip(":").strip() if annotation is not None else ""


def _fetch_request(file: File, param: Node) -> bool:
    kind = _param_type(param).split("<")[0].strip()
    return kind == "NextRequest" or (kind == "Request" and not _IMPORTED_REQUEST.search(file.data))


def _names_request(param: Node) -> bool:
    kind = _param_type(param).split("<")[0]
    return _param_name(param) in REQ_NAMES or kind.endswith("Request")


def _names_response(param: Node) -> bool:
    kind = _param_type(param).split("<")[0]
    return _param_name(param) in RES_NAMES or kind.endswith("Response")


def _route_callback(fn: Node) -> bool:
    """`router.get('/x', auth, async (req, res) => ...)`."""
    parent = fn.parent
    call = parent.parent if parent is not None and parent.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    return (
        callee is not None
        and callee.type == "member_expression"
        and (text(callee.child_by_field_name("property")) in ROUTE_METHODS)
    )


def _module_level_name(fn: Node) -> str:
    """What a module-level function is bound to (`function f`, `const f =`, `exports.f =`); "" otherwise."""
    name, node = text(fn.child_by_field_name("name")), fn.parent
    left = node.child_by_field_name("left") if node is not None and node.type == "assignment_expression" else None
    if node is not None and node.type == "variable_declarator":
        name, node = text(node.child_by_field_name("name")), node.parent
    elif node is not None and left is not None and left.type == "member_expression":
        name, node = text(left.child_by_field_name("property")), node.parent  # `exports.list = ...`
    while node is not None and node.type in _DECLARATION_WRAPPERS:
        node = node.parent
    return name if node is not None and node.type == "program" else ""


def _registered_as_route(ctx: FixContext, file: File, fn: Node) -> bool:
    """A module-level function passed to `router.get(...)` here or in a file importing it."""
    name = _module_level_name(fn)
    if not name:
        return False
    module = file.source.rel.rsplit(".", 1)[0]
    pattern = re.compile(
        r"\.(?:" + "|".join(sorted(ROUTE_METHODS)) + r")\s*\([^;]*?(?<![\w$])(?:[\w$]+\.)?"
        + re.escape(name) + r"(?![\w$])"
    )  # fmt: skip
    if pattern.search(file.source.text):
        return True
    importers = (f.location.path for f in ctx.scan.facts if f.kind == "module-imports" and _imports(f, module, name))
    return any(pattern.search(ctx.source(rel).text) for rel in importers)


def _imports(fact: Fact, module: str, name: str) -> bool:
    return any(m == module and n in (name, "*", "default") for m, n in fact.get("imports") or [])


def _paging_read(body: str, req: str) -> str:
    """`req.query.page`, `req.query?.limit`, `req.body['limit']`, `const { page } = req.query` (or
    `= schema.parse(req.query)`, one statement reading it, or any of these through
    `const q = req.query`): the first one found, in backticks, as the skip reason shows it."""
    name = re.escape(req)
    fields = "|".join(sorted(PAGING_FIELDS))
    source = rf"(?<![\w$.]){name}\s*\??\.\s*(query|body|params)"
    direct = re.search(rf"{source}\s*(?:\??\.\s*|(?:\?\.)?\[\s*['\"])({fields})(?![\w$])", body)
    if direct:
        return f"`{req}.{direct.group(1)}.{direct.group(2)}`"
    for match in re.finditer(rf"\{{([^{{}}]*)\}}\s*=\s*[^;{{}}]*?{source}\b", body):
        found = re.search(rf"(?<![\w$])({fields})(?![\w$])", match.group(1))
        if found:
            return f"`{req}.{match.group(2)}.{found.group(1)}`"
    # `const q = req.query; ... q.limit`: the same reads, through the alias
    alias = rf"(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]+)?=\s*{source}\b(?!\s*\??\.|\s*\[)"
    for match in re.finditer(alias, body):
        name, part = re.escape(match.group(1)), match.group(2)
        via = re.search(rf"(?<![\w$.]){name}\s*(?:\??\.\s*|(?:\?\.)?\[\s*['\"])({fields})(?![\w$])", body)
        via = via or re.search(rf"\{{[^{{}}]*?(?<![\w$])({fields})(?![\w$])[^{{}}]*\}}\s*=\s*{name}\b", body)
        if via:
            return f"`{req}.{part}.{via.group(1)}` (through `{match.group(1)}`)"
    return ""


def _not_sent(fn: Node, call: Node, response: str) -> str:
    """Why the rows do not look like the response ("" when they are sent, or returned).

    Paging changes what a handler computes from the rows (a total, a check over all of
    them), so the fix is for rows that go out as they are, or mapped: `res.json(posts)`,
    `res.json({ posts })`, `const out = posts.map(...); res.json(out)`, `return posts`.
    """
    sinks = [n for n in descendants(fn) if _is_sink(n, fn, response)]
    if any(s.start_byte <= call.start_byte and call.end_byte <= s.end_byte for s in sinks):
        return ""
    names = _derived_names(fn, call)
    if not names:
        return "the rows are not assigned to a variable the response uses"
    if any(re.search(rf"(?<![\w$.]){re.escape(n)}\s*\.\s*reduce\s*\(", text(fn)) for n in names):
        return "the rows are summed up (`.reduce`): a page would change the total"
    if any(_mentions(text(s), names) for s in sinks):
        return ""
    return f"`{sorted(names)[0]}` does not reach `{response or 'res'}.json()` or a return"


def descendants(node: Node) -> Iterator[Node]:
    for child in node.named_children:
        yield child
        yield from descendants(child)


# Pattern nodes a declared name sits in (`{ a, b: [c] }`), with the field that binds when there is one
# (`{ a = req }` binds `a`, and only reads `req`).
_PATTERNS = {"object_pattern": "", "array_pattern": "", "rest_pattern": "", "pair_pattern": "value",
             "object_assignment_pattern": "left", "assignment_pattern": "left"}  # fmt: skip
# What declares a name, and the field holding it ("": any child, JavaScript's bare parameters).
_DECLARES = {"variable_declarator": "name", "for_in_statement": "left", "catch_clause": "parameter",
             "required_parameter": "pattern", "optional_parameter": "pattern", "formal_parameters": "",
             "arrow_function": "parameter", "function_declaration": "name", "class_declaration": "name",
             "generator_function_declaration": "name"}  # fmt: skip
_PARAMETERS = frozenset({"required_parameter", "optional_parameter", "formal_parameters", "arrow_function"})


def declared_again(scope: Node, name: str, at: Node) -> Node | None:
    """A declaration of `name` inside `scope` that may hide the outer one where `at` is: any
    variable, loop or catch variable, function or class of that name, and the parameters of
    a function around `at` (a callback elsewhere with a parameter of that name hides nothing at `at`)."""
    for node in descendants(scope):
        if node.type not in ("identifier", "shorthand_property_identifier_pattern") or text(node) != name:
            continue
        child, parent = node, node.parent
        while parent is not None and parent.type in _PATTERNS and _holds(parent, _PATTERNS[parent.type], child):
            child, parent = parent, parent.parent
        if parent is None or parent.type not in _DECLARES or not _holds(parent, _DECLARES[parent.type], child):
            continue
        function = parent.parent if parent.type in ("required_parameter", "optional_parameter") else parent
        function = function.parent if function is not None and function.type == "formal_parameters" else function
        if parent.type in _PARAMETERS and function is not None and not _within(at, function):
            continue
        return node
    return None


def _holds(parent: Node, field: str, child: Node) -> bool:
    held = parent.child_by_field_name(field) if field else child
    return held is not None and held.id == child.id


def _within(inner: Node, outer: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _is_sink(node: Node, fn: Node, response: str) -> bool:
    """The arguments of `res.json(...)` (also `res.status(200).json`), or a `return` of the handler itself."""
    if node.type == "return_statement":
        return next((a for a in ancestors(node) if a.type in FUNCTIONS), None) == fn
    if node.type != "call_expression" or not response:
        return False
    callee = node.child_by_field_name("function")
    if (
        callee is None
        or callee.type != "member_expression"
        or text(callee.child_by_field_name("property")) not in _SENDS
    ):
        return False
    root = unwrap(callee.child_by_field_name("object"))
    while root is not None and root.type in ("member_expression", "call_expression"):
        root = unwrap(root.child_by_field_name("object" if root.type == "member_expression" else "function"))
    return root is not None and text(root) == response


def _derived_names(fn: Node, call: Node) -> set[str]:
    """The variable the rows are assigned to, and variables computed from it (`const out = rows.map(...)`)."""
    declarators = [n for n in descendants(fn) if n.type == "variable_declarator"]
    names: set[str] = set()
    changed = True
    while changed:
        changed = False
        for declarator in declarators:
            value, target = declarator.child_by_field_name("value"), declarator.child_by_field_name("name")
            if value is None or target is None:
                continue
            holds = value.start_byte <= call.start_byte and call.end_byte <= value.end_byte
            bound = {
                text(n)
                for n in [target, *descendants(target)]
                if n.type in ("identifier", "shorthand_property_identifier_pattern")
            }
            if (holds or _mentions(text(value), names)) and not bound <= names:
                names |= bound
                changed = True
    return names


def _mentions(code: str, names: set[str]) -> bool:
    # `{ ok: true }` names a key, not the variable `ok`
    return any(re.search(rf"(?<![\w$.]){re.escape(n)}(?![\w$])(?!\s*:(?!:))", code) for n in names)


def _statement(call: Node, body: Node) -> Node:
    """The statement of the handler's block (or a nested block) that holds the call."""
    node = call
    while node.parent is not None and node.parent.type != "statement_block":
        node = node.parent
    return node if node.parent is not None else body


def _free_names(function_text: str) -> tuple[str, str] | None:
    def used(name: str) -> bool:
        return re.search(rf"(?<![\w$.]){name}(?![\w$])", function_text) is not None

    take = next((n for n in TAKE_NAMES if not used(n)), None)
    skip = next((n for n in SKIP_NAMES if not used(n)), None)
    return (take, skip) if take and skip else None


def _declarations(file: File, statement: Node, names: tuple[str, str], req: str, group: str) -> TextEdit:
    take, skip = names
    # without semicolons, a statement starting with `(` would call our line
    end = ";" if _semicolons(file, statement) or text(statement).startswith(_ASI_HAZARDS) else ""
    first = f"const {take} = {_take_expr(req)}"
    second = f"const {skip} = {_skip_expr(req)}"
    prefix = file.line_prefix(statement)
    if prefix.strip():  # a statement that shares its line with code before it (`{ const x = ...`) keeps it
        at = file.char(statement.start_byte)
        return TextEdit(at, at, f"{first}; {second}; ", "SA311", "page size and offset from the query string", group)
    anchor = _leading_comments(statement)
    prefix = file.line_prefix(anchor)
    inserted = f"{first}{end}\n{prefix}{second}{end}\n{prefix}"
    at = file.char(anchor.start_byte)
    return TextEdit(at, at, inserted, "SA311", "page size and offset from the query string", group)


def _leading_comments(statement: Node) -> Node:
    """The first of the own-line comments right above `statement` (else the statement): our lines go
    above them, so a `// @ts-expect-error` or `// eslint-disable-next-line` still governs the line it was for."""
    first = statement
    comment = statement.prev_named_sibling
    while (
        comment is not None
        and comment.type == "comment"
        and comment.end_point[0] + 1 == first.start_point[0]
        and (comment.prev_sibling is None or comment.prev_sibling.end_point[0] < comment.start_point[0])
    ):
        first, comment = comment, comment.prev_named_sibling
    return first


_SIMPLE_STATEMENTS = frozenset(
    {"lexical_declaration", "variable_declaration", "expression_statement", "return_statement"}
)


def _semicolons(file: File, statement: Node) -> bool:
    """Whether the file ends its statements with `;`: the statement's own ending when it is a simple
    one, else that of the first simple statement in the file (an `if` or `switch` ends with `}`)."""
    simple = statement if statement.type in _SIMPLE_STATEMENTS else None
    simple = simple or next((n for n in descendants(file.root) if n.type in _SIMPLE_STATEMENTS), statement)
    return text(simple).rstrip().endswith(";")


def _group(file: File, node: Node) -> str:
    return f"SA311:{file.source.rel}:{node.start_byte}"


def _options(call: Node) -> Node | str | None:
    """The options object literal (None: the call has no argument), or why it cannot take more keys."""
    args = call_args(call)
    if not args:
        arguments = call.child_by_field_name("arguments")
        if arguments is not None and any(c.type == "comment" for c in arguments.named_children):
            return "findMany() holds only a comment; add `{ take, skip }` by hand:"
        return None
    options = unwrap(args[0])
    if options is None or options.type != "object" or len(args) != 1:
        what = text(args[0])
        return f"the options (`{what}`) are built elsewhere: pass `{{ ...{what}, take, skip }}` with"
    keys = {text(p.child_by_field_name("key") or p).strip("'\"") for p in _properties(options)}
    clash = sorted(keys & {"skip", "cursor"})
    if clash:
        return f"findMany already pages with `{clash[0]}` but has no `take`; keep one scheme:"
    return options


def _properties(options: Node) -> list[Node]:
    return [c for c in options.named_children if c.type != "comment"]


def _argument_edits(file: File, call: Node, options: Node | None, names: tuple[str, str], group: str) -> list[TextEdit]:
    take, skip = names
    members = ["take" if take == "take" else f"take: {take}", "skip" if skip == "skip" else f"skip: {skip}"]
    return add_members(file, call, options, members, ("SA311", "pass take and skip to findMany", group))


def add_members(
    file: File, call: Node, options: Node | None, members: list[str], tag: tuple[str, str, str]
) -> list[TextEdit]:
    """Edits adding `members` (`key: value` texts) to the object literal `options` in the
    file's style (on its line, or one member a line with the last member's indent and
    trailing comma); `options` None: the call gets `{ members }` as its argument.
    `tag` is the edits' (rule, description, group)."""
    rule, description, group = tag
    inline = "{ " + ", ".join(members) + " }"
    if options is None:
        arguments = call.child_by_field_name("arguments")
        assert arguments is not None  # a call without arguments has none of its own
        at = file.char(arguments.start_byte) + 1
        return [TextEdit(at, at, inline, rule, description, group)]
    props = _properties(options)
    if not props:  # `{}` (maybe spaced): replace it whole
        start, end = file.char(options.start_byte), file.char(options.end_byte)
        return [TextEdit(start, end, inline, rule, description, group)]
    last = props[-1]
    after = file.data[last.end_byte : options.end_byte]
    trailing_comma = after.lstrip().startswith(b",")
    comma_end = last.end_byte + (after.index(b",") + 1 if trailing_comma else 0)
    close = options.end_byte - 1
    line_end = file.data.find(b"\n", comma_end)
    if options.start_point[0] == options.end_point[0] or line_end == -1 or line_end > close:
        # one line, or the closing brace shares the last property's line
        at = file.char(comma_end)
        inserted = (" " + ", ".join(members) + ",") if trailing_comma else (", " + ", ".join(members))
        return [TextEdit(at, at, inserted, rule, description, group)]
    indent = file.line_prefix(last)
    indent = " " * (len(indent) - len(indent.lstrip())) if indent.strip() else indent
    rest = file.data[comma_end:line_end].strip()
    # after a trailing `// comment`, so it stays with the property it was about
    at_byte = line_end if not rest or rest.startswith(b"//") else comma_end
    at_byte -= 1 if file.data[at_byte - 1 : at_byte] == b"\r" else 0
    lines = "".join(f"\n{indent}{m}," for m in members)
    at = file.char(at_byte)
    edits = [TextEdit(at, at, lines if trailing_comma else lines[:-1], rule, description, group)]
    if not trailing_comma:
        comma = file.char(last.end_byte)
        edits.insert(0, TextEdit(comma, comma, ",", rule, description, group))
    return edits


FIXER = fix_typescript_pagination
PRIORITY = 70  # see scaleaudit.fixes.api; edits only handler bodies, after the shared-client fix
