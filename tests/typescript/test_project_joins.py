"""Project-phase joins fed by the TypeScript and config-file front ends."""

from __future__ import annotations

from pathlib import Path

from conftest import scan_tree, write_tree

from scaleaudit.model import Confidence

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model User {
  id    Int    @id
  email String
  name  String @unique
  posts Post[]
  @@index([email, name])
}
model Post {
  id       Int     @id
  slug     String
  draft    Boolean
  authorId Int
  author   User    @relation(fields: [authorId], references: [id])
}
"""
CTRL = "import { prisma } from '../lib/prisma';\nexport async function h(req, res) {\n"


def _rules(tmp_path: Path, files: dict[str, str], *rules: str) -> set[tuple[str, int, str]]:
    write_tree(tmp_path, files)
    result = scan_tree(tmp_path, select=rules, min_confidence=Confidence.LOW)
    return {(f.path, f.line, f.rule) for f in result.findings}


def test_sa412_filters_on_unindexed_scalars_only(tmp_path: Path) -> None:
    code = CTRL + (
        "  await prisma.post.findFirst({ where: { slug: req.params.slug } });\n"  # line 3: reported
        "  await prisma.post.findMany({ where: { draft: false, authorId: 1 }, take: 5 });\n"  # bool + FK: silent
        "  await prisma.user.findFirst({ where: { email: 'a', name: 'b' } });\n"  # leading column: silent
        "  await prisma.user.findMany({ where: { posts: { some: { draft: true } } }, take: 5 });\n}\n"
    )
    found = _rules(tmp_path, {"prisma/schema.prisma": SCHEMA, "src/controllers/a.ts": code}, "SA412")
    assert found == {("src/controllers/a.ts", 3, "SA412")}


def test_sa412_needs_the_schema(tmp_path: Path) -> None:
    code = CTRL + "  await prisma.post.findFirst({ where: { slug: 'x' } });\n}\n"
    assert not _rules(tmp_path, {"src/controllers/a.ts": code}, "SA412")


def test_sa312_to_many_include(tmp_path: Path) -> None:
    code = CTRL + (
        "  await prisma.user.findMany({ take: 5, include: { posts: true } });\n"
        "  await prisma.user.findMany({ take: 5, include: { posts: { take: 3 } } });\n"
        "  await prisma.post.findMany({ take: 5, include: { author: true } });\n}\n"
    )
    found = _rules(tmp_path, {"prisma/schema.prisma": SCHEMA, "src/controllers/a.ts": code}, "SA312")
    assert found == {("src/controllers/a.ts", 3, "SA312")}


SOCKET = "import { Server } from 'socket.io';\nexport const io = new Server(3001);\n"


def test_sa501_confidence_follows_the_process_model(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/socket.ts": SOCKET})
    [alone] = scan_tree(tmp_path, select=("SA501",)).findings
    assert alone.confidence == Confidence.MEDIUM
    write_tree(tmp_path, {"ecosystem.config.js": "module.exports = { apps: [{ instances: 4, exec_mode: 'cluster' }] };\n"})
    [scaled] = scan_tree(tmp_path, select=("SA501",)).findings
    assert scaled.confidence == Confidence.HIGH and "4 processes" in scaled.message


def test_sa501_silent_with_an_adapter(tmp_path: Path) -> None:
    adapter = "import { createAdapter } from '@socket.io/redis-adapter';\nexport const make = createAdapter;\n"
    assert not _rules(tmp_path, {"src/socket.ts": SOCKET, "src/adapter.ts": adapter}, "SA501")


def test_sa505_sa541_silent_when_present(tmp_path: Path) -> None:
    app = "import express from 'express';\nconst app = express();\n"
    assert _rules(tmp_path, {"src/app.ts": app}, "SA505", "SA541") == {
        ("src/app.ts", 2, "SA505"),
        ("src/app.ts", 2, "SA541"),
    }
    extras = {
        "src/mw.ts": "import compression from 'compression';\nexport default compression();\n",
        "src/instrument.js": "const Sentry = require('@sentry/node');\nSentry.init({});\n",
    }
    assert not _rules(tmp_path, {"src/app.ts": app, **extras}, "SA505", "SA541")


def test_module_imports_resolve_relative_paths(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "src/controllers/a.ts": "import { prisma } from '../lib/prisma.js';\nimport db from '../db';\n"
                                "const { x } = require('./util/index');\nimport './side';\n",
    })
    [fact] = [f for f in scan_tree(tmp_path).facts if f.kind == "module-imports"]
    assert sorted(map(tuple, fact.get("imports"))) == [
        ("src/controllers/side", "*"), ("src/controllers/util", "x"), ("src/db", "default"), ("src/lib/prisma", "prisma"),
    ]
