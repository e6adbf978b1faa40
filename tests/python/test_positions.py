"""LazyPositions must agree with libcst's PositionProvider wherever it answers itself.

The corpus is every Python file in our fixtures and our own source: thousands
of nodes of the kinds rules report (calls, attributes, statements, loops,
classes, the module)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from conftest import FIXTURES, REPO
from libcst.metadata import MetadataWrapper, PositionProvider

from scaleaudit.python.positions import LazyPositions

KINDS = (cst.Module, cst.Call, cst.Attribute, cst.Name, cst.ClassDef, cst.FunctionDef, cst.For, cst.While,
         cst.If, cst.With, cst.Try, cst.SimpleStatementLine, cst.Assign, cst.Return, cst.ListComp, cst.Subscript)


def _corpus() -> list[Path]:
    source = REPO / "src" / "scaleaudit"
    return sorted([*FIXTURES.rglob("*.py"), *(source / "python").rglob("*.py"), *(source / "engine").rglob("*.py")])


def test_positions_match_libcst_where_found() -> None:
    checked = found = 0
    for path in _corpus():
        data = path.read_bytes()
        module = cst.parse_module(data)
        full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        lazy = LazyPositions(module, data)
        for node, expected in full.items():
            if not isinstance(node, KINDS):
                continue
            checked += 1
            got = lazy._find(node)
            if got is not None:
                found += 1
                assert got == expected, (path, type(node).__name__, got, expected)
    assert checked > 3000 and found > checked // 4, (checked, found)


def test_crlf_and_ambiguous_nodes_fall_back_to_libcst() -> None:
    data = b"import redis\r\nr = redis.Redis()\r\ns = redis.Redis()\r\n"
    module = cst.parse_module(data)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = LazyPositions(module, data)
    calls = [n for n in full if isinstance(n, cst.Call)]
    assert [lazy[c] for c in calls] == [full[c] for c in calls]
    assert lazy.fallbacks == 1


def _visited(module: cst.Module) -> list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]]:
    """Every node the walker visits, with the statements around it when it was seen."""
    from scaleaudit.python.context import PyContext
    from scaleaudit.python.imports import ImportTable
    from scaleaudit.python.walker import Walker

    seen: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = []

    def record(node: cst.CSTNode, ctx: PyContext) -> None:
        seen.append((node, tuple(ctx.statements)))

    names = {f"visit_{kind.__name__}": staticmethod(record) for kind in KINDS}
    ctx = PyContext(rel="x.py", module="x", imports=ImportTable("x"))
    Walker(ctx, [type("Recorder", (), names)()]).walk(module)  # type: ignore[list-item]
    return seen


def _no_fallback(lazy: LazyPositions) -> None:
    lazy._full_positions = lambda: (_ for _ in ()).throw(AssertionError("whole-file fallback"))  # type: ignore[method-assign]


REPEATS = {
    "same attribute twice": "def f(a):\n    return a.b + a.b\n\ndef g(a):\n    return a.b + a.b\n",
    "call of itself": "x.y(x.y)\nx.y(x.y)\nif x.y(x.y):\n    x.y(x.y)\n",
    "f-strings": 'def f(a):\n    s = f"{a.b}{a.b!r:>{a.b}}"\n    t = f"{a.b}" + f"{a.b}"\n    return s, t\n',
    "multi-line": (
        "class A:\n    def m(self, o):\n        for i in o.items.all():\n            total = (\n"
        "                i.price.amount\n                + i.price.amount\n            )\n"
        "            data = {\n    'a': i.price.amount,\n'b': [i.price.amount,\n  i.price.amount]}\n"
        "        return o.items.all()\n"
    ),
    "CRLF": "def f(o):\r\n    for i in o.lines:\r\n        x = (i.p,\r\n             i.p)\r\n    return i.p\r\n",
    "tabs": "class A:\n\tdef m(self, o):\n\t\tif o.a:\n\t\t\treturn [o.a,\n\t\t\t\to.a]\n\t\treturn o.a\n",
    "unicode": "def f(ü):\n    s = 'é' + ü.ß + ü.ß  # ü.ß\n    return ü.ß, '日本' + ü.ß\n",
    "decorators and comments": (
        "# c\n@d.e\n@d.e(d.e)\ndef f(d):\n    # d.e\n    d.e; d.e\n\n\n@d.e\nclass C(d.e):\n    x = d.e\n"
    ),
    "semicolons and suites": "if a.b: a.b; a.b\nwhile a.b: a.b = a.b\nwith a.b as c: c.d(a.b)\n",
    "same text up to the node": (
        "def f(a):\n    x = a.b + a.b\n    return 1\n\n\ndef f(a):\n    x = a.b + a.b\n    return 2\n"
    ),
    "names in headers": (
        "@d\nasync def f(f):\n    async  for f in f.f:\n        f.f(f)\n\n@d\nclass f(f.f):\n    f = f.f\n"
        "for f in f:\n    for f in f:\n        f\n"
    ),
    "no final newline": "for x in y.z:\n    y.z(x)\ny.z(y.z)",
    "nested comprehension": "r = [a.b for a in c.d if a.b for c in a.b]\nr = {a.b: a.b for a in c.d}\n",
    "match and try": (
        "try:\n    a.b\nexcept E as e:\n    a.b\nelse:\n    a.b\nfinally:\n    a.b\n"
        "match a.b:\n    case 1:\n        a.b\n    case _:\n        a.b\n"
    ),
}


@pytest.mark.parametrize("source", REPEATS.values(), ids=REPEATS.keys())
def test_repeated_text_is_placed_without_the_whole_file(source: str) -> None:
    """Text that repeats inside one statement (`a.b + a.b`) is placed by a
    codegen of the statement; with or without the statements as hints, every
    answer equals libcst's and the whole-file provider is never run."""
    data = source.encode()
    module = cst.parse_module(data)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    seen = _visited(module)
    assert len(seen) > 5
    for use_hints in (True, False):
        lazy = LazyPositions(module, data)
        _no_fallback(lazy)
        for node, hints in seen:
            got = lazy.locate(node, hints if use_hints else ())
            assert got == full[node], (type(node).__name__, module.code_for_node(node), got, full[node])


