"""The project phase: rules that join facts from many files.

Project rules see only `Fact`s (plain data) from every front end, never a
syntax tree, so they run in the main process after the per-file phase, and a
warm scan that reuses every cached file result never imports a parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from scaleaudit.config import Settings
from scaleaudit.model import Fact, Finding
from scaleaudit.project.modules import ModuleIndex
from scaleaudit.rulebook import Rulebook


@dataclass(frozen=True)
class ProjectContext:
    facts: Sequence[Fact]
    book: Rulebook
    settings: Settings
    paths: Sequence[str] = ()  # every scanned file, relative to the root

    @cached_property
    def modules(self) -> ModuleIndex:
        # Built once per scan: every project rule asks for module names.
        return ModuleIndex(self.paths)

    @cached_property
    def _by_kind(self) -> dict[str, list[Fact]]:
        index: dict[str, list[Fact]] = {}
        for fact in self.facts:
            index.setdefault(fact.kind, []).append(fact)
        return index

    def of_kind(self, kind: str) -> list[Fact]:
        """Facts of one kind (indexed once: project rules ask hundreds of times)."""
        return list(self._by_kind.get(kind, ()))

    @cached_property
    def imported(self) -> dict[tuple[str, str], set[str]]:
        """(module id, name) -> importing files, computed once per scan."""
        return self.modules.imported_names(self.facts)


ProjectRule = Callable[[ProjectContext], Iterable[Finding]]


def project_rules() -> dict[str, ProjectRule]:
    """Rule id -> join function, from every module's `RULES` in this package.

    Each module declares `RULES = {"SA101": join_function}`; discovery keeps
    parallel work out of one shared registry file.
    """
    import importlib
    import pkgutil

    rules: dict[str, ProjectRule] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules.update(getattr(module, "RULES", {}))
    return rules
