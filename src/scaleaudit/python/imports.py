"""A small per-module import table: what each local name is bound to.

libcst's QualifiedNameProvider answers this through full scope analysis, which
costs several parses per file. Rules only need "what does `ce` in
`ce(url)` refer to", which the module's import statements answer, so we read
those and nothing else.
"""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def module_name_for(rel_path: str) -> str:
    """Dotted module name for a path relative to the scan root (best effort)."""
    parts = rel_path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)


class ImportTable:
    """Local name -> fully qualified name, built from import statements."""

    __slots__ = ("bindings", "module", "package", "star_modules")

    def __init__(self, module: str, is_package: bool = False) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.bindings: dict[str, str] = {}
        self.star_modules: list[str] = []

    def add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bindings[alias.asname.name.value] = name
            else:
                # `import a.b.c` binds `a`; `a.b.c.x` then resolves through it.
                head = name.split(".", 1)[0]
                self.bindings.setdefault(head, head)

    def _absolute(self, node: cst.ImportFrom) -> str | None:
        base = dotted(node.module) if node.module is not None else ""
        if base is None:
            return None
        level = len(node.relative)
        if level == 0:
            return base
        package = self.package.split(".") if self.package else []
        if level - 1 > len(package):
            return base or None
        anchor = package[: len(package) - (level - 1)]
        return ".".join([*anchor, base] if base else anchor)

    def add_import_from(self, node: cst.ImportFrom) -> None:
        source = self._absolute(node)
        if source is None:
            return
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(source)
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.bindings[local] = f"{source}.{alias.name.value}" if source else alias.name.value

    def resolve_dotted(self, name: str) -> str:
        head, _, rest = name.partition(".")
        bound = self.bindings.get(head)
        if bound is None:
            return name
        return f"{bound}.{rest}" if rest else bound

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of an expression, or None if it is not a plain name chain.

        An unbound name resolves to itself, so locally defined names keep
        their spelling (a rule can still tell `Depends` from `fastapi.Depends`).
        """
        name = dotted(node)
        return None if name is None else self.resolve_dotted(name)

    def is_imported(self, node: cst.BaseExpression) -> bool:
        name = dotted(node)
        return name is not None and name.split(".", 1)[0] in self.bindings
