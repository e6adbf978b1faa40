"""Editing a bracketed, comma-separated sequence of a Python file in its own layout.

A fixer that appends to a list or tuple literal (`Meta.indexes`) or to a
parameter list (a handler's signature, see pysignature) must leave the code
looking as if its author had written the new elements: one per line when the
sequence is written one per line, with each old line keeping its comment;
inline otherwise; and a one-liner that grows too long broken the way black
would break it. libcst keeps the line breaks and comments between elements in
the whitespace after each comma, so these helpers are about that whitespace.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from scaleaudit.fixes.pysource import PyFile

# Where a one-line sequence that a fix lengthened is broken into one element per line:
# Black's and Ruff's default width, which most projects format to.
LINE_LENGTH = 88


def with_element(seq: cst.List | cst.Tuple, codes: Sequence[str]) -> cst.List | cst.Tuple:
    """A list/tuple literal with elements appended in its own layout: one per line when it is
    written one per line with a trailing comma (each old line keeps its comment), inline otherwise."""
    new = [cst.Element(cst.parse_expression(code)) for code in codes]
    elements = list(seq.elements)
    if not elements:
        return seq.with_changes(elements=new)
    last = elements[-1]
    previous = elements[-2].comma if len(elements) > 1 else cst.MaybeSentinel.DEFAULT
    opener = seq.lbracket if isinstance(seq, cst.List) else (seq.lpar[0] if seq.lpar else None)
    closer = seq.rbracket if isinstance(seq, cst.List) else (seq.rpar[0] if seq.rpar else None)
    closing = closer.whitespace_before if closer is not None else None
    if isinstance(last.comma, cst.Comma) and isinstance(closing, cst.ParenthesizedWhitespace):
        # `[\n    a,  # why\n]`: the line break before `]`, and the last line's comment, belong
        # to the bracket; the comment moves to the old last element's comma, with it.
        gap = previous.whitespace_after if isinstance(previous, cst.Comma) else opener.whitespace_after  # type: ignore[union-attr]
        between = bare_break(gap)
        elements[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=with_comment(between, closing)))
        tail = [e.with_changes(comma=cst.Comma(whitespace_after=between)) for e in new[:-1]]
        tail.append(new[-1].with_changes(comma=cst.Comma()))
        assert closer is not None
        bare_closer = closer.with_changes(whitespace_before=closing.with_changes(first_line=cst.TrailingWhitespace()))
        closed = {"rbracket": bare_closer} if isinstance(seq, cst.List) else {"rpar": [bare_closer, *seq.rpar[1:]]}
        return seq.with_changes(elements=[*elements, *tail], **closed)
    sep = previous.whitespace_after if isinstance(previous, cst.Comma) else cst.SimpleWhitespace(" ")
    elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=sep))
    tail = [e.with_changes(comma=cst.Comma(whitespace_after=sep)) for e in new[:-1]]
    tail.append(new[-1].with_changes(comma=last.comma))
    return seq.with_changes(elements=[*elements, *tail])


def wrapped_if_long(
    file: PyFile, old: cst.SimpleStatementLine, new: cst.SimpleStatementLine, seq: cst.List | cst.Tuple
) -> cst.SimpleStatementLine:
    """`new`, with `seq` one element per line when it is a one-liner now longer than the
    line it replaces and than LINE_LENGTH (a 165-character Meta line is not a reviewable edit)."""
    indent = file.positions[old].start.column
    old_width, new_code = indent + len(file.code(old).rstrip("\n")), cst.Module([]).code_for_node(new)
    if "\n" in new_code.rstrip("\n") or indent + len(new_code.rstrip("\n")) <= max(LINE_LENGTH, old_width):
        return new
    step = file.module.default_indent
    inner = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(step))
    outer = cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(""))
    last = len(seq.elements) - 1
    elements = [e.with_changes(comma=cst.Comma(whitespace_after=outer if i == last else inner)) for i, e in
                enumerate(seq.elements)]  # fmt: skip
    if isinstance(seq, cst.List):
        tall: cst.List | cst.Tuple = seq.with_changes(
            lbracket=cst.LeftSquareBracket(whitespace_after=inner), elements=elements, rbracket=cst.RightSquareBracket()
        )
    else:
        opened = [cst.LeftParen(whitespace_after=inner)]
        tall = seq.with_changes(lpar=opened, elements=elements, rpar=[cst.RightParen()])
    body = [s.with_changes(value=tall) if getattr(s, "value", None) is seq else s for s in new.body]
    return new.with_changes(body=body)


def bare_break(gap: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    """The line break and indentation between two elements, without the comments around it."""
    if isinstance(gap, cst.ParenthesizedWhitespace):
        return gap.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return gap


def with_comment(
    between: cst.BaseParenthesizableWhitespace, source: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """`between` ending its line with the comment that `source` ends its line with."""
    if isinstance(between, cst.ParenthesizedWhitespace) and isinstance(source, cst.ParenthesizedWhitespace):
        return between.with_changes(first_line=source.first_line)
    return between
