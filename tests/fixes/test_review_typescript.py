"""Adversarial review of the Prisma fixers (SA311 paging, SA211/SA212 include): inputs on
which they once wrote wrong code, each with the text they must produce now (or keep).

Only cases the fixers' own tests did not already pin down live here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import need
from fixtest import assert_fixed, fix_tree
from test_typescript_nplusone import SCHEMA, SCHEMA_REL

PAGE = {"unsafe": True, "select": ["SA311"]}
INCLUDE = {"unsafe": True, "select": ["SA211", "SA212"]}
CTRL = "src/controllers/post.controller.ts"
IMPORTS = "import { Request, Response } from 'express';\nimport { prisma } from '../lib/prisma';\n"
TAKE = "const take = Math.min(Math.max(parseInt(String(req.query.limit), 10) || 50, 1), 200);\n"
SKIP = "const skip = Math.max(parseInt(String(req.query.offset), 10) || 0, 0);\n"


def _left_alone(tmp_path: Path, files: dict[str, str], options: dict[str, object], reason: str) -> None:
    result = fix_tree(tmp_path, files, **options)
    assert not result.changes
    for rel, code in files.items():
        assert (tmp_path / rel).read_text() == code
    reasons = [s.reason for s in result.skipped]
    assert reasons and all(reason in r for r in reasons), reasons


# --- SA311 -------------------------------------------------------------------------------


def test_paging_skips_a_handler_that_declares_req_again_around_the_call(tmp_path: Path) -> None:
    # was: `const take = ...String(req.query.limit)...` inside the loop, reading the loop's number
    code = IMPORTS + (
        "export const list = async (req: Request, res: Response) => {\n"
        "  for (const req of [1, 2]) {\n"
        "    const posts = await prisma.post.findMany({ where: { id: req } });\n"
        "    res.json(posts);\n"
        "  }\n"
        "};\n"
    )
    _left_alone(tmp_path, {CTRL: code}, PAGE, "`req` is declared again inside the handler (line 4)")


def test_paging_ignores_a_req_parameter_of_a_callback_elsewhere(tmp_path: Path) -> None:
    # the look-alike: the inner `req` hides nothing where the findMany is
    body = (
        "  const urls = ['a'].map((req) => req.length);\n"
        "  const posts = await prisma.post.findMany({ where: { published: true }, take, skip });\n"
        "  res.json({ posts, urls });\n"
        "};\n"
    )
    head = IMPORTS + "export const list = async (req: Request, res: Response) => {\n"
    before = head + body.replace(", take, skip", "")
    after = head + body.replace("  const posts", "  " + TAKE + "  " + SKIP + "  const posts", 1)
    assert_fixed(tmp_path, {CTRL: before}, {CTRL: after}, **PAGE)


def test_paging_skips_a_request_whose_query_type_has_no_limit(tmp_path: Path) -> None:
    # was: `req.query.limit` on `Request<{}, any, any, { q?: string }>`, which tsc refuses (TS2339)
    code = IMPORTS + (
        "export async function list(req: Request<{}, any, any, { q?: string }>, res: Response) {\n"
        "  res.json(await prisma.post.findMany({ where: { title: req.query.q } }));\n"
        "}\n"
    )
    _left_alone(tmp_path, {CTRL: code}, PAGE, "add `limit?: string; offset?: string` to it")


TYPED_EXPRESS = """
declare module 'express' {
  export interface ParsedQs { [key: string]: undefined | string | string[] | ParsedQs | ParsedQs[] }
  export interface Request<P = {}, ResBody = any, ReqBody = any, ReqQuery = ParsedQs> { params: P; query: ReqQuery }
  export interface Response { json(body: unknown): this }
}
declare module 'prisma-client' {
  export const prisma: { post: { findMany(args?: object): Promise<{ id: number }[]> } };
}
"""


def _type_checks(root: Path) -> None:
    """tsc --strict accepts the fixed files against TYPED_EXPRESS."""
    tsc = shutil.which("tsc")
    need(tsc is not None, "tsc on PATH (npm install -g typescript@5)")
    assert tsc is not None
    (root / "express.d.ts").write_text(TYPED_EXPRESS)
    (root / "tsconfig.json").write_text(
        '{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2020", "module": "commonjs", "types": []},'
        ' "include": ["express.d.ts", "src/**/*.ts"]}'
    )
    proc = subprocess.run([tsc, "-p", str(root)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout


def test_paging_a_request_whose_query_type_has_limit_and_offset_type_checks(tmp_path: Path) -> None:
    query = "{ q?: string; limit?: string; offset?: string }"
    code = IMPORTS.replace("'../lib/prisma'", "'prisma-client'") + (
        f"export async function list(req: Request<{{}}, any, any, {query}>, res: Response) {{\n"
        "  res.json(await prisma.post.findMany({ where: { title: req.query.q } }));\n"
        "}\n"
    )
    result = fix_tree(tmp_path, {CTRL: code}, **PAGE)
    assert [a.rule for a in result.applied] == ["SA311"]
    assert "  " + TAKE in (tmp_path / CTRL).read_text()
    _type_checks(tmp_path)


def test_paging_declarations_go_above_the_comments_that_lead_the_statement(tmp_path: Path) -> None:
    # was: the declarations between `// @ts-expect-error` and its line: tsc then reports the directive
    # unused and the error it hid (the same for `// eslint-disable-next-line`)
    head = IMPORTS.replace("'../lib/prisma'", "'prisma-client'") + (
        "export const list = async (req: Request, res: Response) => {\n  const n = 1; // one\n"
    )
    rest = (
        "  // the newest first\n"
        "  // @ts-expect-error: a page of posts is not a string\n"
        "  const posts: string = await prisma.post.findMany({ where: { n } });\n"
        "  res.json(posts);\n"
        "};\n"
    )
    paged = rest.replace("{ n } }", "{ n }, take, skip }")
    assert_fixed(tmp_path, {CTRL: head + rest}, {CTRL: head + "  " + TAKE + "  " + SKIP + paged}, **PAGE)
    _type_checks(tmp_path)


def test_paging_keeps_semicolons_when_the_statement_is_a_switch(tmp_path: Path) -> None:
    # was: `const take = ...` without `;` in a file that ends every statement with one (the `switch` ends with `}`)
    head = IMPORTS + "export async function list(req: Request, res: Response) {\n"
    rest = (
        "  switch (req.params.kind) {\n"
        "    case 'all':\n"
        "      return res.json(await prisma.post.findMany());\n"
        "    default:\n"
        "      res.end();\n"
        "  }\n"
        "}\n"
    )
    after = head + "  " + TAKE + "  " + SKIP + rest.replace("findMany()", "findMany({ take, skip })")
    assert_fixed(tmp_path, {CTRL: head + rest}, {CTRL: after}, **PAGE)


@pytest.mark.parametrize(
    ("reads", "reason"),
    [
        ("const limit = Number(req.query?.limit ?? 10);\n  const page = 0;\n", "`req.query.limit`"),
        ("const { page, limit } = listQuery.parse(req.query);\n", "`req.query.page`"),
        ("const q = req.query;\n  const limit = Number(q.limit ?? 10), page = 0;\n", "`req.query.limit` (through `q`)"),
        ("const q: any = req.query;\n  const { page, limit } = q;\n", "`req.query.page` (through `q`)"),
    ],
    ids=["optional-chaining", "destructured-from-a-parse", "through-an-alias", "destructured-from-an-alias"],
)
def test_paging_skips_a_handler_that_pages_in_memory(tmp_path: Path, reads: str, reason: str) -> None:
    # was: a DB page on top of the handler's own slice, so `?offset=20&limit=10` (or page 6 of 10) gave other rows
    code = IMPORTS + (
        "export const list = async (req: Request, res: Response) => {\n"
        f"  {reads}"
        "  const posts = await prisma.post.findMany({ where: { published: true } });\n"
        "  res.json(posts.slice(page * limit, (page + 1) * limit));\n"
        "};\n"
    )
    _left_alone(tmp_path, {CTRL: code}, PAGE, f"the handler already reads {reason}")


# --- SA211 / SA212 -----------------------------------------------------------------------


def test_include_skips_a_loop_that_destructures_its_item_name_again(tmp_path: Path) -> None:
    # was: `const author = post.author;` where `post` is `wrapper.post`, not the row (undefined, and a tsc error)
    code = IMPORTS + (
        "export async function feed(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({ take: 20 });\n"
        "  const wrapper = { post: { authorId: 1 } };\n"
        "  for (const post of posts) {\n"
        "    res.write(post.title);\n"
        "    if (post.title) {\n"
        "      const { post } = wrapper;\n"
        "      const author = await prisma.user.findUnique({ where: { id: post.authorId } });\n"
        "      res.write(author!.name);\n"
        "    }\n"
        "  }\n"
        "  res.end();\n"
        "}\n"
    )
    _left_alone(
        tmp_path, {SCHEMA_REL: SCHEMA, CTRL: code}, INCLUDE, "`post` is declared again inside the loop (line 9)"
    )


def test_include_goes_into_multiline_options_without_a_trailing_comma(tmp_path: Path) -> None:
    # was: "its rewrite did not re-parse" (`where: {...}\n include: {...},`: the `,` landed after the new line)
    head = "const { prisma } = require('../lib/prisma')\nmodule.exports = {\n  list: async (req, res) => {\n"
    rest = (
        "    for (const post of posts) {\n"
        "      const author = await prisma.user.findUnique({ where: { id: post.authorId } })\n"
        "      res.write(author.name)\n"
        "    }\n"
        "    res.end()\n"
        "  },\n"
        "}\n"
    )
    options = "    const posts = await prisma.post.findMany({\n      where: { published: true }MORE\n    })\n"
    before = head + options.replace("MORE", "") + rest
    after = (
        head
        + options.replace("MORE", ",\n      include: { author: true }")
        + rest.replace("await prisma.user.findUnique({ where: { id: post.authorId } })", "post.author")
    )
    rel = "src/routes/posts.cjs"
    result = assert_fixed(tmp_path, {SCHEMA_REL: SCHEMA, rel: before}, {rel: after}, **INCLUDE)
    assert [a.rule for a in result.applied] == ["SA211"] and not result.failures
