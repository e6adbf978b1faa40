"""Adding parameters to a `def` while keeping its layout and its comments.

A fixer that gives a function new parameters (SA301 adds `limit`/`offset` to a
FastAPI handler) must place them where Python accepts them — after the last
positional-or-keyword parameter, or among the keyword-only ones after `*` —
and write them as the signature's author would have: one per line in a
vertical signature, inline in a one-line one, broken black-style when the line
grows too long. libcst stores a parameter's trailing comment in the whitespace
after its comma, so moving commas around can silently carry a comment to
another parameter; `comments_in_place` lets the caller check that did not
happen and refuse instead.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

import libcst as cst

from scaleaudit.fixes.pyliterals import LINE_LENGTH, bare_break, with_comment


def with_params(
    function: cst.FunctionDef, new: Sequence[cst.Param], *, indent: str, line_length: int = LINE_LENGTH, column: int = 0
) -> cst.FunctionDef:
    """`function` with parameters appended after its last positional-or-keyword one
    (keyword-only ones after `*`/`*args`), in the layout the signature uses.

    A signature written one parameter per line keeps that layout; a one-line
    signature stays on one line unless it grows past `line_length`, when it is
    written one parameter per line with a trailing comma (as black would).
    """
    params = function.params
    keyword_only = isinstance(params.star_arg, (cst.Param, cst.ParamStar))
    field = "kwonly_params" if keyword_only else "params"
    group = list(getattr(params, field))
    before = _element_before(params, keyword_only)
    everything = _elements(params)
    vertical = _is_vertical(function)
    added: list[cst.Param] = list(new)
    if before is None:  # no parameter before them: `def f()` or `def f(**kwargs)`
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        spaced = [p.with_changes(comma=space) for p in added[:-1]]
        final = added[-1].with_changes(comma=space) if everything else added[-1]
        updated = params.with_changes(**{field: [*spaced, final, *group]})
    else:
        moved, added = _after(function, before, everything, added)
        updated = _place(params, before, moved, field, added)
    result = function.with_changes(params=updated)
    if not vertical and column + _header_width(result) > line_length:
        result = _explode(result, indent)
    return result


def _after(
    function: cst.FunctionDef,
    before: cst.Param | cst.ParamStar | cst.ParamSlash,
    everything: Sequence[cst.CSTNode],
    added: list[cst.Param],
) -> tuple[cst.Param | cst.ParamStar | cst.ParamSlash, list[cst.Param]]:
    """`before` and the new parameters that follow it, laid out like the signature. A comment
    after `before` (libcst keeps it in the whitespace after its comma) stays on its line; the
    new ones get the bare line break and indentation."""
    comma = before.comma
    if before is not everything[-1] and isinstance(comma, cst.Comma):  # before `*args`/`**kwargs`
        plain = comma.with_changes(whitespace_after=bare_break(comma.whitespace_after))
        return before, [p.with_changes(comma=plain) for p in added]
    separator = _separator(function, everything)
    if isinstance(comma, cst.Comma):  # trailing comma: the new last parameter keeps it
        closing = comma.whitespace_after
        last = added[-1].with_changes(comma=comma.with_changes(whitespace_after=bare_break(closing)))
    else:  # a line break before `)` sits after the parameter, with its comment
        closing = before.whitespace_after_param if isinstance(before, cst.Param) else cst.SimpleWhitespace("")
        last = added[-1].with_changes(whitespace_after_param=bare_break(closing))
        if isinstance(before, cst.Param):
            before = before.with_changes(whitespace_after_param=cst.SimpleWhitespace(""))
    own = separator.with_changes(whitespace_after=with_comment(separator.whitespace_after, closing))
    return before.with_changes(comma=own), [*(p.with_changes(comma=separator) for p in added[:-1]), last]


def comments_in_place(old: cst.FunctionDef, new: cst.FunctionDef) -> bool:
    """Does every comment of the old signature end the same code in the new one, in order?"""
    return _signature_comments(old) == _signature_comments(new)


def _signature_comments(function: cst.FunctionDef) -> list[tuple[str, str]]:
    header = function.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]), decorators=[], leading_lines=[])
    code = cst.Module([]).code_for_node(header)
    lines = code.splitlines()
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return [
        (lines[t.start[0] - 1][: t.start[1]].strip().rstrip(","), t.string)
        for t in tokens
        if t.type == tokenize.COMMENT
    ]


def _elements(params: cst.Parameters) -> list[cst.Param | cst.ParamStar | cst.ParamSlash]:
    out: list[cst.Param | cst.ParamStar | cst.ParamSlash] = [*params.posonly_params]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        out.append(params.posonly_ind)
    out.extend(params.params)
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)):
        out.append(params.star_arg)
    out.extend(params.kwonly_params)
    if isinstance(params.star_kwarg, cst.Param):
        out.append(params.star_kwarg)
    return out


def _element_before(params: cst.Parameters, keyword_only: bool) -> cst.Param | cst.ParamStar | cst.ParamSlash | None:
    """The element the new parameters follow."""
    if keyword_only:
        star = params.star_arg
        assert isinstance(star, (cst.Param, cst.ParamStar))
        return params.kwonly_params[-1] if params.kwonly_params else star
    if params.params:
        return params.params[-1]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        return params.posonly_ind
    return None


def _place(
    params: cst.Parameters,
    before: cst.Param | cst.ParamStar | cst.ParamSlash,
    moved: cst.Param | cst.ParamStar | cst.ParamSlash,
    field: str,
    added: list[cst.Param],
) -> cst.Parameters:
    group = list(getattr(params, field))
    if group and before is group[-1]:
        assert isinstance(moved, cst.Param)
        return params.with_changes(**{field: [*group[:-1], moved, *added]})
    # `before` is the `*`/`*args` or the `/` that opens an empty group
    if before is params.star_arg:
        return params.with_changes(star_arg=moved, **{field: [*added, *group]})
    return params.with_changes(posonly_ind=moved, **{field: [*added, *group]})


def _separator(function: cst.FunctionDef, everything: Sequence[cst.CSTNode]) -> cst.Comma:
    """The comma between two parameters as this signature writes it (without the comments there)."""
    for element in everything[:-1]:
        comma = getattr(element, "comma", None)
        if isinstance(comma, cst.Comma):
            return comma.with_changes(whitespace_after=bare_break(comma.whitespace_after))
    between = function.whitespace_before_params
    if isinstance(between, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=bare_break(between))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _is_vertical(function: cst.FunctionDef) -> bool:
    code = cst.Module([]).code_for_node(function.params)
    return "\n" in code or isinstance(function.whitespace_before_params, cst.ParenthesizedWhitespace)


def _header_width(function: cst.FunctionDef) -> int:
    header = function.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]), decorators=[], leading_lines=[])
    return len(cst.Module([]).code_for_node(header).splitlines()[0]) - len(" pass")


def _explode(function: cst.FunctionDef, indent: str) -> cst.FunctionDef:
    def broken(last_line: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True, last_line=cst.SimpleWhitespace(last_line)
        )

    params = function.params
    elements = _elements(params)
    replaced: dict[int, cst.CSTNode] = {}
    for index, element in enumerate(elements):
        after = broken("" if index == len(elements) - 1 else indent)
        replaced[id(element)] = element.with_changes(comma=cst.Comma(whitespace_after=after))

    def swap(items: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
        return [replaced.get(id(item), item) for item in items]

    changes: dict[str, object] = {
        "posonly_params": swap(params.posonly_params),
        "params": swap(params.params),
        "kwonly_params": swap(params.kwonly_params),
    }
    for name in ("posonly_ind", "star_arg", "star_kwarg"):
        value = getattr(params, name)
        if id(value) in replaced:
            changes[name] = replaced[id(value)]
    return function.with_changes(whitespace_before_params=broken(indent), params=params.with_changes(**changes))
