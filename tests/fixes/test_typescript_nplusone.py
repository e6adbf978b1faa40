"""SA211/SA212 fix (unsafe): a Prisma lookup per row becomes an `include` on the findMany it iterates.

Each case is a before/after pair run through `fix --write --unsafe-fixes` with a
schema.prisma that declares (or does not declare) the relation; the cases the fix
must not touch keep their bytes and say the edit to make instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scan_tree
from fixtest import assert_fixed, assert_idempotent, fix_tree

from scaleaudit.configfiles.prisma_schema import PrismaModel
from scaleaudit.fixes.typescript_nplusone import models_for
from scaleaudit.rulebook import load_rulebook

UNSAFE = {"unsafe": True, "select": ["SA211", "SA212"]}
CTRL = "src/controllers/post.controller.ts"
SCHEMA_REL = "prisma/schema.prisma"
SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id       Int     @id @default(autoincrement())
  email    String  @unique
  name     String
  posts    Post[]
}

model Category {
  id       Int     @id @default(autoincrement())
  name     String
  posts    Post[]
}

model Post {
  id         Int       @id @default(autoincrement())
  title      String
  authorId   Int
  author     User      @relation(fields: [authorId], references: [id])
  authorMail String
  categoryId Int?
  category   Category? @relation(fields: [categoryId], references: [id])

  @@index([authorId])
  @@index([categoryId])
}
"""
IMPORTS = "import { Request, Response } from 'express';\nimport { prisma } from '../lib/prisma';\n"
FEED = IMPORTS + (
    "export async function feed(req: Request, res: Response) {\n"
    "  const posts = await prisma.post.findMany({ take: 20 });\n"
    "  for (const post of posts) {\n"
    "    const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
    "    res.write(JSON.stringify({ ...post, author }));\n"
    "  }\n"
    "  res.end();\n"
    "}\n"
)


def _tree(code: str, rel: str = CTRL) -> dict[str, str]:
    return {SCHEMA_REL: SCHEMA, rel: code}


def _n_plus_one(root: Path) -> list[tuple[str, str, int]]:
    return [(f.rule, f.path, f.line) for f in scan_tree(root).findings if f.rule in ("SA211", "SA212")]


def test_lookup_in_a_for_of_loop_becomes_the_included_relation(tmp_path: Path) -> None:
    after = FEED.replace("findMany({ take: 20 })", "findMany({ take: 20, include: { author: true } })").replace(
        "await prisma.user.findUnique({ where: { id: post.authorId } })", "post.author"
    )
    result = assert_fixed(tmp_path, _tree(FEED), {CTRL: after}, **UNSAFE)
    assert [(a.rule, a.line) for a in result.applied] == [("SA211", 6)]
    assert "every row now carries `author`" in result.applied[0].description
    assert not _n_plus_one(tmp_path)  # re-scan: no query in the loop any more
    assert_idempotent(tmp_path, **UNSAFE)


def test_existing_multiline_include_is_extended_in_its_style(tmp_path: Path) -> None:
    before = (
        "import { prisma } from './db'\n\n"
        "export async function feed(req, res) {\n"
        "    const posts = await prisma.post.findMany({\n"
        "        take: 20,\n"
        "        include: {\n"
        "            category: true,\n"
        "        },\n"
        "    })\n"
        "    for (const post of posts) {\n"
        "        const author = await prisma.user.findFirst({ where: { id: post.authorId } })\n"
        "        res.write(`${post.title} ${post.category?.name} ${author?.name}`)\n"
        "    }\n"
        "    res.end()\n"
        "}\n"
    )
    after = before.replace("            category: true,\n", "            category: true,\n            author: true,\n")
    after = after.replace("await prisma.user.findFirst({ where: { id: post.authorId } })", "post.author")
    assert_fixed(tmp_path, _tree(before, "src/feed.ts"), {"src/feed.ts": after}, **UNSAFE)
    assert_idempotent(tmp_path, **UNSAFE)


def test_select_gets_the_relation_and_the_lookups_select_is_carried(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function feed(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ select: { id: true, authorId: true } });\n"
        "  const out = [];\n"
        "  for (const post of posts) {\n"
        "    const author = await prisma.user.findUnique({ where: { id: post.authorId }, select: { name: true } });\n"
        "    out.push({ id: post.id, by: author?.name });\n"
        "  }\n"
        "  res.json(out);\n"
        "}\n"
    )
    after = before.replace(
        "select: { id: true, authorId: true }",
        "select: { id: true, authorId: true, author: { select: { name: true } } }",
    ).replace("await prisma.user.findUnique({ where: { id: post.authorId }, select: { name: true } })", "post.author")
    assert_fixed(tmp_path, _tree(before), {CTRL: after}, **UNSAFE)
    assert not _n_plus_one(tmp_path)


