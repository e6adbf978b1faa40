"""SA211/SA212 (unsafe): load the relation with the findMany the loop iterates.

    const posts = await prisma.post.findMany({ take: 20 });
    for (const post of posts) {
      const author = await prisma.user.findUnique({ where: { id: post.authorId } });

becomes

    const posts = await prisma.post.findMany({ take: 20, include: { author: true } });
    for (const post of posts) {
      const author = post.author;

and `await Promise.all(posts.map((p) => prisma.user.findUnique({ where: { id: p.authorId } })))`
becomes `await Promise.all(posts.map((p) => p.author))` (SA212). The rest of the
loop is untouched: the variable the row was bound to still holds it.

Only what schema.prisma proves is rewritten: the lookup is `findUnique`/`findFirst`
with exactly `where: { <key>: <item>.<fk> }` (and maybe a `select`/`include`,
carried into the relation), the iterated model declares one relation field
`R ... @relation(fields: [<fk>], references: [<key>])` to the looked-up model,
and the rows come from `await prisma.<parent>.findMany(...)` assigned once in the
same function (or iterated directly). `R: true` goes into the findMany's
`include` (its `select` when it has one: Prisma refuses both). Nullability is
the same or narrower: a lookup returns `T | null`, an optional relation `T | null`,
a required one `T`.

The rows must not be sent or passed on whole: after the include every row also
carries `R` (every column of the related row), so `res.json(posts)` or
`{ ...post }` would answer with more than before; a spread that sets `R` itself
afterwards (`{ ...post, author }`) is the same. A loop that writes, a lookup by a
column that is not the relation's, extra `where` conditions, rows from a
parameter, a typed row variable (its type has no `R`) and every other shape are
skipped with the edit to make by hand.

Unsafe: the parent query now loads the relation for every row (more data per
row, one more query or a join), including rows a loop that stops early never
looked at; a null foreign key that made the lookup throw now gives `null`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from scaleaudit.configfiles.prisma_schema import PrismaField, PrismaModel, list_arg, parse_schema
from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.typescript_pagination import WRITES, File, add_members, call_at, declared_again, descendants
from scaleaudit.fixes.writer import TextEdit
from scaleaudit.model import Finding
from scaleaudit.typescript.parser import FUNCTIONS, Node, ancestors, call_args, object_keys, parse, text, unwrap
from scaleaudit.typescript.prisma import READS, match_query

RULES = ("SA211", "SA212")
LOOKUPS = frozenset({"findUnique", "findFirst"})  # the ...OrThrow forms throw where the relation gives null
_LOOKUP_KEYS = frozenset({"where", "select", "include"})
_NAME = re.compile(r"[A-Za-z_$][\w$]*")


def delegate(model: str) -> str:
    """Prisma's client property for a model: `User` -> `user`, `BlogPost` -> `blogPost`."""
    return model[:1].lower() + model[1:]


@dataclass(frozen=True)
class Lookup:
    """The per-item query `prisma.<model>.findUnique({ where: { <key>: <item>.<fk> } })`."""

    call: Node
    model: str  # the delegate, `user`
    key: str  # the looked-up model's field, `id`
    item: str  # the row variable, `post`
    fk: str  # the row's field, `authorId`
    shape: str  # what the relation loads: `true`, `{ select: {...} }`, `{ include: {...} }`


@dataclass(frozen=True)
class Rows:
    """Where the items come from: the findMany and the name it is bound to ("" when iterated directly)."""

    call: Node
    model: str
    name: str
    declaration: Node | None  # the `const posts = ...` statement


@dataclass(frozen=True)
class Binding:
    """What binds the item: a `for...of` loop or an iteration callback, and the collection expression."""

    node: Node  # the for_in_statement, or the callback function
    scope: Node  # the loop's body or the callback's body: where the item is in scope
    iterable: Node  # `posts` (the for-of right side, or the object of `posts.map`)
    loop: bool


@dataclass(frozen=True)
class Site:
    """One finding the fix can rewrite: its lookup becomes `replacement`; the findMany needs `relation`."""

    finding: Finding
    lookup: Lookup
    rows: Rows
    relation: str
    replacement: TextEdit
    by_hand: str


