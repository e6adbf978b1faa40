"""Python rules, one module each, found by walking this package.

Adding a rule means adding a module here (and its YAML): no registry to edit,
so rules written in parallel never collide in one file.
"""

from __future__ import annotations

import importlib
import pkgutil

from scaleaudit.python.rule import PythonRule


def _discover() -> tuple[type[PythonRule], ...]:
    found: dict[str, type[PythonRule]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, PythonRule)
                and value.__module__ == module.__name__
                and getattr(value, "id", None)
            ):
                found[value.id] = value
    return tuple(found[k] for k in sorted(found))


ALL_RULES: tuple[type[PythonRule], ...] = _discover()