def test_a_lone_carriage_return_leaves_positions_to_libcst() -> None:
    """libcst counts a lone CR as a line break; our line table would not."""
    data = b"a = 1\rb = a.c + a.c\n"
    module = cst.parse_module(data)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = LazyPositions(module, data)
    seen = _visited(module)
    assert [lazy.locate(node, hints) for node, hints in seen] == [full[node] for node, _ in seen]
    assert lazy.fallbacks == 1


def test_nodes_placed_through_their_enclosing_statements_match_libcst() -> None:
    """Names and attributes repeat all over a file; `locate` places them through
    their enclosing statements. Every answer must equal libcst's, none may need
    the whole-file provider, and neither may a node located without its statements
    (a rule reporting from `finish()`) or with statements that do not enclose it
    (a loop's iterable in fact data reported from the loop's body)."""
    total = 0
    for path in _corpus():
        data = path.read_bytes()
        module = cst.parse_module(data)
        seen = _visited(module)
        full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        lazy, bare, elsewhere = (LazyPositions(module, data) for _ in range(3))
        for positions in (lazy, bare, elsewhere):
            _no_fallback(positions)
        for index, (node, hints) in enumerate(seen):
            if index % 2:
                continue  # every other node keeps the test quick
            total += 1
            assert lazy.locate(node, hints) == full[node], (path, type(node).__name__, full[node])
            if index % 14 == 0:
                assert bare.locate(node) == full[node], (path, type(node).__name__, full[node])
                later = seen[min(len(seen) - 1, index + 5)][1]
                assert elsewhere.locate(node, later) == full[node], (path, type(node).__name__, full[node])
    assert total > 2500, total