def fix_typescript_nplusone(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    findings = ctx.findings(*RULES)
    if not findings:
        return
    schemas = _schema_models(ctx)
    files: dict[str, File] = {}
    groups: dict[tuple[str, int], list[Site]] = {}
    for finding in sorted(findings, key=key_of):
        if finding.path not in files:
            source = ctx.source(finding.path)
            data = source.text.encode("utf-8")
            files[finding.path] = File(source, data, parse(finding.path, data).root_node)
        site = _site(files[finding.path], models_for(schemas, finding.path), finding)
        if isinstance(site, str):
            yield Skipped(finding.rule, finding.path, finding.line, site)
            continue
        groups.setdefault((finding.path, site.rows.call.start_byte), []).append(site)
    for (rel, _), sites in groups.items():
        yield from _proposal(files[rel], sites)


def _proposal(file: File, sites: list[Site]) -> Iterator[Proposal | Skipped]:
    """One proposal per findMany: every relation its loops look up goes into one edit of its options
    (two edits adding `include` to one object would both apply and give it two `include` keys)."""
    loads: dict[str, str] = {}
    kept: list[Site] = []
    for site in sites:
        shape = loads.setdefault(site.relation, site.lookup.shape)
        if shape != site.lookup.shape:
            reason = f"another lookup of `{site.relation}` in this function loads it as `{shape}`; {site.by_hand}"
            yield Skipped(site.finding.rule, site.finding.path, site.finding.line, reason)
            continue
        kept.append(site)
    if not kept:
        return
    first = kept[0]
    group = f"{first.finding.rule}:{file.source.rel}:{first.rows.call.start_byte}"
    description = f"load {', '.join(f'`{r}`' for r in loads)} with `{first.rows.model}.findMany`"
    edit = _findmany_edit(file, first.rows.call, list(loads.items()), (first.finding.rule, description, group))
    if isinstance(edit, str):
        for site in kept:
            yield Skipped(site.finding.rule, site.finding.path, site.finding.line, f"{edit}; {site.by_hand}")
        return
    edits = ([edit] if edit is not None else []) + [replace(s.replacement, group=group) for s in kept]
    read = ", ".join(sorted({f"`{s.lookup.item}.{s.relation}`" for s in kept}))
    models = " and ".join(sorted({f"`{s.lookup.model}`" for s in kept}))
    carried = ", ".join(f"`{r}`" for r in loads)
    summary = (
        f"{description} (one query for all rows) and read {read} instead of one {models} query per row; "
        f"every row now carries {carried}"
    )
    yield Proposal(first.finding.rule, first.finding.path, first.finding.line, summary, {file.source.rel: tuple(edits)},
                   tuple(key_of(s.finding) for s in kept))  # fmt: skip


def _schema_models(ctx: FixContext) -> dict[str, list[PrismaModel]]:
    """Schema file -> its models, for every schema file the scan read."""
    schemas = sorted({f.location.path for f in ctx.scan.facts if f.kind == "model" and f.get("orm") == "prisma"})
    return {rel: parse_schema(ctx.source(rel).text).models for rel in schemas}


def _project(schema: str) -> str:
    """The directory a schema file serves: `app/prisma/schema.prisma` -> `app`, `prisma/schema/x.prisma` -> ""."""
    parts = posixpath.dirname(schema).split("/")
    while parts and parts[-1] in ("prisma", "schema"):
        parts.pop()
    return "/".join(p for p in parts if p)


def models_for(schemas: dict[str, list[PrismaModel]], rel: str) -> dict[str, PrismaModel | None]:
    """Model name -> model as the code at `rel` sees it: the schema files of the innermost project
    holding `rel` (a monorepo's apps each have a `User`), else all of them; None: defined twice."""
    around = [s for s in schemas if not _project(s) or rel.startswith(_project(s) + "/")]
    deepest = max((len(_project(s)) for s in around), default=0)
    chosen = [s for s in around if len(_project(s)) == deepest] or list(schemas)
    out: dict[str, PrismaModel | None] = {}
    for schema in chosen:
        for model in schemas[schema]:
            out[model.name] = None if model.name in out else model
    return out


def _site(file: File, models: dict[str, PrismaModel | None], finding: Finding) -> Site | str:
    call = call_at(file, finding, READS)
    if call is None:
        return "the Prisma query was not found where it was reported"
    lookup = _lookup(call)
    if isinstance(lookup, str):
        return lookup
    binding = _binding(lookup)
    if isinstance(binding, str):
        return binding
    hidden = declared_again(binding.scope, lookup.item, lookup.call)
    if hidden is not None:
        return (
            f"`{lookup.item}` is declared again inside the loop (line {hidden.start_point[0] + 1}): the lookup may "
            f"read that one, not the row; rename it, then {_batch_hint(lookup, text(binding.iterable))}"
        )
    rows = _rows(binding)
    if isinstance(rows, str):
        return f"{rows}; {_batch_hint(lookup, text(binding.iterable))}"
    field = _relation(models, rows.model, lookup)
    if isinstance(field, str):
        return f"{field}; {_batch_hint(lookup, text(binding.iterable))}"
    relation = field.name
    by_hand = _include_hint(lookup, rows, relation)
    problem = _changes_behaviour(file, lookup, binding, rows, relation)
    if problem:
        return f"{problem}; {by_hand}"
    replaced = _replacement(file, lookup, binding, relation, finding.rule)
    if isinstance(replaced, str):
        return f"{replaced}; {by_hand}"
    return Site(finding, lookup, rows, relation, replaced, by_hand)


def _method(call: Node) -> str:
    found = match_query(call, READS)
    return found.method if found is not None else "query"


def _batch_hint(lookup: Lookup, collection: str) -> str:
    ids = f"{collection}.map(({lookup.item}) => {lookup.item}.{lookup.fk})"
    return (
        f"load them in one query before the loop instead: `prisma.{lookup.model}.findMany({{ where: {{ {lookup.key}: "
        f"{{ in: {ids} }} }} }})`, then pick each row's by `{lookup.key}`"
    )


def _include_hint(lookup: Lookup, rows: Rows, relation: str) -> str:
    where = f"`{rows.name}`'s " if rows.name else "the looped "
    return (
        f"by hand: add `include: {{ {relation}: {lookup.shape} }}` to {where}`{rows.model}.findMany` and use "
        f"`{lookup.item}.{relation}` instead of the per-item `{lookup.model}` query"
    )


def _lookup(call: Node) -> Lookup | str:
    """The per-item query, when it is a lookup by one `<item>.<field>` value and nothing else."""
    query = match_query(call, READS)
    assert query is not None  # call_at matched it
    generic = _generic_hint(query.model, query.method, query.args.get("where"))
    if query.method not in LOOKUPS:
        return f"`{query.model}.{query.method}` per item is not a single-row lookup (all this fix rewrites): {generic}"
    args = call_args(call)
    options = unwrap(args[0]) if len(args) == 1 else None
    keys = object_keys(options)
    if options is None or options.type != "object" or not set(keys) <= _LOOKUP_KEYS or "where" not in keys:
        return f"the lookup's options are not a literal `{{ where: ..., select/include }}`: {generic}"
    if "select" in keys and "include" in keys:
        return f"the lookup has both `select` and `include`: {generic}"
    where = unwrap(keys["where"])
    conditions = object_keys(where)
    pairs = [c for c in (where.named_children if where is not None else []) if c.type != "comment"]
    if len(conditions) != 1 or len(pairs) != 1 or pairs[0].type != "pair":
        return (
            "the lookup's `where` is not exactly one `<field>: <item>.<field>` condition (an include cannot "
            f"filter a to-one relation): {generic}"
        )
    key, condition = next(iter(conditions.items()))
    value = unwrap(condition)
    item = (
        unwrap(value.child_by_field_name("object")) if value is not None and value.type == "member_expression" else None
    )
    if value is None or item is None or item.type != "identifier" or "?." in text(value) or not _NAME.fullmatch(key):
        return f"the lookup's `where: {{ {key}: {text(value)} }}` is not a field of the loop's item: {generic}"
    shape = "true"
    for clause in ("select", "include"):
        if clause in keys:
            shape = f"{{ {clause}: {text(keys[clause])} }}"
    assert value is not None
    return Lookup(call, query.model, key, text(item), text(value.child_by_field_name("property")), shape)


def _generic_hint(model: str, method: str, where: Node | None) -> str:
    """The batched query to write by hand, as concrete as the lookup's one `where` condition allows."""
    conditions = object_keys(where)
    if len(conditions) != 1 or "..." in conditions:
        return f"one `prisma.{model}` query for all items (`where: {{ <field>: {{ in: ids }} }}`) before the loop"
    key, value = next(iter(conditions.items()))
    each = f"`{text(value)}` of every item"
    if method in ("count", "aggregate", "groupBy"):
        batch = f"prisma.{model}.groupBy({{ by: ['{key}'], where: {{ {key}: {{ in: ids }} }}, _count: true }})"
        return f"one `{batch}` before the loop, with `ids` the {each}, then read each item's count by `{key}`"
    batch = f"prisma.{model}.findMany({{ where: {{ {key}: {{ in: ids }} }} }})"
    return f"one `{batch}` before the loop, with `ids` the {each}, then pick each item's rows by `{key}`"


def _binding(lookup: Lookup) -> Binding | str:
    """The `for (const <item> of ...)` or `<collection>.map((<item>) => ...)` the lookup repeats in."""
    for node in ancestors(lookup.call):
        if node.type == "for_in_statement":
            left, body = node.child_by_field_name("left"), node.child_by_field_name("body")
            if text(left) == lookup.item and body is not None:
                right = node.child_by_field_name("right")
                assert right is not None
                operator = node.child_by_field_name("operator")
                if text(operator) != "of":
                    return f"`{lookup.item}` comes from a `for...in` loop (keys, not rows): nothing to include"
                if text(node.child_by_field_name("kind")) != "const" and _assigned(body, lookup.item):
                    return f"`{lookup.item}` is reassigned in the loop; {_batch_hint(lookup, text(right))}"
                return Binding(node, body, right, True)
        if node.type in FUNCTIONS:
            found = _callback_binding(node, lookup)
            return (
                found
                if found is not None
                else f"`{lookup.item}` is not the loop's item here: {_batch_hint(lookup, 'items')}"
            )
    return f"`{lookup.item}` is not the item of a loop around the query: {_batch_hint(lookup, 'items')}"


def _callback_binding(fn: Node, lookup: Lookup) -> Binding | str | None:
    parent = fn.parent
    call = parent.parent if parent is not None and parent.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    if (
        callee is None
        or callee.type != "member_expression"
        or text(callee.child_by_field_name("property")) not in ("map", "forEach")
    ):
        return None
    params = fn.child_by_field_name("parameters")
    first = fn.child_by_field_name("parameter") or (
        params.named_children[0] if params is not None and params.named_children else None
    )
    if first is None:
        return None
    pattern = first.child_by_field_name("pattern") if first.type.endswith("_parameter") else first
    if text(pattern) != lookup.item:
        return None
    body = fn.child_by_field_name("body")
    obj = callee.child_by_field_name("object")
    assert body is not None and obj is not None
    if text(callee.child_by_field_name("property")) == "forEach" and any(c.type == "async" for c in fn.children):
        # forEach does not wait: today the code after it runs before the lookups finish. Removing
        # the await would move the callback's body ahead of that code — a change of meaning.
        return (
            f"`{text(obj)}.forEach(async ...)` does not wait for its callbacks, and removing the lookup's "
            f"`await` would change when the rest of the callback runs: loop with `for (const {lookup.item} of "
            f"{text(obj)})` (awaited), then this fix applies; or {_batch_hint(lookup, text(obj))}"
        )
    if first.child_by_field_name("type") is not None:
        hint = f"drop the type, or {_batch_hint(lookup, text(obj))}"
        return f"`{lookup.item}` is typed (`{text(first)}`), and that type has no relation field: {hint}"
    if _assigned(body, lookup.item):
        return f"`{lookup.item}` is reassigned in the callback; {_batch_hint(lookup, text(obj))}"
    return Binding(fn, body, obj, False)


def _assigned(scope: Node, name: str) -> bool:
    return any(
        n.type in ("assignment_expression", "augmented_assignment_expression")
        and text(n.child_by_field_name("left")) == name
        for n in descendants(scope)
    )


def _function_of(node: Node) -> Node | None:
    return next((a for a in ancestors(node) if a.type in FUNCTIONS), None)


def _rows(binding: Binding) -> Rows | str:
    """The findMany the items come from: iterated directly, or its one assignment in the same function."""
    iterable = binding.iterable
    direct = _awaited_findmany(iterable)
    if direct is not None:
        return Rows(*direct, "", None)
    if iterable.type != "identifier":
        return f"the items come from `{text(iterable)}`, not from a findMany in this function"
    name = text(iterable)
    fn = _function_of(binding.node)
    if fn is None:
        return f"`{name}` is not read in a function"
    params = fn.child_by_field_name("parameters")
    if params is not None and any(name in _identifiers(p) for p in params.named_children):
        return f"`{name}` is a parameter: the query that reads it is in the caller"
    declarators = [
        n
        for n in descendants(fn)
        if n.type == "variable_declarator" and name in _identifiers(n.child_by_field_name("name"))
    ]
    if len(declarators) != 1 or _assigned(fn, name):
        return f"`{name}` is bound more than once in this function"
    declarator = declarators[0]
    if text(declarator.child_by_field_name("name")) != name:
        return f"`{name}` is destructured from another value"
    annotation = declarator.child_by_field_name("type")
    if annotation is not None:
        return f"`{name}` is declared with a type (`{text(annotation).lstrip(': ')}`) that has no relation field"
    value = declarator.child_by_field_name("value")
    found = _awaited_findmany(value) if value is not None else None
    if found is None:
        return f"`{name}` is not `await prisma.<model>.findMany(...)`"
    statement = declarator.parent
    if statement is None or statement.parent is None or not _encloses(statement.parent, binding.node):
        return f"`{name}` is declared in another block than the loop"
    return Rows(*found, name, statement)


def _identifiers(node: Node | None) -> set[str]:
    if node is None:
        return set()
    found = {
        text(n) for n in [node, *descendants(node)] if n.type in ("identifier", "shorthand_property_identifier_pattern")
    }
    return found


def _encloses(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _awaited_findmany(node: Node) -> tuple[Node, str] | None:
    """`await prisma.<model>.findMany(...)` (maybe parenthesized, never cast): the call and its model."""
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    if node.type != "await_expression" or not node.named_children:
        return None
    call = node.named_children[-1]
    query = match_query(call, frozenset({"findMany"})) if call.type == "call_expression" else None
    return (call, query.model) if query is not None else None


def _relation(models: dict[str, PrismaModel | None], parent: str, lookup: Lookup) -> PrismaField | str:
    """The relation field on the iterated model that the lookup follows, or why none is known."""
    owner = _model(models, parent)
    target = _model(models, lookup.model)
    if isinstance(owner, str):
        return owner
    if isinstance(target, str):
        return target
    found = [f for f in owner.fields if _follows(f, target, lookup)]
    if len(found) != 1:
        what = "no" if not found else "more than one"
        return (
            f"schema.prisma declares {what} relation on {owner.name} with `@relation(fields: [{lookup.fk}], "
            f"references: [{lookup.key}])` to {target.name}"
        )
    return found[0]


def _model(models: dict[str, PrismaModel | None], name: str) -> PrismaModel | str:
    found = [m for n, m in models.items() if delegate(n) == name]
    if not found:
        return f"no model for `prisma.{name}` in schema.prisma"
    if len(found) > 1 or found[0] is None:
        return f"`prisma.{name}` matches more than one model in the schema files"
    return found[0]


def _follows(field: PrismaField, target: PrismaModel, lookup: Lookup) -> bool:
    relation = field.attr("relation")
    return (
        field.type == target.name
        and not field.is_list
        and relation is not None
        and field.relation_fields == [lookup.fk]
        and list_arg(relation.args, "references") == [lookup.key]
    )


def _changes_behaviour(file: File, lookup: Lookup, binding: Binding, rows: Rows, relation: str) -> str:
    """Why the rewrite would change what the code does beyond loading less often ("" when it would not)."""
    between = file.data[rows.call.end_byte : binding.node.end_byte].decode("utf-8", "replace")
    writes = WRITES.search(between)
    if writes:
        return (
            f"the loop writes (`{writes.group(0).strip()}...`): a relation loaded with the rows could be stale "
            "by the time the loop reads it"
        )
    settled = _assigns_relation(lookup, binding, relation)  # `post.author = await ...` sets it on every row anyway
    for node in descendants(binding.scope):
        whole = _names(node, lookup.item) and not _member_use(node) and not _spread_overridden(node, relation)
        if whole and (settled is None or node.start_byte < settled.end_byte):
            return _whole(node, lookup.item, relation)
    fn = _function_of(binding.node)
    if rows.name and fn is not None:
        declared = descendants(rows.declaration) if rows.declaration is not None else iter(())
        skip = {binding.iterable.id, *(n.id for n in declared)}
        for node in descendants(fn):
            if node.id in skip or not _names(node, rows.name) or _length(node):
                continue
            if settled is None or node.start_byte < binding.node.end_byte:
                return _whole(node, rows.name, relation)
    return ""


def _names(node: Node, name: str) -> bool:
    return node.type in ("identifier", "shorthand_property_identifier") and text(node) == name


def _member_use(node: Node) -> bool:
    """`post.title`: one field read, not the row."""
    parent = node.parent
    obj = parent.child_by_field_name("object") if parent is not None and parent.type == "member_expression" else None
    return obj is not None and obj.id == node.id


def _length(node: Node) -> bool:
    parent = node.parent
    return _member_use(node) and parent is not None and text(parent.child_by_field_name("property")) == "length"


def _spread_overridden(node: Node, relation: str) -> bool:
    """`{ ...post, author }`: the spread's `author` is replaced by the key after it."""
    spread = node.parent
    obj = spread.parent if spread is not None and spread.type == "spread_element" else None
    if obj is None or obj.type != "object" or spread is None:
        return False
    later = [c for c in obj.named_children if c.start_byte > spread.end_byte]
    return any(
        (c.type == "shorthand_property_identifier" and text(c) == relation)
        or (c.type == "pair" and text(c.child_by_field_name("key")).strip("'\"") == relation)
        for c in later
    )


def _whole(node: Node, name: str, relation: str) -> str:
    statement = node
    while statement.parent is not None and not statement.type.endswith(("statement", "declaration")):
        statement = statement.parent
    snippet = " ".join(text(statement).split())
    snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
    return (
        f"`{name}` is used whole (`{snippet}`): with the include every row also carries `{relation}`, "
        "so what is sent or passed on would change"
    )


def _assigns_relation(lookup: Lookup, binding: Binding, relation: str) -> Node | None:
    """The statement `<item>.<relation> = await <lookup>;` run once for every row of a for...of loop
    (no break, continue or return in it), after which every row carries the relation anyway."""
    statement = _assignment_statement(lookup, relation)
    if not binding.loop or statement is None or statement.parent is None or statement.parent.id != binding.scope.id:
        return None
    jumps = ("break_statement", "continue_statement", "return_statement")
    if any(n.type in jumps and _function_of(n) == _function_of(binding.node) for n in descendants(binding.scope)):
        return None
    return statement


def _assignment_statement(lookup: Lookup, relation: str) -> Node | None:
    awaited = lookup.call.parent
    assignment = awaited.parent if awaited is not None and awaited.type == "await_expression" else None
    if assignment is None or assignment.type != "assignment_expression":
        return None
    if text(assignment.child_by_field_name("left")) != f"{lookup.item}.{relation}":
        return None
    statement = assignment.parent
    return statement if statement is not None and statement.type == "expression_statement" else None


def _findmany_edit(
    file: File, call: Node, loads: list[tuple[str, str]], tag: tuple[str, str, str]
) -> TextEdit | str | None:
    """Add `relation: shape` for each of `loads` to the findMany's `include` (or `select`), creating
    `include` when there is none; None when it loads them all already.

    The result is one edit replacing the object it extends (or the empty argument list), so
    another fixer's insertion inside it (SA311's `take, skip`) is refused as an overlap and
    retried on the result, rather than both adding a `,` after the last property."""
    args = call_args(call)
    arguments = call.child_by_field_name("arguments")
    assert arguments is not None  # a call has its argument list
    included = "include: { " + ", ".join(f"{relation}: {shape}" for relation, shape in loads) + " }"
    if not args:
        if arguments.named_children:
            return "findMany() holds only a comment"
        return _rewritten(file, arguments, add_members(file, call, None, [included], tag), tag)
    options = unwrap(args[0])
    if len(args) != 1 or options is None or options.type != "object":
        return f"the findMany options (`{text(args[0])}`) are built elsewhere"
    keys = object_keys(options)
    if "..." in keys:
        return "the findMany options spread in another object, which may hold its own include or select"
    clauses = [c for c in ("select", "include") if c in keys]
    if len(clauses) > 1:
        return "the findMany has both `select` and `include`, which Prisma refuses"
    if not clauses:
        return _rewritten(file, options, add_members(file, call, options, [included], tag), tag)
    clause = clauses[0]
    loaded = unwrap(keys[clause])
    inner = object_keys(loaded)
    if loaded is None or loaded.type != "object" or "..." in inner:
        return f"the findMany's `{clause}` (`{text(keys[clause])}`) is not an object literal"
    missing: list[str] = []
    for relation, shape in loads:
        if relation not in inner:
            missing.append(f"{relation}: {shape}")
        elif " ".join(text(inner[relation]).split()) != shape:
            return (
                f"the findMany's `{clause}` loads `{relation}` differently (`{text(inner[relation])}`) from the lookup"
            )
    if not missing:
        return None
    return _rewritten(file, loaded, add_members(file, call, loaded, missing, tag), tag)


def _rewritten(file: File, node: Node, edits: list[TextEdit], tag: tuple[str, str, str]) -> TextEdit:
    """`edits` (all inside `node`) as one edit replacing `node` whole."""
    start, end = file.char(node.start_byte), file.char(node.end_byte)
    out = file.source.text[start:end]
    # from the end; of two insertions at one place the later in `edits` first, so the earlier
    # (the `,` after the last property) ends up before it, as the writer would place them
    for _, edit in sorted(enumerate(edits), key=lambda e: (e[1].start, e[1].end, e[0]), reverse=True):
        out = out[: edit.start - start] + edit.text + out[edit.end - start :]
    return TextEdit(start, end, out, *tag)


def _replacement(file: File, lookup: Lookup, binding: Binding, relation: str, rule: str) -> TextEdit | str:
    """The lookup becomes `<item>.<relation>`; `item.relation = await lookup;` goes (it would assign it to itself)."""
    description, group = f"read the loaded `{relation}`", ""
    value = f"{lookup.item}.{relation}"
    statement = _assignment_statement(lookup, relation)
    if statement is not None:
        before = file.data[file.data.rfind(b"\n", 0, statement.start_byte) + 1 : statement.start_byte]
        end = file.data.find(b"\n", statement.end_byte)
        after = file.data[statement.end_byte : end if end != -1 else len(file.data)]
        if not before.strip() and not after.strip():
            start = file.char(statement.start_byte - len(before))
            stop = file.char(end + 1 if end != -1 else len(file.data))
            return TextEdit(start, stop, "", rule, f"drop `{value} = ...`: the rows carry it", group)
    awaited = lookup.call.parent
    if awaited is not None and awaited.type == "await_expression":
        start, end = file.char(awaited.start_byte), file.char(awaited.end_byte)
        return TextEdit(start, end, value, rule, description, group)
    if not binding.loop and _returned_into_promise_all(lookup.call, binding):
        start, end = file.char(lookup.call.start_byte), file.char(lookup.call.end_byte)
        return TextEdit(start, end, value, rule, description, group)
    return "the lookup's promise is kept rather than awaited where it runs"


def _returned_into_promise_all(call: Node, binding: Binding) -> bool:
    """`Promise.all(rows.map((row) => <call>))` (or `{ return <call>; }`): the promise only feeds Promise.all,
    which takes plain values too."""
    parent = call.parent
    returned = (parent is not None and parent.id == binding.node.id) or (
        parent is not None and parent.type == "return_statement" and _function_of(parent) == binding.node
    )
    mapped = binding.node.parent.parent if binding.node.parent is not None else None
    holder = mapped.parent if mapped is not None else None
    outer = holder.parent if holder is not None and holder.type == "arguments" else None
    return (
        returned
        and mapped is not None
        and text(mapped.child_by_field_name("function")).endswith(".map")
        and outer is not None
        and text(outer.child_by_field_name("function")) == "Promise.all"
        and len(call_args(outer)) == 1
    )


FIXER = fix_typescript_nplusone
PRIORITY = 70  # see scaleaudit.fixes.api; edits handler bodies, after the shared-client fix
