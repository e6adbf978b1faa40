"""Where this project's Prisma client is generated to (schema.prisma `output`).

Prisma 6+ can generate the client into the project (`output =
"../src/generated/db"`), and code then imports `PrismaClient` from that path
instead of `@prisma/client`. The per-file phase needs the output to recognise
those imports, so the scan reads it once, up front, from where the Prisma CLI
itself looks for the schema (package.json `prisma.schema`, `schema.prisma`,
`prisma/schema.prisma`, the multi-file `prisma/schema/` folder): a few fixed
paths, never a walk. The result is part of the job (and its cache digest).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

from scaleaudit.configfiles.prisma_schema import client_outputs

_DEFAULT_SCHEMAS = ("schema.prisma", "prisma/schema.prisma")


def _schema_files(root: Path) -> list[str]:
    found = [rel for rel in _DEFAULT_SCHEMAS if (root / rel).is_file()]
    configured = _package_schema(root)
    if configured and (root / configured).is_file():
        found.append(configured)
    elif configured and (root / configured).is_dir():
        found.extend(sorted(f"{configured}/{p.name}" for p in (root / configured).glob("*.prisma")))
    folder = root / "prisma" / "schema"
    if folder.is_dir():
        found.extend(sorted(f"prisma/schema/{p.name}" for p in folder.glob("*.prisma")))
    return sorted(set(found))


def _package_schema(root: Path) -> str:
    try:
        package = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    prisma = package.get("prisma") if isinstance(package, dict) else None
    schema = prisma.get("schema") if isinstance(prisma, dict) else None
    return posixpath.normpath(schema) if isinstance(schema, str) and not posixpath.isabs(schema) else ""


def client_modules(root: Path) -> tuple[str, ...]:
    """Module ids (root-relative, no extension) of the generated client folders."""
    modules: set[str] = set()
    for rel in _schema_files(root):
        try:
            source = (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for output in client_outputs(source):
            module = posixpath.normpath(posixpath.join(posixpath.dirname(rel), output))
            if not module.startswith("..") and "node_modules" not in module.split("/"):
                modules.add(module)
    return tuple(sorted(modules))
