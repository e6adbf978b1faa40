"""What the report says: the no-problems app, architecture evidence, --compare, the CLI contract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, write_tree
from golden import build

from scaleaudit import api
from scaleaudit.report import render_html, render_json, render_markdown
from scaleaudit.report.build import Load

CLEAN = {
    "app/__init__.py": "",
    "app/main.py": "import sentry_sdk\nfrom fastapi import FastAPI\n"
    "from fastapi.middleware.gzip import GZipMiddleware\n"
    "from app.db import engine\nfrom app.cache import cache\n"
    "sentry_sdk.init(dsn=None)\napp = FastAPI()\napp.add_middleware(GZipMiddleware, minimum_size=1000)\n\n\n"
    "@app.get('/items/{item_id}')\ndef item(item_id: int):\n    hit = cache.get(f'item:{item_id}')\n"
    "    if hit is not None:\n        return {'name': hit}\n    with engine.connect() as conn:\n"
    "        name = conn.exec_driver_sql('select name from items where id = %s', (item_id,)).scalar()\n"
    "    cache.set(f'item:{item_id}', name, ex=300)\n    return {'name': name}\n",
    "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_size=7, max_overflow=4, "
    "pool_pre_ping=True)\n",
    "app/cache.py": "import redis\ncache = redis.Redis.from_url(REDIS_URL, max_connections=20)\n",
    "gunicorn.conf.py": "bind = '0.0.0.0:8000'\nworkers = 4\nworker_class = 'uvicorn.workers.UvicornWorker'\n",
    "loadtest/locustfile.py": "from locust import HttpUser, task\n\n\nclass Shopper(HttpUser):\n    @task\n"
    "    def item(self):\n        self.client.get('/items/1')\n",
}


def _report(root: Path, **load: object):  # type: ignore[no-untyped-def]
    settings = api.settings_for([root], isolated=True)
    return api.report(root, settings, Load(**load), use_cache=False)  # type: ignore[arg-type]


def test_an_app_with_no_problems_says_so(tmp_path: Path) -> None:
    report = _report(write_tree(tmp_path, CLEAN))
    assert report.no_problems and report.issues == () and report.actions == ()
    markdown = render_markdown.render(report)
    assert "No problems found" in markdown and "Critical issues (0)" in markdown
    assert report.verdict.monolith_enough
    status = {line.key: line.status for line in report.checklist}
    assert status["singleton-client"] == status["pool-config"] == status["cluster-mode"] == "done"
    assert status["monitoring"] == status["load-test"] == status["redis-caching"] == "done"
    assert "open" not in status.values()  # no invented work
    assert json.loads(render_json.render(report))["no_problems"] is True


def test_the_headline_never_says_enough_while_critical_issues_are_open(tmp_path: Path) -> None:
    clean = _report(write_tree(tmp_path / "clean", CLEAN)).verdict
    assert clean.headline == "A well-tuned monolith is enough for 1,000 concurrent users."
    duplicated = {**CLEAN, "app/jobs.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n"}
    report = _report(write_tree(tmp_path / "dup", duplicated))
    critical = [i for i in report.issues if i.severity in ("critical", "high")]
    assert critical and report.verdict.monolith_enough
    assert report.verdict.headline == (
        f"A well-tuned monolith is enough for 1,000 concurrent users once the {len(critical)} critical/high "
        "issue(s) below are fixed; as it stands, it is not."
    )


def test_architecture_cites_file_and_line() -> None:
    report = build("flask_chat")
    arch = {item.aspect: item for item in report.architecture}
    assert arch["web framework"].value == "Flask"
    assert [e.where for e in arch["realtime"].evidence] == ["chat/app.py:17"]
    assert arch["process model"].value == "gunicorn (4 worker(s), eventlet)"
    assert arch["file storage"].value == "S3, local disk"
    assert arch["monitoring / error tracking"].value == "not detected"


def test_one_issue_per_rule_with_every_location() -> None:
    report = build("flask_chat")
    ttl = next(i for i in report.issues if i.rule == "SA562")
    assert [loc.where for loc in ttl.locations] == ["chat/rooms.py:16", "chat/rooms.py:17"]
    assert ttl.locations[0].excerpt.splitlines()[2].startswith("  16 >")
    assert [i.priority for i in report.issues] == sorted(i.priority for i in report.issues)


def test_compare_shows_fixed_new_and_remaining(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "flask_chat", app)
    previous = tmp_path / "previous.json"
    previous.write_text(render_json.render(_report(app)), encoding="utf-8")
    source = (app / "chat/app.py").read_text()
    (app / "chat/app.py").write_text(
        source.replace('cors_allowed_origins="*")', 'cors_allowed_origins="*", message_queue=REDIS_URL)')
    )
    (app / "chat/uploads.py").write_text(
        (app / "chat/uploads.py").read_text() + "\nimport sentry_sdk\nsentry_sdk.init()\n"
    )
    settings = api.settings_for([app], isolated=True)
    report = api.report(app, settings, Load(), previous=previous, use_cache=False)
    comp = report.comparison
    assert comp is not None
    assert [f.split(":")[0] for f in comp.fixed] == ["SA521", "SA581"]
    assert comp.new == ()
    assert any(r.startswith("SA562:") and "(2 → 2 place(s))" in r for r in comp.remaining)
    assert "8. Add monitoring and logging: open → done" in comp.checklist_changes
    assert "Progress since `previous.json`" in render_markdown.render(report)


def test_max_items_keeps_a_pr_comment_short() -> None:
    report = build("flask_chat")
    short = render_markdown.render(report, max_items=2)
    assert short.count("### <a id=") == 2 and "more issue(s)" in short


def test_html_is_self_contained() -> None:
    page = render_html.render(build("flask_chat"))
    assert page.startswith("<!DOCTYPE html>") and 'id="chart-categories"' in page and 'id="chart-budget"' in page
    for remote in ("<link", "<img", "<script src", "<iframe", "@import"):
        assert remote not in page, remote
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "http" not in style
    assert "default-src 'none'" in page  # the CSP forbids any fetch at view time


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scaleaudit", "report", *args], capture_output=True, text=True, check=False
    )


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = _cli(str(FIXTURES / "flask_chat"), "--format", "pdf", "--isolated")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--format" in proc.stderr
    bad = tmp_path / "old.json"
    bad.write_text("{}")
    proc = _cli(str(FIXTURES / "flask_chat"), "--compare", str(bad), "--isolated", "--no-cache")
    assert proc.returncode == 2 and "not a `scaleaudit report --format json` file" in proc.stderr


def test_cli_writes_json_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = _cli(
        str(FIXTURES / "flask_chat"),
        "--format",
        "json",
        "-o",
        str(out),
        "--isolated",
        "--no-cache",
        "--users",
        "5000",
        "--db-ms",
        "10",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["capacity"]["target_users"] == 5000 and data["capacity"]["requests_per_second"] == 1000
    assert {"name": "mean DB time per request (ms)", "value": "10", "source": "flag"} in data["capacity"]["assumptions"]


def test_live_part_says_when_it_did_not_run() -> None:
    assert build("flask_chat").live.startswith("not run")
