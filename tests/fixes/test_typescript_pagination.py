"""SA311 fix (unsafe): a Prisma findMany in an Express handler is paged from `?limit=`/`?offset=`.

Each case is a before/after pair run through `fix --write --unsafe-fixes`; the
cases the fix must not touch (services, handlers that page already, options
built elsewhere, other frameworks) keep their text and say what to do instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scan_tree
from fixtest import assert_fixed, assert_idempotent, fix_tree

from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT
from scaleaudit.fixes.typescript_pagination import suggestion
from scaleaudit.rulebook import load_rulebook

UNSAFE = {"unsafe": True, "select": ["SA311"]}
CTRL = "src/controllers/post.controller.ts"
IMPORTS = "import { Request, Response } from 'express';\nimport { prisma } from '../lib/prisma';\n"
TAKE = "Math.min(Math.max(parseInt(String({req}.query.limit), 10) || 50, 1), 200)"
SKIP = "Math.max(parseInt(String({req}.query.offset), 10) || 0, 0)"
LIST = IMPORTS + (
    "export async function list(req: Request, res: Response) {\n  res.json(await prisma.post.findMany());\n}\n"
)


def _decls(req: str = "req", indent: str = "  ", semi: str = ";", take: str = "take", skip: str = "skip") -> str:
    return f"{indent}const {take} = {TAKE.format(req=req)}{semi}\n{indent}const {skip} = {SKIP.format(req=req)}{semi}\n"


def _sa311(root: Path) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in scan_tree(root).findings if f.rule == "SA311"]


def test_arrow_handler_with_typed_params(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export const list = async (req: Request, res: Response) => {\n"
        "  const posts = await prisma.post.findMany({ where: { published: true } });\n"
        "  res.json(posts);\n"
        "};\n"
    )
    after = IMPORTS + (
        "export const list = async (req: Request, res: Response) => {\n"
        + _decls()
        + "  const posts = await prisma.post.findMany({ where: { published: true }, take, skip });\n"
        "  res.json(posts);\n"
        "};\n"
    )
    result = assert_fixed(tmp_path, {CTRL: before}, {CTRL: after}, **UNSAFE)
    assert [a.rule for a in result.applied] == ["SA311"]
    assert not _sa311(tmp_path)  # re-scan: `take` is there now
    assert_idempotent(tmp_path, **UNSAFE)


def test_function_handler_keeps_its_request_name_and_nested_block(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function listPosts(_req: Request, res: Response) {\n"
        "    if (res.locals.admin) {\n"
        "        return res.json(await prisma.post.findMany({ where: { published: true } }));\n"
        "    }\n"
        "    res.json([]);\n"
        "}\n"
    )
    after = IMPORTS + (
        "export async function listPosts(_req: Request, res: Response) {\n"
        "    if (res.locals.admin) {\n"
        + _decls("_req", indent="        ")
        + "        return res.json(await prisma.post.findMany({ where: { published: true }, take, skip }));\n"
        "    }\n"
        "    res.json([]);\n"
        "}\n"
    )
    assert_fixed(tmp_path, {CTRL: before}, {CTRL: after}, **UNSAFE)


def test_router_callback_without_semicolons_and_without_arguments(tmp_path: Path) -> None:
    # prisma-examples' rest-express style: inline callbacks, no semicolons, any parameter names
    before = (
        "import express from 'express'\nimport { prisma } from './db'\nconst app = express()\n\n"
        "app.get('/users', async (q, s) => {\n  const users = await prisma.user.findMany()\n  s.json(users)\n})\n"
    )
    after = (
        "import express from 'express'\nimport { prisma } from './db'\nconst app = express()\n\n"
        "app.get('/users', async (q, s) => {\n"
        + _decls("q", semi="")
        + "  const users = await prisma.user.findMany({ take, skip })\n  s.json(users)\n})\n"
    )
    assert_fixed(tmp_path, {"src/index.ts": before}, {"src/index.ts": after}, **UNSAFE)
    assert not _sa311(tmp_path)


def test_a_statement_starting_with_a_parenthesis_gets_semicolons(tmp_path: Path) -> None:
    # without them `const skip = ...\n(res as any)` would call the Math.max result
    before = (
        "import { prisma } from './db'\nrouter.get('/', async (req, res) => {\n"
        "  (res as any).json(await prisma.user.findMany())\n})\n"
    )
    result = fix_tree(tmp_path, {"src/routes/users.ts": before}, **UNSAFE)
    code = (tmp_path / "src/routes/users.ts").read_text()
    assert result.applied and "|| 0, 0);\n  (res as any).json(await prisma.user.findMany({ take, skip }))" in code


def test_commonjs_handler(tmp_path: Path) -> None:
    before = (
        "const { prisma } = require('../lib/prisma');\n\n"
        "exports.list = async function (req, res, next) {\n"
        "\ttry {\n"
        "\t\tres.json(await prisma.user.findMany({\n"
        "\t\t\twhere: { active: true },\n"
        "\t\t\torderBy: { id: 'desc' } // newest first\n"
        "\t\t}));\n"
        "\t} catch (err) { next(err); }\n"
        "};\n"
    )
    after = (
        "const { prisma } = require('../lib/prisma');\n\n"
        "exports.list = async function (req, res, next) {\n"
        "\ttry {\n" + _decls(indent="\t\t") + "\t\tres.json(await prisma.user.findMany({\n"
        "\t\t\twhere: { active: true },\n"
        "\t\t\torderBy: { id: 'desc' }, // newest first\n"
        "\t\t\ttake,\n"
        "\t\t\tskip\n"
        "\t\t}));\n"
        "\t} catch (err) { next(err); }\n"
        "};\n"
    )
    rel = "src/controllers/user.controller.js"
    assert_fixed(tmp_path, {rel: before}, {rel: after}, **UNSAFE)
    assert_idempotent(tmp_path, **UNSAFE)


def test_multiline_options_with_a_trailing_comma(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function list(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany({\n"
        "    where: { published: true },\n"
        "    include: { author: true },\n"
        "  });\n"
        "  res.json(posts);\n"
        "}\n"
    )
    after = IMPORTS + (
        "export async function list(req: Request, res: Response) {\n"
        + _decls()
        + "  const posts = await prisma.post.findMany({\n"
        "    where: { published: true },\n"
        "    include: { author: true },\n"
        "    take,\n"
        "    skip,\n"
        "  });\n"
        "  res.json(posts);\n"
        "}\n"
    )
    assert_fixed(tmp_path, {CTRL: before}, {CTRL: after}, **UNSAFE)


def test_names_the_handler_uses_are_not_shadowed(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function list(req: Request, res: Response) {\n"
        "  const take = (xs: unknown[]) => xs.slice(0, 3);\n"
        "  res.json(take(await prisma.post.findMany({})));\n"
        "}\n"
    )
    after = IMPORTS + (
        "export async function list(req: Request, res: Response) {\n"
        "  const take = (xs: unknown[]) => xs.slice(0, 3);\n"
        + _decls(take="limit")
        + "  res.json(take(await prisma.post.findMany({ take: limit, skip })));\n"
        "}\n"
    )
    assert_fixed(tmp_path, {CTRL: before}, {CTRL: after}, **UNSAFE)
    assert_idempotent(tmp_path, **UNSAFE)


def test_controller_registered_by_a_route_file(tmp_path: Path) -> None:
    # parameter names say nothing; the route registration does
    controller = (
        "import { prisma } from '../lib/prisma';\n"
        "export const list = async (q, s) => {\n  s.json(await prisma.tag.findMany());\n};\n"
    )
    routes = (
        "import { Router } from 'express';\nimport * as tags from '../controllers/tag.controller';\n"
        "const router = Router();\nrouter.get('/tags', tags.list);\nexport default router;\n"
    )
    files = {"src/controllers/tag.controller.ts": controller, "src/routes/index.ts": routes}
    result = fix_tree(tmp_path, files, **UNSAFE)
    code = (tmp_path / "src/controllers/tag.controller.ts").read_text()
    assert [a.rule for a in result.applied] == ["SA311"]
    assert "const take = Math.min(Math.max(parseInt(String(q.query.limit)" in code
    assert "prisma.tag.findMany({ take, skip })" in code


def test_commonjs_function_registered_in_its_own_route_file(tmp_path: Path) -> None:
    before = (
        "const express = require('express')\nconst { prisma } = require('./db')\nconst router = express.Router()\n\n"
        "async function list(a, b) {\n  b.json(await prisma.tag.findMany({ orderBy: { name: 'asc' } }))\n}\n\n"
        "router.get('/', list)\nmodule.exports = router\n"
    )
    after = before.replace(
        "  b.json(await prisma.tag.findMany({ orderBy: { name: 'asc' } }))",
        _decls("a", semi="") + "  b.json(await prisma.tag.findMany({ orderBy: { name: 'asc' }, take, skip }))",
    )
    assert_fixed(tmp_path, {"src/routes/tags.js": before}, {"src/routes/tags.js": after}, **UNSAFE)


def test_rows_mapped_then_sent_are_paged(tmp_path: Path) -> None:
    before = IMPORTS + (
        "export async function list(req: Request, res: Response) {\n"
        "  const pizzas = await prisma.pizza.findMany({ orderBy: { id: 'asc' } });\n"
        "  const out = pizzas.map((p) => ({ ...p, price: p.price / 100 }));\n"
        "  res.status(200).json({ items: out });\n"
        "}\n"
    )
    result = fix_tree(tmp_path, {CTRL: before}, **UNSAFE)
    assert [a.rule for a in result.applied] == ["SA311"]
    assert "prisma.pizza.findMany({ orderBy: { id: 'asc' }, take, skip })" in (tmp_path / CTRL).read_text()


SKIPS = [
    pytest.param(
        CTRL,
        IMPORTS + "export async function checkout(req: Request, res: Response) {\n"
        "  const items = await prisma.cartItem.findMany({ where: { cartId: req.body.cartId } });\n"
        "  const order = await prisma.order.create({ data: { items: { create: items } } });\n"
        "  await prisma.cart.delete({ where: { id: req.body.cartId } });\n"
        "  res.status(201).json(order);\n}\n",
        "the handler also writes (`.create(...`)",
        id="read-feeds-a-write",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function total(req: Request, res: Response) {\n"
        "  const lines = await prisma.line.findMany({ where: { paid: true } });\n"
        "  res.json({ total: lines.reduce((sum, l) => sum + l.amount, 0) });\n}\n",
        "summed up",
        id="rows-summed",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function allowed(req: Request, res: Response) {\n"
        "  const admins = await prisma.user.findMany({ where: { role: 'admin' } });\n"
        "  const ok = admins.some((a) => a.id === Number(req.params.id));\n"
        "  res.json({ ok: true });\n}\n",
        "does not reach `res.json()`",
        id="rows-checked-not-sent",
    ),
    pytest.param(
        CTRL,
        "import { prisma } from '../lib/prisma';\n"
        "export async function load(where: object, order: object) {\n"
        "  return prisma.post.findMany({ where, orderBy: order });\n}\n",
        "not in an Express-style handler",
        id="two-parameter-helper-no-route-registers",
    ),
    pytest.param(
        "src/services/post.service.ts",
        "import { prisma } from '../lib/prisma';\n"
        "export async function allPosts() {\n  return prisma.post.findMany();\n}\n",
        "not in an Express-style handler",
        id="service-function",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function list(req: Request, res: Response) {\n"
        "  const page = Number(req.query.page) || 1;\n"
        "  res.json({ page, posts: await prisma.post.findMany({ where: { published: true } }) });\n}\n",
        "already reads `req.query.page`",
        id="existing-req.query.page",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function list(req: Request, res: Response) {\n"
        "  const { limit } = req.query;\n  res.json(await prisma.post.findMany({ where: {} }));\n}\n",
        "already reads `req.query.limit`",
        id="destructured-req.query.limit",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function list(req: Request, res: Response) {\n"
        "  const args = { where: { published: true } };\n  res.json(await prisma.post.findMany(args));\n}\n",
        "pass `{ ...args, take, skip }`",
        id="non-object-argument",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function list(req: Request, res: Response) {\n"
        "  res.json(await prisma.post.findMany({ skip: 10 }));\n}\n",
        "already pages with `skip`",
        id="skip-without-take",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function both(req: Request, res: Response) {\n"
        "  const posts = await prisma.post.findMany();\n  const tags = await prisma.tag.findMany();\n"
        "  res.json({ posts, tags });\n}\n",
        "several unbounded findMany calls",
        id="two-lists-in-one-handler",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export const list = async (req: Request, res: Response) =>\n"
        "  res.json(await prisma.post.findMany());\n",
        "expression body",
        id="arrow-expression-body",
    ),
    pytest.param(
        CTRL,
        IMPORTS + "export async function list({ query }: Request, res: Response) {\n"
        "  res.json(await prisma.post.findMany());\n}\n",
        "destructured",
        id="destructured-request",
    ),
    pytest.param(
        "src/app/api/orders/route.ts",
        "import { prisma } from '@/lib/prisma';\n"
        "export const GET = async (req: Request, res: Response) => {\n"
        "  const orders = await prisma.order.findMany({ orderBy: { id: 'desc' } });\n"
        "  return new Response(JSON.stringify(orders));\n};\n",
        "Fetch API `Request` (no `.query`)",
        id="fetch-request-lookalike",
    ),
    pytest.param(
        "src/routes/posts.ts",
        "import Fastify from 'fastify';\nimport { prisma } from '../lib/prisma';\nconst app = Fastify();\n"
        "app.get('/posts', async (request, reply) => {\n  return prisma.post.findMany();\n});\n",
        "a fastify app",
        id="fastify-lookalike",
    ),
]


@pytest.mark.parametrize(("rel", "code", "reason"), SKIPS)
def test_left_alone_with_the_edit_to_make(tmp_path: Path, rel: str, code: str, reason: str) -> None:
    result = fix_tree(tmp_path, {rel: code}, **UNSAFE)
    assert not result.changes
    assert (tmp_path / rel).read_text() == code
    reasons = [s.reason for s in result.skipped if s.rule == "SA311"]
    assert reasons and all(reason in r for r in reasons), reasons
    assert "take" in reasons[0]  # says what to write


def test_suggestion_spells_out_the_declarations() -> None:
    text = suggestion("request")
    assert TAKE.format(req="request") in text and SKIP.format(req="request") in text


def test_nothing_changes_without_unsafe_fixes(tmp_path: Path) -> None:
    code = LIST
    result = fix_tree(tmp_path, {CTRL: code}, select=["SA311"])
    assert not result.changes and (tmp_path / CTRL).read_text() == code
    assert [s.reason for s in result.skipped if s.rule == "SA311"] == [
        "unsafe fix (it can change behaviour): rerun with --unsafe-fixes"
    ]
    assert _sa311(tmp_path) == [(CTRL, 4)]


def test_crlf_file_keeps_its_line_endings(tmp_path: Path) -> None:
    code = LIST
    (tmp_path / "src/controllers").mkdir(parents=True)
    (tmp_path / CTRL).write_bytes(code.replace("\n", "\r\n").encode())
    result = fix_tree(tmp_path, {}, **UNSAFE)
    data = (tmp_path / CTRL).read_bytes()
    assert result.applied and b"\n" not in data.replace(b"\r\n", b"")
    assert b"  const skip = Math.max(parseInt(String(req.query.offset), 10) || 0, 0);\r\n  res.json(" in data


def test_yaml_states_the_numbers_the_fix_uses() -> None:
    meta = load_rulebook().rules["SA311"]
    assert meta.fix_safety is not None and meta.fix_safety.value == "unsafe"
    fix_text = " ".join(str(meta.fix).split())
    assert f"|| {DEFAULT_LIMIT}, 1), {MAX_LIMIT})" in fix_text and TAKE.format(req="req") in fix_text
