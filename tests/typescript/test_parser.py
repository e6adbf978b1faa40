"""The tree-sitter front end's small readers."""

from __future__ import annotations

import pytest

from scaleaudit.typescript.parser import parse, string_value


@pytest.mark.parametrize(
    "expression",
    ['"db"', '("db")', '"db" as string', '"db" satisfies string', '("db" as const) satisfies string', '"db"!'],
)
def test_a_value_is_read_through_type_wrappers(expression: str) -> None:
    """`satisfies` keeps the value first and the type last: reading the last child gave the type."""
    tree = parse("a.ts", f"const x = {expression};\n".encode())
    declarator = tree.root_node.named_children[0].named_children[0]
    assert string_value(declarator.child_by_field_name("value")) == "db"