def test_findmany_without_arguments_and_an_optional_relation(tmp_path: Path) -> None:
    before = (
        "import { prisma } from '../lib/prisma'\n"
        "export async function names(req, res) {\n"
        "  const posts = await prisma.post.findMany()\n"
        "  const names: string[] = []\n"
        "  for (const post of posts) {\n"
        "    const category = await prisma.category.findUnique({ where: { id: post.categoryId } })\n"
        "    names.push(category ? category.name : '-')\n"
        "  }\n"
        "  res.json(names)\n"
        "}\n"
    )
    after = before.replace("findMany()", "findMany({ include: { category: true } })").replace(
        "await prisma.category.findUnique({ where: { id: post.categoryId } })", "post.category"
    )
    assert_fixed(tmp_path, _tree(before), {CTRL: after}, **UNSAFE)


def test_rows_iterated_directly(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function feed(req: Request, res: Response) {\n"
        "  for (const post of await prisma.post.findMany({ take: 5 })) {\n"
        "    const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "    res.write(author?.name ?? '');\n"
        "  }\n"
        "  res.end();\n"
        "}\n"
    )
    after = before.replace("{ take: 5 }", "{ take: 5, include: { author: true } }").replace(
        "await prisma.user.findUnique({ where: { id: post.authorId } })", "post.author"
    )
    assert_fixed(tmp_path, _tree(before), {CTRL: after}, **UNSAFE)


def test_promise_all_over_map_returns_the_relation(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function authors(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 10 });\n"
        "  const authors = await Promise.all(\n"
        "    posts.map((p) => prisma.user.findUnique({ where: { id: p.authorId } })),\n"
        "  );\n"
        "  res.json(authors);\n"
        "}\n"
    )
    after = before.replace("{ take: 10 }", "{ take: 10, include: { author: true } }").replace(
        "prisma.user.findUnique({ where: { id: p.authorId } })", "p.author"
    )
    result = assert_fixed(tmp_path, _tree(before), {CTRL: after}, **UNSAFE)
    assert [a.rule for a in result.applied] == ["SA212"]
    assert not _n_plus_one(tmp_path)
    assert_idempotent(tmp_path, **UNSAFE)


def test_awaited_lookup_in_an_async_map_callback(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function cards(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 10 });\n"
        "  const cards = await Promise.all(posts.map(async (p) => {\n"
        "    const author = await prisma.user.findUnique({ where: { id: p.authorId } });\n"
        "    return { title: p.title, author: author?.name };\n"
        "  }));\n"
        "  res.json(cards);\n"
        "}\n"
    )
    after = before.replace("{ take: 10 }", "{ take: 10, include: { author: true } }").replace(
        "await prisma.user.findUnique({ where: { id: p.authorId } })", "p.author"
    )
    assert_fixed(tmp_path, _tree(before), {CTRL: after}, **UNSAFE)


def test_assigning_the_relation_to_every_row_drops_the_statement(tmp_path: Path) -> None:
    # the loop put `author` on every row, so sending the rows whole afterwards is what it did before
    before = (
        "const { prisma } = require('../lib/prisma');\n\n"
        "exports.feed = async (req, res) => {\n"
        "  const posts = await prisma.post.findMany({ where: { title: { contains: 'a' } } });\n"
        "  for (const post of posts) {\n"
        "    post.author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "  }\n"
        "  res.json(posts);\n"
        "};\n"
    )
    after = before.replace(
        "{ where: { title: { contains: 'a' } } }", "{ where: { title: { contains: 'a' } }, include: { author: true } }"
    ).replace("    post.author = await prisma.user.findUnique({ where: { id: post.authorId } });\n", "")
    assert_fixed(tmp_path, _tree(before, "src/controllers/post.controller.js"),
                 {"src/controllers/post.controller.js": after}, **UNSAFE)  # fmt: skip
    assert_idempotent(tmp_path, **UNSAFE)


