"""Golden Markdown and JSON reports of the fixture apps (regenerate with scripts/regen_golden.py, then review)."""

from __future__ import annotations

import pytest
from golden import FIXTURE_APPS, GOLDEN, REPO, render_golden


@pytest.mark.parametrize("name", FIXTURE_APPS)
def test_report_matches_golden(name: str) -> None:
    if not (REPO / "fixtures" / name).is_dir():
        pytest.skip(f"fixture {name} not present")
    for suffix, text in render_golden(name).items():
        golden = GOLDEN / f"{name}.{suffix}"
        assert golden.is_file(), f"missing {golden.name}: run scripts/regen_golden.py"
        assert text == golden.read_text(encoding="utf-8"), f"{golden.name} drifted: run scripts/regen_golden.py"


def test_golden_files_hold_no_absolute_paths_or_timestamps() -> None:
    for golden in GOLDEN.iterdir():
        text = golden.read_text(encoding="utf-8")
        assert str(REPO) not in text and "/tmp/" not in text, golden.name
        assert "generated_at" not in text and "timestamp" not in text, golden.name
