"""What the golden files hold, shared by the test and scripts/regen_golden.py."""

from __future__ import annotations

from pathlib import Path

from scaleaudit import api
from scaleaudit.report import render_json, render_markdown
from scaleaudit.report.build import Load

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURE_APPS = ("fastapi_shop", "flask_chat", "express_prisma")


def build(name: str, **load: object):  # type: ignore[no-untyped-def]
    root = REPO / "fixtures" / name
    settings = api.settings_for([root], isolated=True)
    return api.report(root, settings, Load(**load), use_cache=False)  # type: ignore[arg-type]


def render_golden(name: str) -> dict[str, str]:
    report = build(name)
    # No tool version in golden JSON: a release must not churn every golden file.
    return {"md": render_markdown.render(report), "json": render_json.render(report, tool_version=False)}
