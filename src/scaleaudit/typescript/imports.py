"""ESM and CommonJS imports of one file: local name -> qualified name.

`import { PrismaClient as P } from "@prisma/client"` maps `P` to
`@prisma/client.PrismaClient`; a default import, a namespace import and
`require("m")` all map to the module itself (`m`), because under ESM/CJS
interop `import Redis from "ioredis"`, `import * as pg from "pg"` and
`const Redis = require("ioredis")` name the same object. Relative specifiers
are resolved to module ids (path from the scan root without extension) for
the project phase's `module-imports` facts.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from scaleaudit.typescript.parser import Node, call_args, string_value, text, unwrap

_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


# Files of a client package or generated folder that export the real PrismaClient.
# `@prisma/client/extension` exports a stub that throws when constructed, and
# `@prisma/client/runtime/*` internals: neither is a client.
_CLIENT_ENTRIES = frozenset({"client", "edge", "wasm", "default", "index", "react-native"})
_PACKAGES = (("@prisma", "client"), (".prisma", "client"))
# Where Prisma generates the client in the project: `output = "../generated/prisma"`
# (the documented default since Prisma 6.6), or a folder named `prisma/client`.
_GENERATED_TAILS = (("generated", "prisma"), ("prisma", "client"))
_ALIASES = ("@/", "~/", "#/", "#")


def _segments(specifier: str) -> list[str]:
    parts = [p for p in specifier.split("/") if p not in ("", ".")]
    if parts:
        parts[-1] = _strip_extension(parts[-1])
    return parts


def _strip_extension(name: str) -> str:
    for ext in _EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _without_entry(parts: list[str]) -> list[str]:
    """`generated/prisma/client` -> `generated/prisma`: the folder the entry file is in."""
    return parts[:-1] if len(parts) > 2 and parts[-1] in _CLIENT_ENTRIES else parts


def is_prisma_client_module(specifier: str, client_modules: tuple[str, ...] = ()) -> bool:
    """Does this import specifier name a module that exports the real PrismaClient?"""
    parts = _segments(specifier)
    if len(parts) >= 2 and tuple(parts[:2]) in _PACKAGES:
        return len(parts) == 2 or (len(parts) == 3 and parts[2] in _CLIENT_ENTRIES)
    folder = _without_entry(parts)
    if tuple(folder[-2:]) in _GENERATED_TAILS or tuple(parts[-2:]) in _GENERATED_TAILS:
        return True
    return bool(client_modules) and _names_output(specifier, "/".join(folder), client_modules)


def _names_output(specifier: str, folder: str, client_modules: tuple[str, ...]) -> bool:
    """A schema's `output` folder, imported by alias (`@/db`) or from the root (`src/db`).

    Relative specifiers were resolved by the caller; an alias is matched by its
    path tail, since tsconfig `paths` map it onto a folder we cannot see.
    """
    if specifier.startswith(_ALIASES):
        tail = folder.lstrip("@~#").lstrip("/")
        return any(m == tail or m.endswith("/" + tail) for m in client_modules)
    return folder in client_modules


def normalise_module(specifier: str, client_modules: tuple[str, ...] = ()) -> str:
    """Map the Prisma client's entry points (package or generated folder) onto `@prisma/client`."""
    return "@prisma/client" if is_prisma_client_module(specifier, client_modules) else specifier


