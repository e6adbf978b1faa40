"""Hypothesis strategies that damage source files the way real trees do.

Each mutation is one thing a scan meets in the wild: a flipped byte, a file
cut short by a crashed editor, tabs mixed into spaces, Windows or old-Mac line
endings, a BOM, NUL bytes, a generated one-line blob, pathological nesting.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

BOM = b"\xef\xbb\xbf"

_NESTINGS = {
    "paren": lambda d: b"(" * d + b"1" + b")" * d,
    "list": lambda d: b"[" * d + b"]" * d,
    "dict": lambda d: b"{'a': " * d + b"1" + b"}" * d,
    "plus": lambda d: b"1" + b" + 1" * d,
    "neg": lambda d: b"-" * d + b"1",
    "not": lambda d: b"not " * d + b"x",
    "lambda": lambda d: b"lambda: " * d + b"1",
    "attr": lambda d: b"a" + b".b" * d,
    "call": lambda d: b"f" + b"()" * d,
    "ternary": lambda d: b"a if b else " * d + b"c",
    "strcat": lambda d: b"'a' " * d,
    "ts-paren": lambda d: b"(" * d + b"x" + b")" * d,
    "ts-arrow": lambda d: b"() => " * d + b"1",
    "ts-brace": lambda d: b"{" * d + b"}" * d,
}


def _at(data: bytes, pos: int) -> int:
    return pos % (len(data) + 1)


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from([
        "flip", "truncate", "indent", "line-endings", "bom", "nul", "long-line", "nest", "delete", "duplicate",
        "insert-bytes", "latin1",
    ]))
    pos = _at(data, draw(st.integers(0, 1 << 20)))
    if kind == "flip" and data:
        pos = min(pos, len(data) - 1)
        return data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
    if kind == "truncate":
        return data[:pos]
    if kind == "indent":
        lines = data.split(b"\n")
        index = draw(st.integers(0, max(0, len(lines) - 1)))
        indent = draw(st.sampled_from([b" ", b"\t", b"    ", b" \t", b"\x0c"])) * draw(st.integers(1, 8))
        lines[index] = indent + lines[index]
        return b"\n".join(lines)
    if kind == "line-endings":
        ending = draw(st.sampled_from([b"\r\n", b"\r", b"\n\r"]))
        every = draw(st.integers(1, 5))
        parts = data.split(b"\n")
        return b"".join(p + (ending if i % every == 0 else b"\n") for i, p in enumerate(parts[:-1])) + parts[-1]
    if kind == "bom":
        return BOM + data
    if kind == "nul":
        # Before and after the 8 KiB the engine sniffs for binary files.
        padding = draw(st.sampled_from([b"", b"#" + b"x" * 9000 + b"\n"]))
        return padding + data[:pos] + b"\x00" + data[pos:]
    if kind == "long-line":
        line = b"x = '" + b"a" * draw(st.integers(10_000, 300_000)) + b"'\n"
        return data[:pos] + b"\n" + line + data[pos:]
    if kind == "nest":
        name = draw(st.sampled_from(sorted(_NESTINGS)))
        depth = draw(st.sampled_from([10, 150, 199, 201, 1000, 1500, 2000, 5000, 30000]))
        return data[:pos] + b"\nx = " + _NESTINGS[name](depth) + b"\n" + data[pos:]
    if kind == "delete":
        end = _at(data, pos + draw(st.integers(1, 400)))
        return data[:pos] + data[end:]
    if kind == "duplicate":
        end = _at(data, pos + draw(st.integers(1, 400)))
        return data[:end] + data[pos:end] + data[end:]
    if kind == "latin1":
        return b"# -*- coding: latin-1 -*-\n" + data.replace(b"a", b"\xe9", 3)
    return data[:pos] + draw(st.binary(min_size=1, max_size=32)) + data[pos:]


@st.composite
def mutated(draw: st.DrawFn, files: Sequence[tuple[str, bytes]], max_mutations: int = 3) -> tuple[str, bytes]:
    """A corpus file with up to `max_mutations` mutations applied, as (relative path, bytes)."""
    rel, data = draw(st.sampled_from(list(files)))
    for _ in range(draw(st.integers(1, max_mutations))):
        data = draw(mutation(data))
    return rel, data
