"""Regenerate docs/rules.md from rules/*.yaml (tests/test_docs.py fails when it drifts)."""

from __future__ import annotations

from pathlib import Path

from scaleaudit.docs import rules_page
from scaleaudit.rulebook import load_rulebook

OUT = Path(__file__).resolve().parents[1] / "docs" / "rules.md"

if __name__ == "__main__":
    OUT.write_text(rules_page(load_rulebook()), encoding="utf-8")
    print(f"wrote {OUT}")