def resolve_relative(importer: str, specifier: str) -> str:
    """`../lib/prisma.js` imported from src/controllers/a.ts -> src/lib/prisma."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    for ext in _EXTENSIONS:
        if joined.endswith(ext):
            joined = joined[: -len(ext)]
            break
    if joined.endswith("/index"):
        joined = joined[: -len("/index")]
    return joined


@dataclass
class ImportTable:
    rel: str
    client_modules: tuple[str, ...] = ()  # generated Prisma client folders (schema `output`)
    names: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    # (module id, imported name) for relative imports; name "default" or "*" for whole-module imports
    local: list[tuple[str, str]] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # every specifier seen

    def _record(self, specifier: str, local_name: str, imported: str) -> None:
        self.modules.add(specifier)
        module = self.normalise(specifier)
        self.names[local_name] = module if imported in ("default", "*") else f"{module}.{imported}"
        if specifier.startswith("."):
            self.local.append((resolve_relative(self.rel, specifier), imported))

    def normalise(self, specifier: str) -> str:
        if specifier.startswith(".") and self.client_modules:
            folder = "/".join(_without_entry(resolve_relative(self.rel, specifier).split("/")))
            if folder in self.client_modules:
                return "@prisma/client"
        return normalise_module(specifier, self.client_modules)

    def add_import(self, node: Node) -> None:
        specifier = string_value(node.child_by_field_name("source"))
        if specifier is None:
            return
        self.modules.add(specifier)
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            if specifier.startswith("."):  # side-effect import
                self.local.append((resolve_relative(self.rel, specifier), "*"))
            return
        for part in clause.named_children:
            if part.type == "identifier":
                self._record(specifier, text(part), "default")
            elif part.type == "namespace_import":
                ident = next((c for c in part.named_children if c.type == "identifier"), None)
                if ident is not None:
                    self._record(specifier, text(ident), "*")
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type != "import_specifier":
                        continue
                    name = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias") or name
                    self._record(specifier, text(alias), text(name).strip("'\""))

    def add_require(self, declarator: Node) -> None:
        """`const x = require("m")`, `const { a: b } = require("m")`, `const x = require("m").y`."""
        value = unwrap(declarator.child_by_field_name("value"))
        target = declarator.child_by_field_name("name")
        member = ""
        if value is not None and value.type == "member_expression":
            member = text(value.child_by_field_name("property"))
            value = unwrap(value.child_by_field_name("object"))
        specifier = require_specifier(value)
        if specifier is None or target is None:
            return
        if target.type == "identifier":
            self._record(specifier, text(target), member or "default")
        elif target.type == "object_pattern" and not member:
            for prop in target.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    self._record(specifier, text(prop), text(prop))
                elif prop.type == "pair_pattern":
                    key, val = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                    if key is not None and val is not None and val.type == "identifier":
                        self._record(specifier, text(val), text(key))

    def add_import_require(self, node: Node) -> None:
        """TypeScript's `import x = require("m")`."""
        ident = next((c for c in node.named_children if c.type == "identifier"), None)
        clause = next((c for c in node.named_children if c.type == "import_require_clause"), None)
        if clause is not None:
            ident = next((c for c in clause.named_children if c.type == "identifier"), ident)
            source = clause.child_by_field_name("source") or next(
                (c for c in clause.named_children if c.type == "string"), None
            )
            specifier = string_value(source)
            if ident is not None and specifier is not None:
                self._record(specifier, text(ident), "default")

    def resolve(self, node: Node | None) -> str:
        """Qualified name of an identifier or member chain, or '' when not imported."""
        node = unwrap(node)
        if node is None:
            return ""
        if node.type == "identifier":
            return self.names.get(text(node), "")
        if node.type == "member_expression":
            base = self.resolve(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            return f"{base}.{text(prop)}" if base and prop is not None else ""
        if node.type == "call_expression" and require_specifier(node) is not None:
            return self.normalise(require_specifier(node) or "")
        return ""


def require_specifier(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None or node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    if func is None or text(func) != "require":
        return None
    args = call_args(node)
    return string_value(args[0]) if len(args) == 1 else None


def build_imports(rel: str, root: Node, client_modules: tuple[str, ...] = ()) -> ImportTable:
    """Imports anywhere at the top level (ESM statements, `require` declarations)."""
    table = ImportTable(rel, client_modules)
    for stmt in root.named_children:
        if stmt.type == "import_statement":
            if any(c.type == "import_require_clause" for c in stmt.named_children):
                table.add_import_require(stmt)
            else:
                table.add_import(stmt)
        elif stmt.type in ("lexical_declaration", "variable_declaration"):
            for decl in stmt.named_children:
                if decl.type == "variable_declarator":
                    table.add_require(decl)
        elif stmt.type == "export_statement":
            source = string_value(stmt.child_by_field_name("source"))
            if source is not None:  # re-export: the barrel imports the module
                table.modules.add(source)
                if source.startswith("."):
                    table.local.append((resolve_relative(rel, source), "*"))
            for decl in stmt.named_children:
                if decl.type in ("lexical_declaration", "variable_declaration"):
                    for d in decl.named_children:
                        if d.type == "variable_declarator":
                            table.add_require(d)
    return table
