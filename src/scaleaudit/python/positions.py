"""Positions for the few nodes a file reports, without a codegen of the whole file.

libcst's PositionProvider regenerates the entire module's source and walks it
again (about one parse). A reported node is usually a call or a class whose
source text is unique in the file, so we render just that node and find it
in the file text; only when the text is not found exactly once do we fall
back to PositionProvider for the file. Positions follow PositionProvider's
conventions (1-based lines, 0-based columns in code points, exclusive end).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider


def source_text(data: bytes, module: cst.Module) -> str:
    text = data.decode(module.encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _decorated(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.FunctionDef, cst.ClassDef)) and bool(node.decorators)


class LazyPositions(Mapping[cst.CSTNode, CodeRange]):
    def __init__(self, module: cst.Module, data: bytes) -> None:
        self.module = module
        self.data = data
        self._text: str | None = None
        self._full: Mapping[cst.CSTNode, CodeRange] | None = None
        self._cache: dict[int, CodeRange] = {}
        self.fallbacks = 0  # how often the whole-file provider was needed (for tests/benchmarks)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = source_text(self.data, self.module)
        return self._text

    def _full_positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._full is None:
            self.fallbacks += 1
            self._full = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._full

    def _find(self, node: cst.CSTNode) -> CodeRange | None:
        if isinstance(node, cst.Module):
            lines = self.text.split("\n")
            return CodeRange(CodePosition(1, 0), CodePosition(len(lines), len(lines[-1])))
        if _decorated(node):
            return None  # where a decorated definition starts is libcst's convention to decide
        if isinstance(node, cst.SimpleStatementLine):
            return self._span_of(node.body[0], node.body[-1])
        if isinstance(node, cst.BaseCompoundStatement):
            # Leading comment lines belong to the node but not to its position.
            snippet = self.module.code_for_node(node.with_changes(leading_lines=[])).rstrip()
            if "#" in snippet[snippet.rfind("\n") + 1 :]:
                return None  # whether a trailing comment counts differs by node type
        elif isinstance(node, cst.BaseExpression) and node.lpar:
            # A parenthesised expression's position is inside its parentheses.
            snippet = self.module.code_for_node(node.with_changes(lpar=[], rpar=[]))
        else:
            snippet = self.module.code_for_node(node)
        if isinstance(node, cst.BaseSmallStatement):
            snippet = snippet.rstrip(" \t").removesuffix(";").rstrip(" \t")
        if not snippet or "\r" in snippet:
            return None
        text = self.text
        start = text.find(snippet)
        if start < 0 or text.find(snippet, start + 1) >= 0:
            return None
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1)
        newlines = snippet.count("\n")
        end_column = len(snippet) - (snippet.rfind("\n") + 1) if newlines else column + len(snippet)
        return CodeRange(CodePosition(line, column), CodePosition(line + newlines, end_column))

    def _span_of(self, first: cst.CSTNode, last: cst.CSTNode) -> CodeRange | None:
        start, end = self._find(first), self._find(last)
        return None if start is None or end is None else CodeRange(start.start, end.end)

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        if self._full is not None:
            return self._full[node]
        key = id(node)
        found = self._cache.get(key)
        if found is None:
            found = self._find(node)
            if found is None:
                return self._full_positions()[node]
            self._cache[key] = found
        return found

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self._full_positions())

    def __len__(self) -> int:
        return len(self._full_positions())
