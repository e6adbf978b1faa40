"""The FastAPI fixture: exactly the `# expect:` lines are reported, nothing else."""

from __future__ import annotations

import json

from conftest import FIXTURES, expected_markers, scan_tree, triples

from scaleaudit.render import json as json_render

APP = FIXTURES / "fastapi_shop"


def test_findings_match_markers_exactly() -> None:
    result = scan_tree(APP)
    assert triples(result) == expected_markers(APP)
    assert not result.diagnostics


def test_correct_modules_stay_silent() -> None:
    result = scan_tree(APP)
    silent = {"app/db.py", "app/cache.py", "app/routers/users.py", "app/services/analytics.py",
              "app/workers/tasks.py", "scripts/seed.py", "tests/conftest.py", "alembic/env.py"}
    assert not [f for f in result.findings if f.path in silent]


def test_duplicates_point_at_the_shared_module() -> None:
    result = scan_tree(APP, select=("SA101",))
    engines = [f for f in result.findings if "sqlalchemy" in f.message]
    assert {f.path for f in engines} == {"app/routers/orders.py", "app/routers/products.py",
                                         "app/routers/inventory.py"}
    for finding in engines:
        assert "import the shared client from `app.db.engine`" in finding.message
        assert "app/db.py" in {r.path for r in finding.related}


def test_json_report_has_the_documented_fields() -> None:
    data = json.loads(json_render.render(scan_tree(APP)))
    assert set(data) >= {"version", "tool", "root", "findings", "diagnostics", "summary"}
    required = {"rule", "category", "severity", "confidence", "path", "line", "column", "end_line",
                "end_column", "message"}
    assert data["findings"] and all(required <= set(f) for f in data["findings"])
    assert data["summary"]["findings"] == len(data["findings"])
