"""docs/rules.md is generated from the YAML; every rule module has YAML and vice versa."""

from __future__ import annotations

from conftest import REPO

from scaleaudit.docs import rules_page
from scaleaudit.python.rules import ALL_RULES
from scaleaudit.rulebook import load_rulebook


def test_rules_page_is_in_sync() -> None:
    page = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == rules_page(load_rulebook()), "run: python scripts/gen_docs.py"


def test_every_python_rule_has_metadata() -> None:
    book = load_rulebook()
    for rule in ALL_RULES:
        assert rule.id in book.rules, f"{rule.id} has no rules/{rule.id}.yaml"


def test_every_rule_doc_has_the_ruff_sections() -> None:
    for meta in load_rulebook().rules.values():
        assert meta.summary and meta.why and meta.example and meta.use_instead, meta.id
        assert meta.precision, f"{meta.id}: say why the confidence is what it is (precision:)"
