"""Regenerate tests/report/golden/ from the fixture apps (review the diff before committing).

python scripts/regen_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "report"))

from golden import FIXTURE_APPS, GOLDEN, render_golden  # noqa: E402

if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in FIXTURE_APPS:
        if not (REPO / "fixtures" / name).is_dir():
            print(f"skipped {name}: fixture missing")
            continue
        for suffix, text in render_golden(name).items():
            out = GOLDEN / f"{name}.{suffix}"
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(REPO)}")
