"""Positions for the few nodes a file reports, without a codegen of the whole file.

libcst's PositionProvider regenerates the entire module's source and walks it
again (about one parse). A reported node is usually a call or a class whose
source text is unique in the file, so we render just that node and find it
in the file text. A node whose text repeats (`a.b + a.b`) is placed by running
PositionProvider's own codegen over its innermost enclosing statement, from
where that statement starts and only up to the node: the same tokens from the
same start give the same positions. A statement is placed by its first line;
the codegen must reproduce the file's text there, and at exactly one place.
When no enclosing statement can be placed, the run starts at an earlier
module-level statement (or the module's start). PositionProvider for the whole
file is left for files with a lone CR, which libcst counts as a line break.
Positions follow PositionProvider's conventions (1-based lines, 0-based columns
in code points, exclusive end).
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Mapping, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from scaleaudit.python.walker import code_fields

# How many earlier module-level statements to try as the start of a codegen run.
_ANCHOR_SEARCH = 8
# How many places with a statement's first line to try before giving up on it.
_MAX_CANDIDATES = 16


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


class _Stop(Exception):
    """Ends a codegen once the node asked about has its position."""


class _PositionsUpTo(PositionProvidingCodegenState):
    """libcst's position codegen, stopped after `stop`: what follows a node
    cannot change its position. `open` holds the nodes being generated."""

    stop: cst.CSTNode | None = None
    stopped = False
    open: list[cst.CSTNode]

    def before_codegen(self, node: cst.CSTNode) -> None:
        super().before_codegen(node)
        self.open.append(node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        super().after_codegen(node)
        self.open.pop()
        if node is self.stop:
            self.stopped = True
            raise _Stop


class _FirstLine(CodegenState):
    """A codegen that stops at the end of its first line."""

    def add_token(self, value: str) -> None:
        super().add_token(value)
        if "\n" in value:
            raise _Stop


def _first_line(node: cst.CSTNode, module: cst.Module) -> str:
    state = _FirstLine(default_indent=module.default_indent, default_newline=module.default_newline)
    with contextlib.suppress(_Stop):
        node._codegen(state)
    return "".join(state.tokens).split("\n", 1)[0].removesuffix("\r")


def _record_owners(node: cst.CSTNode, owner: cst.CSTNode | None, owners: dict[int, cst.CSTNode]) -> None:
    if owner is not None:
        owners[id(node)] = owner
    if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)):
        owner = node
    for name in code_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            _record_owners(value, owner, owners)
        elif isinstance(value, (tuple, list)):
            for child in value:
                if isinstance(child, cst.CSTNode):
                    _record_owners(child, owner, owners)


class LazyPositions(Mapping[cst.CSTNode, CodeRange]):
    def __init__(self, module: cst.Module, data: bytes) -> None:
        self.module = module
        self.data = data
        self._text: str | None = None
        self._full: Mapping[cst.CSTNode, CodeRange] | None = None
        self._cache: dict[int, CodeRange] = {}
        self._line_starts: list[int] | None = None
        self._lone: bool | None = None
        self._runs: dict[tuple[int, int], CodeRange | None] = {}  # (statement, node) -> position
        self._owners: dict[int, cst.CSTNode] | None = None  # node id -> innermost enclosing statement
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

    @property
    def _lone_cr(self) -> bool:
        """A lone CR is a line break to libcst but not to our line table:
        then every position comes from libcst."""
        if self._lone is None:
            self._lone = "\r" in self.text and self.text.count("\r") != self.text.count("\r\n")
        return self._lone

    def _find(self, node: cst.CSTNode) -> CodeRange | None:
        if self._lone_cr:
            return None
        if isinstance(node, cst.Module):
            text = self.text
            lines = text.count("\n") + 1
            if text and not node.has_trailing_newline:
                # libcst drops the final newline token after counting it.
                return CodeRange(CodePosition(1, 0), CodePosition(lines + 1, 0))
            return CodeRange(CodePosition(1, 0), CodePosition(lines, len(text) - text.rfind("\n") - 1))
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
        first = _first_line(bare, self.module)
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

    def locate(self, node: cst.CSTNode, hints: Sequence[cst.CSTNode] = ()) -> CodeRange:
        """Like `self[node]`, but a node whose text repeats in the file is placed
        by a codegen of an enclosing statement (`hints`: the statements around
        it, outermost first, as the walker saw them)."""
        if self._full is None and id(node) not in self._cache and self._find(node) is None:
            found = self._through_statement(node, hints or self._enclosing(node))
            if found is not None:
                self._cache[id(node)] = found
                return found
        return self[node]

    def _enclosing(self, node: cst.CSTNode) -> tuple[cst.CSTNode, ...]:
        """The statements around a node reported without them (outermost first),
        from one walk over the fields that hold code: a fraction of a codegen."""
        if self._owners is None:
            self._owners = {}
            with contextlib.suppress(RecursionError):  # too deep to walk: libcst places it
                _record_owners(self.module, None, self._owners)
        # Like the walker's statement stack, a statement is among its own.
        chain: list[cst.CSTNode] = [node] if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)) else []
        owner = self._owners.get(id(node))
        while owner is not None:
            chain.append(owner)
            owner = self._owners.get(id(owner))
        return tuple(reversed(chain))

    def _through_statement(self, node: cst.CSTNode, hints: Sequence[cst.CSTNode]) -> CodeRange | None:
        """The node's position from a codegen of its innermost enclosing statement
        that can be placed, or of the module's statements from one that can be
        (a node in fact data may lie outside the statements it came with)."""
        for chain in (hints, None):
            if chain is None:
                chain = self._enclosing(node)
                if chain == tuple(hints):
                    return None
            for statement in reversed(chain):
                found = self._codegen_statement(statement, node)
                if found is not None:
                    return found
            found = self._top_level(chain[0], node) if chain else None
            if found is not None:
                return found
        return None

    def _codegen_statement(self, statement: cst.CSTNode, node: cst.CSTNode) -> CodeRange | None:
        """PositionProvider's codegen run over one statement from where it starts,
        up to `node`.

        The statement is looked for by its first line. A small statement starts
        at its own text; a line or compound statement (leading comment lines
        dropped) at column 0 of its line, as libcst emits its indentation itself.
        Where the rendering reproduces the file's text, the start and the
        indentation were right; if that holds at more than one place, the
        statement is ambiguous (up to the node) and None is the answer."""
        key = (id(statement), id(node))
        if key in self._runs:
            return self._runs[key]
        root: cst.CSTNode
        small = isinstance(statement, cst.BaseSmallStatement)
        if small:
            root = statement
        elif isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            root = statement.with_changes(leading_lines=[])
        else:
            return None
        target = root if node is statement else node  # the copy stands for it
        first = _first_line(root, self.module)
        text = self.text
        found: CodeRange | None = None
        tries = 0
        at = text.find(first) if first.strip() else -1
        while at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            prefix = text[line_start:at]
            indent = prefix[: len(prefix) - len(prefix.lstrip(" \t"))]
            if small or indent == prefix:
                tries += 1
                if tries > _MAX_CANDIDATES:
                    found = None
                    break
                positions = self._codegen_from(at if small else line_start, indent, [root], target)
                if positions is not None and target in positions:
                    if found is not None:
                        found = None  # the same text twice, up to the node
                        break
                    found = positions[target]
            at = text.find(first, at + 1)
        self._runs[key] = found
        return found

    def _codegen_from(
        self, start: int, indent: str, nodes: Sequence[cst.CSTNode], stop: cst.CSTNode
    ) -> dict[cst.CSTNode, CodeRange] | None:
        """PositionProvider's codegen of `nodes`, in order, from text offset `start`,
        stopped once `stop` has its position; None unless the rendering
        reproduces the file's text from there."""
        provider = PositionProvider()
        state = _PositionsUpTo(
            default_indent=self.module.default_indent, default_newline=self.module.default_newline, provider=provider
        )
        state.stop, state.open = stop, []
        state.indent_tokens = [indent] if indent else []
        begin = self._position(start)
        state.line, state.column = begin.line, begin.column
        try:
            for node in nodes:
                node._codegen(state)
        except Exception:
            if not state.stopped:
                raise
            # Unwinding wrote partial ranges for the nodes still open: not theirs.
            for node in state.open:
                provider._computed.pop(node, None)
        rendered = "".join(state.tokens)
        if not self.text.startswith(rendered, start) and self.text[start:] + self.module.default_newline != rendered:
            return None  # (the last line of a file without a final newline lacks it)
        return provider._computed  # type: ignore[return-value]

    def _top_level(self, top: cst.CSTNode, node: cst.CSTNode) -> CodeRange | None:
        """A module-level statement whose text repeats: a codegen from the nearest
        earlier module-level statement that can be placed, or from the start."""
        body = self.module.body
        index = next((i for i, statement in enumerate(body) if statement is top), None)
        if index is None:
            return None
        nodes: list[cst.CSTNode] = [*self.module.header, *body[: index + 1]]
        start = 0
        for earlier in range(index - 1, max(-1, index - 1 - _ANCHOR_SEARCH), -1):
            block = self._find_block(body[earlier])
            if block is not None:
                start = self.text.rfind("\n", 0, block[0]) + 1
                nodes = [body[earlier].with_changes(leading_lines=[]), *body[earlier + 1 : index + 1]]
                break
        positions = self._codegen_from(start, "", nodes, node)
        return None if positions is None else positions.get(node)

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
