"""The command line as a user and CI see it: exit codes, formats, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, write_tree

APP = FIXTURES / "fastapi_shop"
DUP = {
    "app/a.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_size=5, max_overflow=5, "
    "pool_pre_ping=True)\n",
    "app/b.py": "import sqlalchemy\nengine = sqlalchemy.create_engine(URL, pool_size=5, max_overflow=5, "
    "pool_pre_ping=True)\n",
}


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", "SCALEAUDIT_NO_CACHE": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "scaleaudit", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120, check=False,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert fragment in proc.stderr


def test_findings_at_or_above_fail_on_exit_1(tmp_path: Path) -> None:
    write_tree(tmp_path, DUP)
    proc = run("scan", tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "SA101" in proc.stdout and "2 finding(s)" in proc.stdout


def test_fail_on_critical_still_fails_on_critical_only(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/a.py": "import redis\nr = redis.Redis()\n"})  # SA103 high
    assert run("scan", tmp_path, "--fail-on", "critical").returncode == 0
    assert run("scan", tmp_path, "--fail-on", "high").returncode == 1


def test_clean_tree_exits_0_and_says_so(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/ok.py": "print('hello')\n"})
    proc = run("scan", tmp_path)
    assert proc.returncode == 0
    assert "No problems found" in proc.stdout


def test_exit_zero(tmp_path: Path) -> None:
    write_tree(tmp_path, DUP)
    assert run("scan", tmp_path, "--exit-zero").returncode == 0


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "text"])
def test_every_format_renders_the_fixture(fmt: str) -> None:
    proc = run("scan", APP, "--format", fmt)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    if fmt in ("json", "sarif"):
        json.loads(proc.stdout)
    if fmt == "github":
        lines = proc.stdout.splitlines()
        assert any(line.startswith("::error file=app/routers/inventory.py,line=10,") for line in lines)


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run("scan", APP, "--format", "json", "--output", out)
    assert proc.stdout == ""
    assert json.loads(out.read_text())["findings"]


def test_json_is_stable_across_runs_and_jobs() -> None:
    first = run("scan", APP, "-f", "json", "-j", "1").stdout
    second = run("scan", APP, "-f", "json", "-j", "2").stdout
    assert first == second


def test_syntax_error_is_reported_and_scan_goes_on(tmp_path: Path) -> None:
    # A file is parsed only when some rule's trigger bytes occur in it (the pre-filter).
    write_tree(tmp_path, {**DUP, "app/broken.py": "import redis\ndef f(:\n    pass\n"})
    proc = run("scan", tmp_path, "-f", "json")
    data = json.loads(proc.stdout)
    assert [d for d in data["diagnostics"] if d["kind"] == "parse-error" and d["path"] == "app/broken.py"]
    assert {f["rule"] for f in data["findings"]} == {"SA101"}
    assert proc.returncode == 1


def test_binary_and_undecodable_files_are_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/bin.py": b"\x00\x01\x02create_engine", "app/latin.py": b"x = '\xff\xfe'\n# create_engine\n"})
    proc = run("scan", tmp_path, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    kinds = {(d["path"], d["kind"]) for d in json.loads(proc.stdout)["diagnostics"]}
    assert ("app/bin.py", "skipped") in kinds
    assert ("app/latin.py", "parse-error") in kinds


def test_empty_directory(tmp_path: Path) -> None:
    proc = run("scan", tmp_path)
    assert proc.returncode == 0
    assert "0 file(s)" in proc.stdout


def test_missing_path_is_a_clean_error(tmp_path: Path) -> None:
    assert_clean_error(run("scan", tmp_path / "nope"), "no such file or directory")


def test_unknown_rule_is_a_clean_error(tmp_path: Path) -> None:
    assert_clean_error(run("scan", tmp_path, "--select", "SA999"), "unknown rule or category 'SA999'")


def test_bad_fail_on_is_a_clean_error(tmp_path: Path) -> None:
    assert_clean_error(run("scan", tmp_path, "--fail-on", "urgent"), "--fail-on must be one of")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("[tool.scaleaudit]\nselectt = ['SA101']\n", "unknown key 'selectt'"),
        ("[tool.scaleaudit]\nfail-on = 'urgent'\n", "`fail-on` must be one of"),
        ("[tool.scaleaudit]\nselect = ['nope']\n", "unknown rule or category 'nope'"),
        ("[tool.scaleaudit\n", "cannot read config"),
        ("[tool.scaleaudit.capacity]\nworkers = 0\n", "`capacity.workers` must be an integer >= 1"),
    ],
)
def test_bad_config_is_a_clean_error(tmp_path: Path, config: str, fragment: str) -> None:
    write_tree(tmp_path, {"pyproject.toml": config, **DUP})
    assert_clean_error(run("scan", tmp_path), fragment)


def test_yaml_config_select_and_per_file_ignores(tmp_path: Path) -> None:
    write_tree(tmp_path, {**DUP, "scaleaudit.yaml": "select: [duplicate-client]\nper-file-ignores:\n  'app/b.py': [SA101]\n"})
    data = json.loads(run("scan", tmp_path, "-f", "json").stdout)
    assert [(f["path"], f["rule"]) for f in data["findings"]] == [("app/a.py", "SA101")]


def test_severity_override_changes_exit_code(tmp_path: Path) -> None:
    write_tree(tmp_path, {**DUP, "pyproject.toml": "[tool.scaleaudit]\nseverity = { SA101 = 'low' }\n"})
    assert run("scan", tmp_path).returncode == 0


def test_inline_suppression_and_unused_suppression(tmp_path: Path) -> None:
    files = dict(DUP)
    files["app/a.py"] = files["app/a.py"].replace("True)\n", "True)  # scaleaudit: ignore[duplicate-client]\n")
    files["app/c.py"] = "x = 1  # scaleaudit: ignore[SA102]\n"
    write_tree(tmp_path, files)
    data = json.loads(run("scan", tmp_path, "-f", "json").stdout)
    assert [f["path"] for f in data["findings"]] == ["app/b.py"]
    assert data["summary"]["suppressed"] == 1
    unused = [d for d in data["diagnostics"] if d["kind"] == "unused-suppression"]
    assert [(d["path"], d["line"]) for d in unused] == [("app/c.py", 1)]


def test_file_level_suppression(tmp_path: Path) -> None:
    files = dict(DUP)
    files["app/b.py"] = "# scaleaudit: ignore-file[SA101]\n" + files["app/b.py"]
    write_tree(tmp_path, files)
    data = json.loads(run("scan", tmp_path, "-f", "json").stdout)
    assert [f["path"] for f in data["findings"]] == ["app/a.py"]


def test_baseline_survives_unrelated_edits_and_reports_new_and_stale(tmp_path: Path) -> None:
    write_tree(tmp_path, DUP)
    baseline = tmp_path / "baseline.json"
    proc = run("scan", tmp_path, "--baseline", baseline, "--write-baseline")
    assert proc.returncode == 0 and "wrote 2 finding(s)" in proc.stderr
    # Unrelated edit: lines move, findings keep their identity.
    (tmp_path / "app/a.py").write_text("# a comment\n\n" + DUP["app/a.py"])
    proc = run("scan", tmp_path, "--baseline", baseline, "-f", "json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["findings"] == [] and data["summary"]["baselined"] == 2
    # A new duplicate fails; the entries still match.
    (tmp_path / "app/c.py").write_text(DUP["app/b.py"])
    proc = run("scan", tmp_path, "--baseline", baseline, "-f", "json")
    assert proc.returncode == 1
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["app/c.py"]
    # Fixed code: the baseline entries go stale and are reported.
    (tmp_path / "app/b.py").write_text("from app.a import engine\n")
    (tmp_path / "app/c.py").unlink()
    data = json.loads(run("scan", tmp_path, "--baseline", baseline, "-f", "json").stdout)
    assert len([d for d in data["diagnostics"] if d["kind"] == "stale-baseline"]) == 2


def test_bad_baseline_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    assert_clean_error(run("scan", tmp_path, "--baseline", bad), "not a scaleaudit baseline")


def test_rules_list_and_doc() -> None:
    listing = run("rules")
    assert listing.returncode == 0 and "SA101" in listing.stdout
    doc = run("rules", "SA101")
    assert "Why is this bad?" in doc.stdout and "Use instead" in doc.stdout
    assert_clean_error(run("rules", "SA999"), "unknown rule")


def test_help_teaches() -> None:
    proc = run("scan", "--help")
    assert proc.returncode == 0
    for word in ("--format", "--baseline", "--fail-on", "Exit codes", "Examples"):
        assert word in proc.stdout


def test_version() -> None:
    assert run("--version").stdout.startswith("scaleaudit ")


def test_every_options_help_text_reaches_help_whole() -> None:
    """Rich reads `[default: high]` or `[capacity]` in a help string as a markup tag and drops it
    (`--help` said "overrides )"): every option's help must appear in `--help` as written."""
    import re

    import typer.main
    from typer.testing import CliRunner

    from scaleaudit import cli

    cli._register()
    runner = CliRunner()
    for name, command in typer.main.get_command(cli.app).commands.items():  # type: ignore[attr-defined]
        shown = runner.invoke(cli.app, [name, "--help"], env={"COLUMNS": "2000", "NO_COLOR": "1"}).output
        flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown).split())
        for param in command.params:
            text = getattr(param, "help", None)
            if text:
                assert " ".join(text.replace("\\[", "[").split()) in flat, (name, param.name, text)
