"""run_fix: dry run, refusals, re-parse check, stale files, dirty git trees, the CLI contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_tree
from fixtest import fix_tree

from scaleaudit import api
from scaleaudit.fixes import api as fix_api
from scaleaudit.fixes.base import FixContext, Proposal, Skipped
from scaleaudit.fixes.writer import TextEdit

ENGINE = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n"


def test_dry_run_shows_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    result = fix_tree(tmp_path, {"app/db.py": ENGINE}, write=False)
    assert (tmp_path / "app/db.py").read_text() == ENGINE
    (change,) = result.changes
    assert "+engine = create_engine(URL, pool_size=7, max_overflow=4, pool_pre_ping=True)" in change.diff()
    assert not result.written and result.applied


def _fake(proposals: list[Proposal]) -> object:
    def fixer(_ctx: FixContext) -> Iterator[Proposal | Skipped]:
        yield from proposals

    return fixer


def _first_round_only(proposals: list[Proposal], original: str) -> object:
    """A fixer that proposes only against the file as scanned (its edits are offsets into it)."""

    def fixer(ctx: FixContext) -> Iterator[Proposal | Skipped]:
        if ctx.source("a.py").text == original:
            yield from proposals

    return fixer


def test_colliding_proposals_the_later_one_is_refused_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\ny = 2\n", "b.py": "z = 3\n"})
    first = Proposal("SA101", "a.py", 1, "first", {"a.py": (TextEdit(0, 5, "x = 10", "SA101", "first"),)})
    second = Proposal(
        "SA103",
        "a.py",
        1,
        "second",
        {"a.py": (TextEdit(4, 5, "11", "SA103"),), "b.py": (TextEdit(0, 5, "z = 30", "SA103"),)},
    )
    monkeypatch.setattr(fix_api, "fixers", lambda: [_first_round_only([first, second], "x = 1\ny = 2\n")])
    result = fix_api.run_fix([tmp_path], api.settings_for([tmp_path], isolated=True), write=True, use_cache=False)
    assert (tmp_path / "a.py").read_text() == "x = 10\ny = 2\n"
    assert (tmp_path / "b.py").read_text() == "z = 3\n"  # all of `second` or nothing of it
    (refused,) = [s for s in result.skipped if s.rule == "SA103"]
    assert "overlaps an edit of SA101" in refused.reason


def _bump(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    """Two rewrites of one line, each computed from the text it is given, as real fixers are."""
    text = ctx.source("a.py").text
    line_end = text.index("\n")
    if "x = 1\n" in text:
        yield Proposal("SA101", "a.py", 1, "ten", {"a.py": (TextEdit(0, line_end, "x = 10", "SA101", "ten"),)})
    if "  # sized" not in text:
        edit = TextEdit(0, line_end, text[:line_end] + "  # sized", "SA103", "sized")
        yield Proposal("SA103", "a.py", 1, "sized", {"a.py": (edit,)})


def test_overlapping_rewrites_both_land_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The refused one is retried against the other's result in memory, so a second run is a no-op."""
    write_tree(tmp_path, {"a.py": "x = 1\ny = 2\n"})
    monkeypatch.setattr(fix_api, "fixers", lambda: [_bump])
    settings = api.settings_for([tmp_path], isolated=True)
    dry = fix_api.run_fix([tmp_path], settings, write=False, use_cache=False)
    assert (tmp_path / "a.py").read_text() == "x = 1\ny = 2\n"
    assert [c.after for c in dry.changes] == ["x = 10  # sized\ny = 2\n"]
    assert sorted(a.rule for a in dry.applied) == ["SA101", "SA103"] and not dry.skipped
    result = fix_api.run_fix([tmp_path], settings, write=True, use_cache=False)
    assert (tmp_path / "a.py").read_text() == "x = 10  # sized\ny = 2\n"
    assert [c.before for c in result.changes] == ["x = 1\ny = 2\n"]  # the diff is against the disk
    assert not fix_api.run_fix([tmp_path], settings, write=True, use_cache=False).changes


def test_a_rewrite_that_does_not_parse_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\n"})
    broken = Proposal("SA103", "a.py", 1, "broken", {"a.py": (TextEdit(0, 5, "x = (", "SA103"),)})
    monkeypatch.setattr(fix_api, "fixers", lambda: [_fake([broken])])
    result = fix_api.run_fix([tmp_path], api.settings_for([tmp_path], isolated=True), write=True, use_cache=False)
    assert (tmp_path / "a.py").read_text() == "x = 1\n"
    assert [f.path for f in result.failures] == ["a.py"] and "does not parse" in result.failures[0].reason
    assert not result.applied and "did not re-parse" in result.skipped[0].reason


def test_a_file_changed_since_the_scan_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app/db.py": ENGINE})
    settle = fix_api._settle

    def edit_meanwhile(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        out = settle(*args, **kwargs)  # type: ignore[arg-type]
        (tmp_path / "app/db.py").write_text(ENGINE + "# edited by a human\n")
        return out

    monkeypatch.setattr(fix_api, "_settle", edit_meanwhile)
    result = fix_api.run_fix([tmp_path], api.settings_for([tmp_path], isolated=True), write=True, use_cache=False)
    assert (tmp_path / "app/db.py").read_text() == ENGINE + "# edited by a human\n"
    assert "changed since it was scanned" in result.failures[0].reason
    assert not result.applied


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root, check=True)


