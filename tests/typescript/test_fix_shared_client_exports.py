"""SA101 fix: sites import the project's existing singleton the way that module exports it.

Found on a real Express app (mulberry): its singleton was `const prismaClient =
new PrismaClient(); export default prismaClient`, and the fix wrote
`import { prismaClient as prisma } from ...`, a name the module does not export.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tree

from scaleaudit import api
from scaleaudit.fixes.api import run_fix
from scaleaudit.fixes.typescript_shared_client import exported_as

_NEW = "import { PrismaClient } from '@prisma/client';\n"
_ROUTE = "import express from 'express';\n" + _NEW + "const router = express.Router();\nconst prisma = new PrismaClient();\n"
_ROUTE += "router.get('/', async (req, res) => res.json(await prisma.user.findMany({ take: 5 })));\nexport default router;\n"
_CJS_ROUTE = "const express = require('express');\nconst { PrismaClient } = require('@prisma/client');\n"
_CJS_ROUTE += "const db = new PrismaClient();\nmodule.exports = express.Router();\n"


def _fix(root: Path, files: dict[str, str]):  # type: ignore[no-untyped-def]
    write_tree(root, files)
    settings = api.settings_for([root], isolated=True)
    result = run_fix([root], settings, write=True, use_cache=False)
    again = run_fix([root], settings, write=True, use_cache=False)
    return result, again


def test_default_export_is_imported_as_default(tmp_path: Path) -> None:
    result, again = _fix(
        tmp_path,
        {
            "src/controllers/prismaClient.ts": _NEW + "const prismaClient = new PrismaClient();\nexport default prismaClient",
            "src/routes/users.ts": _ROUTE,
            "src/routes/items.ts": _ROUTE,
            "src/app.ts": "import prismaClient from './controllers/prismaClient';\nexport { prismaClient };\n",
        },
    )
    assert result.written and not result.failures
    code = (tmp_path / "src/routes/users.ts").read_text()
    # the import sits where the PrismaClient import was, among the imports
    assert code.startswith("import express from 'express';\nimport prisma from '../controllers/prismaClient';\n")
    assert "new PrismaClient" not in code and "@prisma/client" not in code
    assert not again.changes and not [f for f in again.scan.findings if f.rule == "SA101"]


def test_commonjs_site_of_an_es_default_export(tmp_path: Path) -> None:
    result, _ = _fix(
        tmp_path,
        {
            "src/db.ts": _NEW + "const client = new PrismaClient();\nexport default client;\n",
            "src/routes/a.js": _CJS_ROUTE,
            "src/routes/b.js": _CJS_ROUTE,
            "src/index.ts": "import client from './db';\nconsole.log(client);\n",
        },
    )
    assert result.written and not result.failures
    assert "const db = require('../db').default;\n" in (tmp_path / "src/routes/a.js").read_text()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("export const prisma = new PrismaClient();", ("prisma", False)),
        ("const prisma = x;\nexport { prisma, other };", ("prisma", False)),
        ("const prisma = x;\nexport default prisma;", ("prisma", True)),
        ("const prisma = x;\nexport { prisma as default };", ("prisma", True)),
        ("const prisma = x;\nmodule.exports = prisma;", ("prisma", True)),
        ("const prisma = x;\nmodule.exports = { prisma };", ("prisma", False)),
        ("const prisma = x;\nexports.prisma = prisma;", ("prisma", False)),
    ],
)
def test_exported_as(source: str, expected: tuple[str, bool]) -> None:
    shared = exported_as("src/db.ts", source, "prisma")
    assert not isinstance(shared, str)
    assert (shared.name, shared.default) == expected


def test_unexported_singleton_is_left_with_a_reason(tmp_path: Path) -> None:
    assert "not exported" in str(exported_as("src/db.ts", "const prisma = x;\nexport const other = prisma;", "prisma"))
    assert isinstance(exported_as("src/db.ts", "const prismaX = x;\nexport default prismaX;", "prisma"), str)


def test_index_line_follows_the_models_indentation(tmp_path: Path) -> None:
    schema = (
        'datasource db {\n    provider = "postgresql"\n    url = env("DB_URL")\n}\n'
        "model Course {\n    id String @id\n    users User[]\n}\n"
        "model User {\n\tid String @id\n\tcourse Course? @relation(fields: [courseId], references: [id])\n"
        "\tcourseId String?\n}"  # no newline at the end of the file
    )
    result, again = _fix(tmp_path, {"prisma/schema.prisma": schema})
    assert result.written and not again.changes
    assert (tmp_path / "prisma/schema.prisma").read_text().endswith("\tcourseId String?\n\n\t@@index([courseId])\n}")
