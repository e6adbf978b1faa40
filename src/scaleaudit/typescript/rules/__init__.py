"""TypeScript/JavaScript rules: every `TsRule` subclass in this package, discovered."""

from __future__ import annotations

import importlib
import pkgutil

from scaleaudit.typescript.rule import TsRule


def _discover() -> tuple[type[TsRule], ...]:
    found: list[type[TsRule]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            is_rule = isinstance(value, type) and issubclass(value, TsRule) and hasattr(value, "id")
            if is_rule and value.__module__ == module.__name__:
                found.append(value)
    return tuple(found)


ALL_RULES = _discover()
