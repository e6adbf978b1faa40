"""Module identities across files, computed once the whole file set is known.

A Python file's dotted name depends on where its package starts (the first
ancestor directory without `__init__.py`), which one file cannot know; the
project phase can, from the set of scanned paths. TypeScript modules are
identified by their path without extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from posixpath import dirname, splitext

from scaleaudit.model import Fact


class ModuleIndex:
    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)

    @cached_property
    def packages(self) -> frozenset[str]:
        return frozenset(dirname(p) for p in self.paths if p.endswith("__init__.py"))

    def python_module(self, rel: str) -> str:
        directory, name = dirname(rel), splitext(rel.rsplit("/", 1)[-1])[0]
        parts = [] if name == "__init__" else [name]
        while directory and directory in self.packages:
            parts.insert(0, directory.rsplit("/", 1)[-1])
            directory = dirname(directory)
        return ".".join(parts)

    def module_id(self, fact: Fact) -> str:
        rel = fact.location.path
        if rel.endswith(".py"):
            return self.python_module(rel)
        return splitext(rel)[0]

    def resolve_from(self, importer: str, level: int, module: str) -> str:
        """Absolute module for `from <level dots><module> import ...` in file `importer`."""
        if level == 0:
            return module
        base = self.python_module(importer).split(".")
        if not importer.endswith("__init__.py"):
            base = base[:-1]
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, module] if module else base)

    def imported_names(self, facts: Sequence[Fact]) -> dict[tuple[str, str], set[str]]:
        """(module id, name) -> the files importing it, from py-imports and module-imports facts."""
        out: dict[tuple[str, str], set[str]] = {}
        for fact in facts:
            if fact.kind == "py-imports":
                for level, module, name in fact.get("imports", ()):
                    target = self.resolve_from(fact.location.path, int(level), str(module))
                    out.setdefault((target, str(name)), set()).add(fact.location.path)
            elif fact.kind == "module-imports":
                for module, name in fact.get("imports", ()):
                    out.setdefault((str(module), str(name)), set()).add(fact.location.path)
        return out
