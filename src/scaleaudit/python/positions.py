"""Positions for the few nodes a file reports, without a codegen of the whole file.

libcst's PositionProvider regenerates the entire module's source and walks it
again (about one parse). A reported node is usually a call or a class whose
source text is unique in the file, so we render just that node and find it
in the file text; only when the text is not found exactly once do we fall
back to PositionProvider for the file. Positions follow PositionProvider's
conventions (1-based lines, 0-based columns in code points, exclusive end).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider


def source_text(data: bytes, module: cst.Module) -> str:
    text = data.decode(module.encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _decorated(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.FunctionDef, cst.ClassDef)) and bool(node.decorators)


def last_small_statement(node: cst.CSTNode) -> cst.CSTNode:
    """The last simple statement inside a compound one: where libcst ends its
    range (trailing comments and the block's footer are not part of it)."""
    while True:
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return node.body[-1]
        if isinstance(node, cst.IndentedBlock):
            node = node.body[-1]
        elif isinstance(node, cst.Match):
            node = node.cases[-1].body
        elif getattr(node, "finalbody", None) is not None:
            node = node.finalbody  # type: ignore[attr-defined]
        elif getattr(node, "orelse", None) is not None:
            node = node.orelse  # type: ignore[attr-defined]
        elif getattr(node, "handlers", None):
            node = node.handlers[-1]  # type: ignore[attr-defined]
        else:
            node = node.body  # type: ignore[attr-defined]


class LazyPositions(Mapping[cst.CSTNode, CodeRange]):
    def __init__(self, module: cst.Module, data: bytes) -> None:
        self.module = module
        self.data = data
        self._text: str | None = None
        self._full: Mapping[cst.CSTNode, CodeRange] | None = None
        self._cache: dict[int, CodeRange] = {}
        self._line_starts: list[int] | None = None
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
            # Starts at its keyword (leading comment lines excluded), ends with
            # its last simple statement.
            return self._compound(node)
        return self._find_node(node)

    def _find_node(
        self, node: cst.CSTNode, lo: int = 0, hi: int | None = None, *, last: bool = False
    ) -> CodeRange | None:
        """An expression or small statement, unique in text[lo:hi] (or the last one).

        A node spanning lines is found by its first line, which must be unique,
        then confirmed by rendering it at that line's indentation: libcst
        indents continuation lines inside brackets relative to the block."""
        if isinstance(node, cst.BaseExpression) and node.lpar:
            # A parenthesised expression's position is inside its parentheses.
            node = node.with_changes(lpar=[], rpar=[])
        snippet = self._clean(self.module.code_for_node(node), node)
        if "\n" not in snippet:
            if not last:
                return self._find_text(snippet, lo, hi)
            at = self.text.rfind(snippet, lo, len(self.text) if hi is None else hi) if snippet else -1
            return None if at < 0 else CodeRange(self._position(at), self._position(at + len(snippet)))
        text = self.text
        end = len(text) if hi is None else hi
        first = snippet.split("\n", 1)[0]
        at = text.rfind(first, lo, end) if last else text.find(first, lo, end)
        if not first.strip() or at < 0 or (not last and text.find(first, at + 1, end) >= 0):
            return None
        line = text[text.rfind("\n", 0, at) + 1 : at]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        expected = self._clean(self._render(node, indent), node)
        if not text.startswith(expected, at):
            return None
        return CodeRange(self._position(at), self._position(at + len(expected)))

    @staticmethod
    def _clean(snippet: str, node: cst.CSTNode) -> str:
        if isinstance(node, cst.BaseSmallStatement):
            return snippet.rstrip(" \t").removesuffix(";").rstrip(" \t")
        return snippet

    def _render(self, node: cst.CSTNode, indent: str) -> str:
        state = CodegenState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        state.indent_tokens = [indent] if indent else []
        node._codegen(state)
        return "".join(state.tokens)

    def _render_at(self, node: cst.CSTNode, indent: str) -> str:
        """The node's source as it reads when nested at `indent`.

        `code_for_node` renders a nested block relative to column 0; libcst's
        own codegen with the indentation preset adds it exactly where the file
        has it (and, unlike re-indenting lines, never inside a string)."""
        return self._render(node, indent)[len(indent) :].rstrip()

    def _find_block(self, node: cst.CSTNode, lo: int = 0, hi: int | None = None) -> tuple[int, int] | None:
        """Where a compound statement's text is (unique in text[lo:hi]), found by
        its first line and confirmed by rendering it at that line's indentation."""
        text = self.text
        end = len(text) if hi is None else hi
        bare = node.with_changes(leading_lines=[])
        first = self.module.code_for_node(bare).split("\n", 1)[0]
        if not first.strip() or "\r" in first:
            return None
        found: tuple[int, int] | None = None
        rendered: dict[str, str] = {}
        at = text.find(first, lo, end)
        while at >= 0:
            prefix = text[text.rfind("\n", 0, at) + 1 : at]
            if not prefix.strip():
                if prefix not in rendered:
                    rendered[prefix] = self._render_at(bare, prefix)
                expected = rendered[prefix]
                if text.startswith(expected, at) and at + len(expected) <= end:
                    if found is not None:
                        return None  # the same block twice: ambiguous
                    found = (at, at + len(expected))
            at = text.find(first, at + 1, end)
        return found

    def _compound(self, node: cst.BaseCompoundStatement) -> CodeRange | None:
        block = self._find_block(node)
        if block is None:
            return None
        lo, hi = block
        tail = self._find_node(last_small_statement(node), lo, hi, last=True)
        if tail is None:
            return None
        text = self.text
        at, stop = self._offset(tail.start), self._offset(tail.end)
        if "#" in text[text.rfind("\n", 0, at) + 1 : at]:
            return None  # found inside a comment
        after = text[stop:hi].split("\n")
        if any(piece.strip() and not piece.strip().startswith(("#", ";")) for piece in after):
            return None  # code follows: this was not the last statement
        return CodeRange(self._position(lo), tail.end)

    def _position(self, offset: int) -> CodePosition:
        self._offset(CodePosition(1, 0))  # builds the line table
        assert self._line_starts is not None
        line = bisect.bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])

    def _find_text(self, snippet: str, lo: int = 0, hi: int | None = None) -> CodeRange | None:
        """The range of `snippet` if it occurs exactly once in text[lo:hi]."""
        if not snippet or "\r" in snippet:
            return None
        text = self.text
        end = len(text) if hi is None else hi
        start = text.find(snippet, lo, end)
        if start < 0 or text.find(snippet, start + 1, end) >= 0:
            return None
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1)
        newlines = snippet.count("\n")
        end_column = len(snippet) - (snippet.rfind("\n") + 1) if newlines else column + len(snippet)
        return CodeRange(CodePosition(line, column), CodePosition(line + newlines, end_column))

    def _span_of(self, first: cst.CSTNode, last: cst.CSTNode) -> CodeRange | None:
        start, end = self._find(first), self._find(last)
        return None if start is None or end is None else CodeRange(start.start, end.end)

    def _offset(self, position: CodePosition) -> int:
        if self._line_starts is None:
            starts = [0]
            text = self.text
            index = text.find("\n")
            while index >= 0:
                starts.append(index + 1)
                index = text.find("\n", index + 1)
            self._line_starts = starts
        return self._line_starts[position.line - 1] + position.column

    def _window(self, hints: Sequence[cst.CSTNode]) -> tuple[int, int]:
        """Narrow the search to the innermost enclosing statement that can be
        placed, placing each statement inside the previous one (outermost first)."""
        lo, hi = 0, len(self.text)
        for hint in hints:
            if isinstance(hint, cst.SimpleStatementLine):
                continue  # its small statements are hints of their own
            if isinstance(hint, cst.BaseCompoundStatement):
                block = self._find_block(hint, lo, hi)
            else:
                found = self._find_node(hint, lo, hi)
                block = None if found is None else (self._offset(found.start), self._offset(found.end))
            if block is not None:
                lo, hi = block
        return lo, hi

    def locate(self, node: cst.CSTNode, hints: Sequence[cst.CSTNode] = ()) -> CodeRange:
        """Like `self[node]`, but a node whose text repeats in the file is looked
        up inside the innermost enclosing statement where its text is unique."""
        if self._full is None and id(node) not in self._cache and self._find(node) is None and hints:
            named = self._header_name(node, hints)
            if named is not None:
                return named
            parenthesised = isinstance(node, cst.BaseExpression) and bool(node.lpar)
            if not parenthesised and not isinstance(node, (cst.BaseStatement, cst.Module)):
                lo, hi = self._window([h for h in hints if h is not node])
                found = self._find_node(node, lo, hi)
                if found is not None:
                    self._cache[id(node)] = found
                    return found
        return self[node]

    def _header_name(self, node: cst.CSTNode, hints: Sequence[cst.CSTNode]) -> CodeRange | None:
        """A name that repeats all through its statement, but is placed by the
        statement's header: a `for` loop's target, a class's or function's name."""
        for statement in reversed(hints):
            if isinstance(statement, cst.For) and statement.target is node:
                keyword = ("async " if statement.asynchronous else "") + "for"
                gap = statement.whitespace_after_for
            elif isinstance(statement, (cst.ClassDef, cst.FunctionDef)) and statement.name is node:
                keyword = "class" if isinstance(statement, cst.ClassDef) else "def"
                gap = (
                    statement.whitespace_after_class
                    if isinstance(statement, cst.ClassDef)
                    else (statement.whitespace_after_def)
                )
            else:
                continue
            lo, hi = self._window([*hints[: hints.index(statement)], statement])
            header = keyword + self.module.code_for_node(gap) + self.module.code_for_node(node)
            at = self.text.find(header, lo, hi)  # the first one: decorators come before it
            if at < 0:
                return None
            start = at + len(header) - len(self.module.code_for_node(node))
            found = CodeRange(self._position(start), self._position(at + len(header)))
            self._cache[id(node)] = found
            return found
        return None

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