def test_two_relations_in_one_loop_both_go_into_the_include(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function feed(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  for (const post of posts) {\n"
        "    const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "    const category = await prisma.category.findUnique({ where: { id: post.categoryId } });\n"
        "    res.write(`${author?.name} ${category?.name}`);\n"
        "  }\n"
        "  res.end();\n"
        "}\n"
    )
    result = fix_tree(tmp_path, _tree(before), **UNSAFE)
    code = (tmp_path / CTRL).read_text()
    assert "findMany({ take: 20, include: { author: true, category: true } })" in code, code
    assert "const author = post.author;\n    const category = post.category;\n" in code
    # one proposal for the findMany (two edits adding `include` to one object would both apply)
    assert len(result.applied) == 1 and not _n_plus_one(tmp_path)
    assert "instead of one `category` and `user` query per row" in result.applied[0].description
    assert_idempotent(tmp_path, **UNSAFE)


def test_with_the_pagination_fix_on_the_same_findmany(tmp_path: Path) -> None:
    # both add to `findMany()`: the include is one edit of the argument list, so SA311's
    # insertion is refused as an overlap and retried on the result, not merged into `()`
    before = IMPORTS + (
        "export async function feed(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany();\n"
        "  const out = await Promise.all(posts.map(async (post) => ({\n"
        "    title: post.title,\n"
        "    author: await prisma.user.findUnique({ where: { id: post.authorId } }),\n"
        "  })));\n"
        "  res.json(out);\n"
        "}\n"
    )
    options = {"unsafe": True, "select": ["SA212", "SA311"]}
    result = fix_tree(tmp_path, _tree(before), **options)
    code = (tmp_path / CTRL).read_text()
    assert sorted(a.rule for a in result.applied) == ["SA212", "SA311"], result.skipped
    assert "prisma.post.findMany({ include: { author: true }, take, skip })" in code, code
    assert "    author: post.author,\n" in code
    assert_idempotent(tmp_path, **options)


SKIPS = [
    pytest.param(
        FEED.replace("{ id: post.authorId }", "{ email: post.authorMail }"),
        "schema.prisma declares no relation on Post with `@relation(fields: [authorMail], references: [email])`",
        id="lookup-by-a-column-that-is-not-a-relation",
    ),
    pytest.param(
        FEED.replace("{ id: post.authorId }", "{ id: post.authorId, name: 'x' }"),
        "is not exactly one `<field>: <item>.<field>` condition",
        id="extra-where-condition",
    ),
    pytest.param(
        IMPORTS + "export async function feed(posts: any[], res: Response) {\n"
        "  for (const post of posts) {\n"
        "    const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "    res.write(author);\n  }\n}\n",
        "`posts` is a parameter: the query that reads it is in the caller",
        id="rows-from-a-parameter",
    ),
    pytest.param(
        FEED.replace(
            "    res.write(",
            "    await prisma.user.update({ where: { id: post.authorId }, data: {} });\n    res.write(",
        ),
        "the loop writes (`.update(...`)",
        id="loop-writes",
    ),
    pytest.param(
        FEED.replace("prisma.user.findUnique", "prisma.account.findUnique"),
        "no model for `prisma.account` in schema.prisma",
        id="model-not-in-schema",
    ),
    pytest.param(
        FEED.replace("{ take: 20 }", "{ take: 20, include: loaded }"),
        "the findMany's `include` (`loaded`) is not an object literal",
        id="include-not-a-literal",
    ),
    pytest.param(
        FEED.replace("{ take: 20 }", "{ take: 20, include: { author: { select: { id: true } } } }"),
        "loads `author` differently (`{ select: { id: true } }`)",
        id="include-conflicts-with-the-lookup",
    ),
    pytest.param(
        FEED.replace("{ ...post, author }", "{ ...post, writer: author }"),
        "`post` is used whole (`res.write(JSON.stringify({ ...post, writer: author }));`)",
        id="row-spread-without-overriding-the-relation",
    ),
    pytest.param(
        FEED.replace("  res.end();\n", "  res.end(JSON.stringify(posts));\n"),
        "`posts` is used whole (`res.end(JSON.stringify(posts));`)",
        id="rows-sent-after-the-loop",
    ),
    pytest.param(
        FEED.replace("const posts = await", "const posts: any[] = await").replace(
            "const author = await", "const author: any = await"
        ),
        "`posts` is declared with a type (`any[]`)",
        id="typed-rows",
    ),
    pytest.param(
        FEED.replace("const posts =", "let posts =").replace("  res.end();", "  posts = [];\n  res.end();"),
        "`posts` is bound more than once in this function",
        id="rows-reassigned",
    ),
    pytest.param(
        FEED.replace("findUnique", "findUniqueOrThrow"),
        "`user.findUniqueOrThrow` per item is not a single-row lookup",
        id="or-throw-lookup",
    ),
    pytest.param(
        IMPORTS + "export async function counts(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  const counts = await Promise.all(\n"
        "    posts.map((p) => prisma.post.count({ where: { authorId: p.authorId } })),\n  );\n"
        "  res.json(counts);\n}\n",
        "`post.count` per item is not a single-row lookup",
        id="count-per-item",
    ),
    pytest.param(
        IMPORTS + "export async function authors(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  const pending = posts.map((p) => prisma.user.findUnique({ where: { id: p.authorId } }));\n"
        "  pending[0].then(() => res.end());\n}\n",
        "the lookup's promise is kept rather than awaited where it runs",
        id="promises-kept-outside-promise-all",
    ),
    pytest.param(
        IMPORTS + "export async function authors(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  const authors = await Promise.all(\n"
        "    posts.map((p: any) => prisma.user.findUnique({ where: { id: p.authorId } })),\n  );\n"
        "  res.json(authors);\n}\n",
        "`p` is typed (`p: any`)",
        id="typed-callback-parameter",
    ),
    pytest.param(
        IMPORTS + "export async function feed(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  posts.forEach(async (post) => {\n"
        "    const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "    res.write(JSON.stringify({ title: post.title, author }));\n  });\n"
        "  res.end();\n}\n",
        "`posts.forEach(async ...)` does not wait for its callbacks",  # dropping the await moves the writes before end()
        id="async-forEach",
    ),
]


