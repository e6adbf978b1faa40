"""The safe-writing layer: overlaps, re-parse, atomic writes, line endings, stale files, diffs."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from scaleaudit.fixes import writer
from scaleaudit.fixes.writer import SourceText, StaleFileError, TextEdit


def _source(tmp_path: Path, data: bytes, name: str = "m.py") -> SourceText:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceText.read(path, name)


def test_identical_edits_apply_once_and_insertions_at_one_point_both_apply(tmp_path: Path) -> None:
    src = _source(tmp_path, b"a = 1\n")
    edits = [
        TextEdit(0, 0, "import x\n", "SA101"),
        TextEdit(0, 0, "import y\n", "SA103"),
        TextEdit(4, 5, "2", "SA103"),
        TextEdit(4, 5, "2", "SA103"),
    ]
    kept, refused = writer.resolve_overlaps(edits)
    assert not refused
    assert writer.apply_edits(src, kept) == "import x\nimport y\na = 2\n"


def test_overlapping_edits_are_refused_with_the_winner_named(tmp_path: Path) -> None:
    src = _source(tmp_path, b"engine = create_engine(URL)\n")
    remove = TextEdit(0, 28, "from app.db import engine\n", "SA101", "import the shared engine")
    widen = TextEdit(26, 26, ", pool_size=7", "SA103")
    kept, refused = writer.resolve_overlaps([remove, widen])
    assert kept == [remove]
    assert [r.edit for r in refused] == [widen]
    assert "SA101" in refused[0].reason and "import the shared engine" in refused[0].reason
    assert writer.apply_edits(src, kept) == "from app.db import engine\n"


def test_insertion_at_the_edge_of_a_replacement_is_not_an_overlap() -> None:
    kept, refused = writer.resolve_overlaps([TextEdit(0, 5, "b"), TextEdit(5, 5, "c"), TextEdit(0, 0, "a")])
    assert len(kept) == 3 and not refused


def test_crlf_and_bom_are_preserved(tmp_path: Path) -> None:
    src = _source(tmp_path, "\ufeffimport os\r\nx = 1\r\n".encode())
    assert src.bom and src.newline == "\r\n"
    start = src.offset(2, 0)
    new = writer.apply_edits(src, [TextEdit(start, start, "import sys\n")])
    writer.commit(src, new)
    assert src.path.read_bytes() == "\ufeffimport os\r\nimport sys\r\nx = 1\r\n".encode()


def test_lf_file_stays_lf(tmp_path: Path) -> None:
    src = _source(tmp_path, b"x = 1\n")
    writer.commit(src, writer.apply_edits(src, [TextEdit(0, 0, "y = 2\n")]))
    assert src.path.read_bytes() == b"y = 2\nx = 1\n"


def test_mode_is_kept_and_no_temp_file_is_left(tmp_path: Path) -> None:
    src = _source(tmp_path, b"x = 1\n", "run.py")
    os.chmod(src.path, 0o751)
    writer.commit(src, "x = 2\n")
    assert stat.S_IMODE(src.path.stat().st_mode) == 0o751
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.py"]


def test_a_killed_runs_old_temp_file_is_swept_by_the_next_write(tmp_path: Path) -> None:
    src = _source(tmp_path, b"x = 1\n", "run.py")
    old, young, other = tmp_path / ".run.py.k1ll3d.tmp", tmp_path / ".run.py.r8nn1n.tmp", tmp_path / ".db.py.k1.tmp"
    for leftover in (old, young, other):
        leftover.write_bytes(b"x = ")
    hour_ago = src.path.stat().st_mtime - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    writer.commit(src, "x = 2\n")
    # the stale one of this file goes; a recent one may be another run's, another file's is not ours
    assert sorted(p.name for p in tmp_path.iterdir()) == [".db.py.k1.tmp", ".run.py.r8nn1n.tmp", "run.py"]


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    src = _source(tmp_path, b"x = 1\n")
    src.path.write_bytes(b"x = 'edited by a human'\n")
    with pytest.raises(StaleFileError, match="changed since"):
        writer.commit(src, "x = 2\n")
    assert src.path.read_bytes() == b"x = 'edited by a human'\n"


def test_a_new_file_is_created_but_never_clobbers_one_that_appeared(tmp_path: Path) -> None:
    new = SourceText.new(tmp_path / "pkg" / "db.py", "pkg/db.py")
    writer.commit(new, "engine = None\n")
    assert (tmp_path / "pkg" / "db.py").read_text() == "engine = None\n"
    with pytest.raises(StaleFileError, match="appeared"):
        writer.commit(new, "engine = 1\n")


def test_failed_write_leaves_original_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _source(tmp_path, b"x = 1\n")

    def boom(_a: object, _b: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "replace", boom)
    with pytest.raises(OSError):
        writer.commit(src, "x = 2\n")
    assert src.path.read_bytes() == b"x = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_python_validator_rejects_broken_code_and_other_languages_can_register() -> None:
    assert writer.validate("a.py", "x = (\n") is not None
    assert writer.validate("a.py", "x = 1\n") is None
    assert writer.validate("a.unknownext", "{{{") is None
    writer.register_validator(".cfgtest", lambda text, _path: None if text.startswith("ok") else "bad header")
    try:
        assert writer.validate("x.cfgtest", "nope") == "bad header"
        assert writer.validate("x.cfgtest", "ok") is None
    finally:
        writer.VALIDATORS.pop(".cfgtest")


def test_diff_plain_and_coloured() -> None:
    plain = writer.render_diff("app/x.py", "a\nb\n", "a\nc\n")
    assert plain.splitlines()[:2] == ["--- a/app/x.py", "+++ b/app/x.py"]
    assert "-b" in plain.splitlines() and "+c" in plain.splitlines()
    assert "\x1b[" not in plain
    coloured = writer.render_diff("app/x.py", "a\nb\n", "a\nc\n", color=True)
    assert "\x1b[31m-b\x1b[0m" in coloured and "\x1b[32m+c\x1b[0m" in coloured
    created = writer.render_diff("app/db.py", "", "x = 1\n", created=True)
    assert created.startswith("--- /dev/null\n+++ b/app/db.py\n")


def test_git_dirty(tmp_path: Path) -> None:
    assert writer.git_dirty(tmp_path) is None
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "a.py"], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"], cwd=tmp_path, check=True)
    assert writer.git_dirty(tmp_path) == []
    (tmp_path / "a.py").write_text("x = 2\n")
    assert writer.git_dirty(tmp_path) == ["a.py"]


def test_a_group_stands_or_falls_together() -> None:
    first = TextEdit(10, 20, "x", "SA103", "pool size")
    import_line = TextEdit(0, 0, "from app.db import engine\n", "SA101", group="g")
    removal = TextEdit(12, 15, "", "SA101", group="g")
    kept, refused = writer.resolve_overlaps([first, import_line, removal])
    assert kept == [first]
    assert [r.edit for r in refused] == [import_line, removal]


def test_line_edits_are_one_edit_per_hunk(tmp_path: Path) -> None:
    src = _source(tmp_path, b"a\nb\nc\nd\ne\n")
    edits = writer.line_edits(src, "a\nB\nc\nd\nE\nf\n", rule="R", group="g")
    assert len(edits) == 2 and all(e.rule == "R" and e.group == "g" for e in edits)
    assert writer.apply_edits(src, edits) == "a\nB\nc\nd\nE\nf\n"


def test_line_edits_among_identical_lines_touch_only_the_changed_one(tmp_path: Path) -> None:
    """One client assigned ten times: each fix's hunk must be its own line, or neighbours' fixes overlap."""
    line = "engine = create_engine(URL)\n"
    src = _source(tmp_path, (line * 10).encode())
    for index in range(10):
        lines = [line] * 10
        lines[index] = "engine = create_engine(URL, pool_size=7)\n"
        (edit,) = writer.line_edits(src, "".join(lines))
        assert (edit.start, edit.end) == (index * len(line), (index + 1) * len(line))
    every = [writer.line_edits(src, "".join([line] * i + ["x = 1\n"] + [line] * (9 - i)))[0] for i in range(10)]
    kept, refused = writer.resolve_overlaps(every)
    assert len(kept) == 10 and not refused
