"""Refuse, before libcst sees it, source that would crash or stall its parser.

libcst's native parser recurses once per level of nesting on the C stack: a
file of 2,000 nested brackets, or a 20,000-term `1 + 1 + …` chain, kills the
process with a segfault (no Python exception to catch), and long operator
chains cost quadratic time (2,000 terms: 0.8 s; 5,000: ~1 min). Generated
code is where both happen. Two cheap screens keep such files out:

* bracket depth, from the bytes alone, so it holds even when a syntax error
  earlier in the file would stop a real parser first. CPython itself refuses
  more than 200 nested brackets, so no valid program is lost;
* CPython's own parser (`ast.parse`, ~9 % of a libcst parse), which is
  stack-safe and, under a lowered recursion limit, raises `RecursionError`
  past ~1,500 levels of expression nesting; it also rejects integer literals
  longer than 4,300 digits, which rules evaluating literals would choke on
  (ValueError). Any other verdict of it is
  ignored: libcst, not the running interpreter, decides what is Python (it
  accepts syntax newer than the interpreter scaleaudit runs on) — but then,
  since CPython stopped at its first error and libcst may parse on, the
  tokens of the longest statement bound what libcst can meet (5,000).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
import warnings

MAX_BRACKET_DEPTH = 200  # CPython's tokenizer limit (MAXLEVEL)
# For files CPython rejects: libcst crashes from ~20,000 levels and takes ~1 s for 2,000 terms.
MAX_STATEMENT_TOKENS = 5_000
_AST_RECURSION_LIMIT = 500  # ast nests ~3 levels per unit: ~1,500 levels of expression
_OPEN, _CLOSE = b"([{", b")]}"
_PAIRS = (b"()", b"[]", b"{}")
_KEEP = bytes(b for b in range(256) if b not in _OPEN + _CLOSE)


def bracket_depth_exceeds(data: bytes, limit: int = MAX_BRACKET_DEPTH) -> bool:
    """True when brackets nest deeper than `limit` (strings and comments counted too: conservative only past 200)."""
    brackets = data.translate(None, _KEEP)
    if len(brackets) <= 2 * limit:
        return False
    # Each round removes the innermost matched pairs, so rounds <= depth; C-speed replaces.
    for _ in range(limit):
        shorter = brackets
        for pair in _PAIRS:
            shorter = shorter.replace(pair, b"")
        if shorter == brackets:
            return False
        brackets = shorter
    return any(pair in brackets for pair in _PAIRS)


def longest_statement(data: bytes) -> int:
    """Tokens in the longest logical line, as far as the tokenizer gets (it ignores grammar errors).

    Nesting needs at least one token per level, so this bounds the depth libcst can reach."""
    longest = count = 0
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                longest, count = max(longest, count), 0
            elif token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                count += 1
                if count > MAX_STATEMENT_TOKENS:
                    return count
    except (tokenize.TokenError, SyntaxError, UnicodeError, LookupError):
        pass  # libcst's tokenizer stops there too
    return max(longest, count)


def too_complex(data: bytes) -> str | None:
    """A one-line reason when `data` must not reach libcst's parser, else None."""
    if b"\x00" in data:
        # CPython refuses such a file; libcst parses it and a rule evaluating a literal then raises.
        return "NUL byte in the file: not Python source"
    if bracket_depth_exceeds(data):
        return f"too deeply nested to analyse (brackets nested deeper than {MAX_BRACKET_DEPTH})"
    previous = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(_AST_RECURSION_LIMIT)
    except RecursionError:  # already deeper than the screen's limit: keep the current one
        previous = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            ast.parse(data)
    except (RecursionError, MemoryError):
        return "too deeply nested to analyse (expression nesting beyond ~1,500 levels)"
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            return "too deeply nested to analyse"
        if "Exceeds the limit" in str(exc.msg):  # an integer literal past sys.get_int_max_str_digits()
            return f"integer literal too long to analyse: {str(exc.msg).split(':')[0]}"
        # CPython stopped at its first error, but libcst accepts some of what CPython
        # rejects and parses on: screen the rest by the tokens of its longest statement.
        if longest_statement(data) > MAX_STATEMENT_TOKENS:
            return f"a statement longer than {MAX_STATEMENT_TOKENS:,} tokens in a file CPython cannot parse"
    except (UnicodeError, LookupError, ValueError):
        pass  # undecodable bytes, an unknown coding: libcst gives its own parse error
    finally:
        if previous:
            sys.setrecursionlimit(previous)
    return None