@pytest.mark.parametrize(("code", "reason"), SKIPS)
def test_left_alone_with_the_edit_to_make(tmp_path: Path, code: str, reason: str) -> None:
    result = fix_tree(tmp_path, _tree(code), **UNSAFE)
    assert not result.changes
    assert (tmp_path / CTRL).read_text() == code
    reasons = [s.reason for s in result.skipped if s.rule in ("SA211", "SA212")]
    assert len(reasons) == 1 and reason in reasons[0], reasons
    # every reason ends with the edit to make: the include, or one batched query
    assert "add `include: { author:" in reasons[0] or "findMany(" in reasons[0] or "{ in: ids }" in reasons[0], reasons


def test_skip_names_the_include_to_add(tmp_path: Path) -> None:
    code = FEED.replace("{ ...post, author }", "{ ...post, writer: author }")
    result = fix_tree(tmp_path, _tree(code), **UNSAFE)
    assert result.skipped[0].reason.endswith(
        "by hand: add `include: { author: true }` to `posts`'s `post.findMany` and use `post.author` "
        "instead of the per-item `user` query"
    )


def test_skip_names_the_batched_query(tmp_path: Path) -> None:
    code = FEED.replace("{ id: post.authorId }", "{ email: post.authorMail }")
    result = fix_tree(tmp_path, _tree(code), **UNSAFE)
    assert result.skipped[0].reason.endswith(
        "`prisma.user.findMany({ where: { email: { in: posts.map((post) => post.authorMail) } } })`, "
        "then pick each row's by `email`"
    )


def test_nothing_changes_without_unsafe_fixes(tmp_path: Path) -> None:
    result = fix_tree(tmp_path, _tree(FEED), select=["SA211"])
    assert not result.changes and (tmp_path / CTRL).read_text() == FEED
    assert [s.reason for s in result.skipped if s.rule == "SA211"] == [
        "unsafe fix (it can change behaviour): rerun with --unsafe-fixes"
    ]
    assert _n_plus_one(tmp_path) == [("SA211", CTRL, 6)]


def test_without_a_schema_nothing_is_proven(tmp_path: Path) -> None:
    result = fix_tree(tmp_path, {CTRL: FEED}, **UNSAFE)
    assert not result.changes
    assert "no model for `prisma.post` in schema.prisma" in result.skipped[0].reason


def test_yaml_marks_both_rules_unsafe_with_their_fix() -> None:
    book = load_rulebook()
    for rule in ("SA211", "SA212"):
        meta = book.rules[rule]
        assert meta.fix_safety is not None and meta.fix_safety.value == "unsafe"
        assert "include: { author: true }" in str(meta.fix) and "Unsafe:" in str(meta.fix)


def test_each_app_of_a_monorepo_reads_its_own_schema(tmp_path: Path) -> None:
    # app b's Post has no author relation; app a's does: each file is judged by its own schema
    other = SCHEMA.replace("  author     User      @relation(fields: [authorId], references: [id])\n", "")
    other = other.replace("  posts    Post[]\n}\n\nmodel Category", "}\n\nmodel Category", 1)
    files = {"a/prisma/schema.prisma": SCHEMA, "a/" + CTRL: FEED, "b/prisma/schema.prisma": other, "b/" + CTRL: FEED}
    result = fix_tree(tmp_path, files, **UNSAFE)
    assert [(a.path, a.rule) for a in result.applied] == [("a/" + CTRL, "SA211")]
    assert [(s.path, s.reason.split(";")[0]) for s in result.skipped] == [
        (
            "b/" + CTRL,
            "schema.prisma declares no relation on Post with `@relation(fields: [authorId], references: [id])` to User",
        )
    ]
    assert (tmp_path / "b" / CTRL).read_text() == FEED


def test_models_for_prefers_the_innermost_project() -> None:
    user, post = PrismaModel("User", 1), PrismaModel("Post", 5)
    schemas = {"prisma/schema.prisma": [user], "apps/web/prisma/schema.prisma": [post, user], "x/schema/a.prisma": []}
    assert models_for(schemas, "apps/web/src/a.ts") == {"Post": post, "User": user}
    assert models_for(schemas, "src/a.ts") == {"User": user}
    assert models_for({"a/prisma/schema.prisma": [user], "b/prisma/schema.prisma": [user]}, "c/x.ts") == {"User": None}