def test_dirty_git_tree_warns_and_require_clean_refuses(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/db.py": ENGINE, "notes.py": "x = 1\n"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "notes.py").write_text("x = 2\n")
    settings = api.settings_for([tmp_path], isolated=True)
    refused = fix_api.run_fix([tmp_path], settings, write=True, require_clean=True, use_cache=False)
    assert (tmp_path / "app/db.py").read_text() == ENGINE
    assert "--require-clean" in refused.failures[0].reason and not refused.applied
    warned = fix_api.run_fix([tmp_path], settings, write=True, use_cache=False)
    assert "uncommitted changes" in warned.warnings[0]
    assert "pool_size=7" in (tmp_path / "app/db.py").read_text()


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCALEAUDIT_NO_CONFIG": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from scaleaudit.cli import main; main()", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )


def test_cli_fix_diff_then_write_and_scan_fix_alias(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/db.py": ENGINE, "app/other.py": ENGINE})
    shown = _cli(tmp_path, "fix", ".", "--no-cache", "--max-connections", "50", "--workers", "2", "--instances", "1")
    assert shown.returncode == 1, shown.stderr  # as for scan: the findings are still there
    assert "+engine = create_engine(URL, pool_size=13, max_overflow=7, pool_pre_ping=True)" in shown.stdout
    assert "\x1b[" not in shown.stdout and "nothing was written" in shown.stderr
    # each pool fix adds pool_size and pool_pre_ping: it resolves SA103 and SA105, and says so
    assert "2 fix(es) to apply resolving 4 finding(s), 2 finding(s) skipped" in shown.stderr
    assert (tmp_path / "app/db.py").read_text() == ENGINE
    alias = _cli(tmp_path, "scan", "app/db.py", "--fix", "--no-cache")
    assert alias.returncode == 0, alias.stderr
    assert "changed 1 file(s)" in alias.stderr and "pool_size=7" in (tmp_path / "app/db.py").read_text()
    # --min-confidence filters what is fixed as scan filters what is shown (SA103 is high: kept)
    assert "pool_size=13" in _cli(tmp_path, "fix", ".", "--no-cache", "--min-confidence", "high",
                                  "--max-connections", "50", "--workers", "2", "--instances", "1").stdout  # fmt: skip
    assert _cli(tmp_path, "fix", ".", "--min-confidence", "sure").returncode == 2
    bad = _cli(tmp_path, "fix", ".", "--select", "NOPE")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_cli_fix_json_is_one_object_and_says_what_was_applied_and_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/db.py": ENGINE, "app/other.py": ENGINE})
    shown = _cli(tmp_path, "fix", ".", "--no-cache", "--format", "json")
    assert shown.returncode == 1 and shown.stderr == ""  # findings remain: nothing was written
    out = json.loads(shown.stdout)
    assert out["version"] == "1.0" and out["written"] is False and out["remaining"] == 6
    assert [c["path"] for c in out["changes"]] == ["app/db.py", "app/other.py"]
    assert "+engine = create_engine(URL, pool_size=7, max_overflow=4, pool_pre_ping=True)" in out["changes"][0]["diff"]
    assert {(a["rule"], a["path"], a["resolves"]) for a in out["applied"]} == {
        ("SA103", "app/db.py", 2),
        ("SA103", "app/other.py", 2),
    }
    assert {s["rule"] for s in out["skipped"]} == {"SA101"} and all(s["reason"] for s in out["skipped"])
    written = json.loads(_cli(tmp_path, "fix", ".", "--no-cache", "--format", "json", "--write").stdout)
    assert written["written"] is True and written["remaining"] == 2 and not written["failures"]
    assert _cli(tmp_path, "fix", ".", "--format", "sarif").returncode == 2
    alias = _cli(tmp_path, "scan", ".", "--fix", "--no-cache", "--format", "json")  # scan --fix speaks it too
    assert json.loads(alias.stdout)["changes"] == [] and alias.stderr == ""


def test_cli_fix_says_which_files_it_could_not_read(tmp_path: Path) -> None:
    """A syntax error or an unknown encoding is not fixed either: the summary names each such file
    (one line, no traceback), JSON lists it under diagnostics, and the other files are still fixed."""
    write_tree(tmp_path, {"app/db.py": ENGINE, "app/broken.py": "def f(:\n    create_engine(\n",
                          "app/enc.py": "# -*- coding: nope -*-\ncreate_engine(URL)\n"})  # fmt: skip
    shown = _cli(tmp_path, "fix", ".", "--no-cache", "--write")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert "pool_size=7" in (tmp_path / "app/db.py").read_text()
    unread = [line for line in shown.stderr.splitlines() if line.startswith("  not read  ")]
    assert [line.split()[2].split(":")[0] for line in unread] == ["app/broken.py", "app/enc.py"], unread
    out = json.loads(_cli(tmp_path, "fix", ".", "--no-cache", "--format", "json").stdout)
    assert {(d["kind"], d["path"]) for d in out["diagnostics"]} >= {("parse-error", "app/broken.py")}
