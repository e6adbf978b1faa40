"""`scaleaudit check` end to end: planted servers + fixture app, healthy setup, exit codes, no password anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from live.conftest import PASSWORD, QUOTED_PASSWORD

pytestmark = pytest.mark.live

APP = FIXTURES / "live_shop"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SCALEAUDIT_NO_CONFIG": "1", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", "from scaleaudit.cli import main; main()", "check", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_planted_servers_and_app_report_the_planted_problems(pg_server, redis_servers) -> None:
    sick_redis, _ = redis_servers
    done = cli(str(APP), "--database-url", pg_server.url("sick"), "--redis-url", sick_redis.url,
               "--workers", "4", "--instances", "2", "--server-memory", "8GB", "--format", "json", "--no-cache")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert {"SA604", "SA609", "SA611", "SA612", "SA614", "SA650", "SA655", "SA656"} <= rules
    (budget,) = [f for f in report["findings"] if f["rule"] == "SA690"]  # needs the code and the database
    assert budget["path"] == "app/db.py" and "can open 240 connections" in budget["message"]


def test_healthy_setup_reports_nothing_and_exits_zero(pg_server, redis_servers) -> None:
    _, good = redis_servers
    done = cli("--database-url", pg_server.url("healthy"), "--redis-url", good.url, "--server-memory", "64MB",
               "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["findings"] == []


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_output_contains_the_password(pg_server, redis_servers, fmt: str) -> None:
    sick_redis, _ = redis_servers
    done = cli("--database-url", pg_server.url("sick", user="app", password=True), "--redis-url", sick_redis.url,
               "--format", fmt, "--verbose")
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip()
    for secret in (PASSWORD, QUOTED_PASSWORD):
        assert secret not in done.stdout and secret not in done.stderr


@pytest.mark.parametrize(("which", "url_of"), [
    ("wrong password", lambda pg, rs: ["--database-url", pg.url("sick", user="app").replace("app@", "app:nope" + QUOTED_PASSWORD + "@")]),
    ("refused", lambda pg, rs: ["--database-url", f"postgresql://app:{QUOTED_PASSWORD}@127.0.0.1:1/x"]),
    ("bad url", lambda pg, rs: ["--database-url", f"postgresql://app:{QUOTED_PASSWORD}@[::1/x"]),
    ("tls", lambda pg, rs: ["--database-url", pg.url("sick", user="app", password=True) + "?sslmode=require"]),
    ("redis auth", lambda pg, rs: ["--redis-url", rs[0].url.replace(QUOTED_PASSWORD, "wrong" + QUOTED_PASSWORD)]),
    ("redis refused", lambda pg, rs: ["--redis-url", f"redis://:{QUOTED_PASSWORD}@127.0.0.1:1/0"]),
    ("redis scheme", lambda pg, rs: ["--redis-url", f"http://:{QUOTED_PASSWORD}@127.0.0.1:1/0"]),
])
def test_connection_failures_are_one_line_exit_2_without_password(pg_server, redis_servers, which, url_of) -> None:
    done = cli(*url_of(pg_server, redis_servers))
    assert done.returncode == 2, (which, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaleaudit: error: "), (which, done.stderr)
    assert "Traceback" not in done.stderr
    for secret in (PASSWORD, QUOTED_PASSWORD, "nope" + PASSWORD):
        assert secret not in done.stderr and secret not in done.stdout, which


def test_baseline_accepts_todays_live_findings(pg_server, tmp_path: Path) -> None:
    baseline = tmp_path / "live-baseline.json"
    url = pg_server.url("sick")
    assert cli("--database-url", url, "--baseline", str(baseline), "--write-baseline").returncode == 0
    done = cli("--database-url", url, "--baseline", str(baseline), "--format", "json")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["findings"] == [] and report["summary"]["baselined"] > 5


def test_nothing_to_check_is_a_usage_error(tmp_path: Path) -> None:
    done = cli(cwd=tmp_path)
    assert done.returncode == 2 and "nothing to check" in done.stderr
