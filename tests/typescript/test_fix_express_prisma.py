"""End to end: `scaleaudit fix --write` on a copy of the Express + Prisma fixture.

After the fix exactly one module-level PrismaClient remains (the shared
singleton), every former site imports it under its old name, every file
parses, .env.example and schema.prisma carry the pool parameters and
indexes, and a second run changes nothing. With `tsc` on PATH the fixed
TypeScript also type-checks against minimal stubs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, need

from scaleaudit import api
from scaleaudit.fixes.api import run_fix
from scaleaudit.model import ScanResult

_CONSTRUCTION = re.compile(r"new\s+(?:\w+\.)?(?:PrismaClient|DB)\s*\(")


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanResult, list[str]]:
    root = tmp_path_factory.mktemp("express") / "app"
    shutil.copytree(FIXTURES / "express_prisma", root)
    settings = api.settings_for([root], isolated=True)
    before = run_fix([root], settings, write=False, use_cache=False)
    sites = sorted({f.path for f in before.scan.findings if f.rule == "SA101"})
    result = run_fix([root], settings, write=True, use_cache=False)
    assert result.written and not result.failures, result.failures
    return root, api.scan([root], settings, use_cache=False), sites


def test_one_module_level_client_remains(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    root, scan, _ = fixed
    module_sites = [f for f in scan.facts if f.kind == "client-site" and f.get("kind") == "prisma-client"
                    and f.get("scope") == "module"]  # fmt: skip
    assert [f.location.path for f in module_sites] == ["src/lib/prisma.ts"]
    app_files = [p for p in (root / "src").rglob("*") if p.suffix in (".ts", ".js", ".mjs") and "__tests__" not in p.parts]
    constructions = {p.relative_to(root).as_posix(): len(_CONSTRUCTION.findall(p.read_text())) for p in app_files}
    # the singleton, and the per-request client SA102 leaves to --unsafe-fixes
    assert {k: v for k, v in constructions.items() if v} == {"src/lib/prisma.ts": 1, "src/controllers/user.controller.ts": 1}
    assert not [f for f in scan.findings if f.rule == "SA101"]


def test_every_site_imports_the_shared_client(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    root, _, sites = fixed
    assert len(sites) == 30
    for rel in sites:
        code = (root / rel).read_text()
        assert re.search(r"(from|require\()\s*'\.\./\.\./lib/prisma(\.js)?'", code), rel
        assert "@prisma/client" not in code, rel  # the unused import went with the construction
        local = "db" if "as db" in code or "prisma: db" in code else "prisma"
        assert re.search(rf"\b{local}\.\w+\.find", code), rel  # the old name still works


def test_every_file_parses(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    _, scan, _ = fixed
    assert not [d for d in scan.diagnostics if d.kind in ("parse-error", "internal-error")]


def test_config_files_fixed(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    root, scan, _ = fixed
    env = (root / ".env.example").read_text()
    assert '?schema=public&connection_limit=11&pool_timeout=20"  # expect: SA104' in env
    schema = (root / "prisma" / "schema.prisma").read_text()
    assert "  @@index([postId])\n}" in schema and "\n\n  @@index([userId])\n}" in schema
    assert not [f for f in scan.findings if f.rule in ("SA104", "SA411")]


def test_second_run_changes_nothing(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    root, _, _ = fixed
    again = run_fix([root], api.settings_for([root], isolated=True), write=True, use_cache=False)
    assert not again.changes and not again.failures


STUBS = """
declare var process: { env: Record<string, string | undefined> };
declare module '@prisma/client' {
  export class PrismaClient { constructor(options?: unknown); [model: string]: any; }
}
declare module 'express' {
  export type Request = any; export type Response = any; export type NextFunction = any;
  export function Router(): any;
  const express: any; export default express;
}
declare module 'express-session' { const s: any; export default s; }
declare module 'socket.io' { export class Server { constructor(...a: unknown[]); [k: string]: any; } }
declare module 'multer' { const m: any; export default m; }
declare module 'pg' { export class Pool { constructor(o?: unknown); query(...a: unknown[]): Promise<any>; } }
declare module 'ioredis' { export default class Redis { constructor(...a: unknown[]); [k: string]: any; } }
declare module '@aws-sdk/client-s3' { export class S3Client { constructor(o?: unknown); } }
declare module 'http' { export type Server = any; const http: any; export default http; }
declare module 'path' { const p: any; export default p; }
"""


def _tsc(root: Path, emit: str = "") -> subprocess.CompletedProcess[str]:
    """Type-check the fixed project against STUBS (and compile it into `emit` when given)."""
    tsc = shutil.which("tsc")
    need(tsc is not None, "tsc on PATH (scripts/services.sh installs it: npm install -g typescript@5)")
    assert tsc is not None
    (root / "stubs.d.ts").write_text(STUBS)
    output = f'"outDir": "{emit}", "rootDir": "."' if emit else '"noEmit": true'
    (root / "tsconfig.json").write_text(
        '{"compilerOptions": {"strict": false, ' + output + ', "esModuleInterop": true, "module": "commonjs",'
        ' "target": "es2020", "skipLibCheck": true, "types": []},'
        ' "include": ["stubs.d.ts", "src/**/*.ts"], "exclude": ["src/__tests__"]}'
    )
    return subprocess.run([tsc, "-p", str(root)], capture_output=True, text=True, timeout=120, check=False)


def test_fixed_typescript_type_checks(fixed: tuple[Path, ScanResult, list[str]]) -> None:
    root, _, _ = fixed
    proc = _tsc(root)
    assert proc.returncode == 0, proc.stdout[-3000:]


# --- with --unsafe-fixes: SA311 pages the unbounded list (post.controller.ts:6) --------------


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanResult]:
    root = tmp_path_factory.mktemp("express-unsafe") / "app"
    shutil.copytree(FIXTURES / "express_prisma", root)
    settings = api.settings_for([root], isolated=True)
    result = run_fix([root], settings, write=True, unsafe=True, use_cache=False)
    assert result.written and not result.failures, result.failures
    assert ("SA311", "src/controllers/post.controller.ts", 6) in {(a.rule, a.path, a.line) for a in result.applied}
    return root, api.scan([root], settings, use_cache=False)


def test_unsafe_fix_pages_the_list_and_reaches_its_fixed_point(paged: tuple[Path, ScanResult]) -> None:
    root, scan = paged
    assert not [f for f in scan.findings if f.rule == "SA311"]
    code = (root / "src/controllers/post.controller.ts").read_text()
    assert "prisma.post.findMany({ where: { published: true }, take, skip })" in code
    assert "const take = Math.min(Math.max(parseInt(String(_req.query.limit), 10) || 50, 1), 200);" in code
    again = run_fix([root], api.settings_for([root], isolated=True), write=True, unsafe=True, use_cache=False)
    assert not again.changes and not again.failures


def test_unsafe_fixed_typescript_type_checks(paged: tuple[Path, ScanResult]) -> None:
    root, _ = paged
    proc = _tsc(root)
    assert proc.returncode == 0, proc.stdout[-3000:]


# A PrismaClient whose every delegate records what findMany was asked for.
FAKE_PRISMA = """
class PrismaClient {
  constructor() {
    return new Proxy({}, { get: (_, model) => ({
      findMany: async (args) => { globalThis.calls.push({ model, args }); return []; },
    }) });
  }
}
module.exports = { PrismaClient };
"""
# Calls the compiled handler the way Express would, once per query string.
CALL_HANDLER = """
globalThis.calls = [];
const { listPosts } = require('./out/src/controllers/post.controller.js');
(async () => {
  for (const query of JSON.parse(process.argv[1])) {
    await listPosts({ query }, { json() {} });
  }
  console.log(JSON.stringify(globalThis.calls));
})();
"""


def test_paged_handler_passes_the_page_to_prisma(paged: tuple[Path, ScanResult]) -> None:
    node = shutil.which("node")
    need(node is not None, "node on PATH")
    assert node is not None
    root, _ = paged
    proc = _tsc(root, emit="out")
    assert proc.returncode == 0, proc.stdout[-3000:]
    fake = root / "out" / "node_modules" / "@prisma" / "client"
    fake.mkdir(parents=True)
    (fake / "index.js").write_text(FAKE_PRISMA)
    queries = [{"limit": "5"}, {}, {"limit": "100000", "offset": "40"}, {"limit": "-100000", "offset": "-3"},
               {"limit": "2.5", "offset": "x"}]  # fmt: skip
    run = subprocess.run(
        [node, "-e", CALL_HANDLER, json.dumps(queries)], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-3000:]
    pages = [(c["model"], c["args"].pop("take"), c["args"].pop("skip"), c["args"]) for c in json.loads(run.stdout)]
    where = {"where": {"published": True}}
    # asked-for size; the default; capped at 200; a negative take (Prisma: "the last n") refused; fractions dropped
    assert pages == [("post", 5, 0, where), ("post", 50, 0, where), ("post", 200, 40, where),
                     ("post", 1, 0, where), ("post", 2, 0, where)]  # fmt: skip


# --- with --unsafe-fixes: SA211 loads each post's author with the list (post.controller.ts:14) --------


def test_unsafe_fix_includes_the_author_instead_of_a_lookup_per_post(paged: tuple[Path, ScanResult]) -> None:
    root, scan = paged
    assert not [f for f in scan.findings if f.rule == "SA211"]
    code = (root / "src/controllers/post.controller.ts").read_text()
    assert "const posts = await prisma.post.findMany({ take: 20, include: { author: true } });" in code
    assert "    const author = post.author;  // expect: SA211\n" in code
    assert "prisma.user.findUnique" not in code


# A PrismaClient over three posts and two users: findMany honours where/take/skip and
# `include` of Post.author, findUnique finds by its where; every call is recorded.
FAKE_PRISMA_ROWS = """
const tables = {
  user: [{ id: 1, username: 'ann', email: 'a@x' }, { id: 2, username: 'bob', email: 'b@x' }],
  post: [{ id: 1, title: 'a', published: true, authorId: 1 }, { id: 2, title: 'b', published: false, authorId: 2 },
         { id: 3, title: 'c', published: true, authorId: 1 }],
};
const relations = { post: { author: ['user', 'authorId'] } };
const matches = (row, where) => Object.entries(where || {}).every(([k, v]) => row[k] === v);
class PrismaClient {
  constructor() {
    return new Proxy({}, { get: (_, model) => ({
      findMany: async (args = {}) => {
        globalThis.calls.push({ model, method: 'findMany', args });
        const skip = args.skip || 0;
        return tables[model].filter((r) => matches(r, args.where)).slice(skip, skip + (args.take ?? Infinity))
          .map((r) => {
            const row = { ...r };
            for (const [name, load] of Object.entries(args.include || {})) {
              const [target, fk] = relations[model][name];
              if (load === true) row[name] = tables[target].find((t) => t.id === r[fk]) ?? null;
            }
            return row;
          });
      },
      findUnique: async (args) => {
        globalThis.calls.push({ model, method: 'findUnique', args });
        return tables[model].find((r) => matches(r, args.where)) ?? null;
      },
    }) });
  }
}
module.exports = { PrismaClient };
"""
# Calls the compiled `feed` handler the way Express would and prints what it wrote and queried.
CALL_FEED = """
globalThis.calls = [];
const { feed } = require('./out/src/controllers/post.controller.js');
(async () => {
  const written = [];
  await feed({ query: {} }, { write(chunk) { written.push(chunk); }, end() { written.push('<end>'); } });
  console.log(JSON.stringify({ written, calls: globalThis.calls }));
})();
"""


def _run_feed(root: Path) -> dict[str, list[Any]]:
    node = shutil.which("node")
    need(node is not None, "node on PATH")
    assert node is not None
    proc = _tsc(root, emit="out")
    assert proc.returncode == 0, proc.stdout[-3000:]
    fake = root / "out" / "node_modules" / "@prisma" / "client"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "index.js").write_text(FAKE_PRISMA_ROWS)
    run = subprocess.run([node, "-e", CALL_FEED], cwd=root, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    out: dict[str, list[Any]] = json.loads(run.stdout)
    return out


def test_included_author_gives_the_same_response_with_one_query(paged: tuple[Path, ScanResult], tmp_path: Path) -> None:
    original = tmp_path / "original"
    shutil.copytree(FIXTURES / "express_prisma", original)
    before = _run_feed(original)
    after = _run_feed(paged[0])
    assert [(c["model"], c["method"]) for c in before["calls"]] == [("post", "findMany")] + [("user", "findUnique")] * 3
    assert after["calls"] == [
        {"model": "post", "method": "findMany", "args": {"take": 20, "include": {"author": True}}}
    ]
    assert after["written"] == before["written"]  # the same bytes, author and all
    first = json.loads(after["written"][0])
    assert first == {"id": 1, "title": "a", "published": True, "authorId": 1,
                     "author": {"id": 1, "username": "ann", "email": "a@x"}}  # fmt: skip
