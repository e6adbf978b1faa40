"""Discovery: .gitignore, excludes, and odd files skipped with a note, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_tree

from scaleaudit.config import DEFAULT_EXCLUDE
from scaleaudit.discovery import classify, discover


def rels(root: Path, **kwargs: object) -> list[str]:
    found = discover([root], root.resolve(), exclude=DEFAULT_EXCLUDE, **kwargs)  # type: ignore[arg-type]
    return [f.rel for f in found.files]


def skipped(root: Path) -> dict[str, str]:
    found = discover([root], root.resolve(), exclude=DEFAULT_EXCLUDE)
    return {d.path: d.message for d in found.skipped}


def test_classify() -> None:
    assert classify("a.py") == "python"
    assert classify("a.tsx") == "typescript"
    assert classify("a.cjs") == "javascript"
    assert classify(".env") == "env" and classify(".env.example") == "env"
    assert classify("docker-compose.prod.yml") == "yaml"
    assert classify("schema.prisma") == "prisma"
    assert classify("Procfile") == "procfile"
    assert classify("README.md") is None and classify("data.yml") is None


def test_default_excludes_and_dotenv_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "app/a.py": "", ".venv/lib/x.py": "", "venv/x.py": "", "node_modules/p/i.js": "", "build/b.py": "",
        ".env": "DATABASE_URL=postgres://x", "app/vendor/v.py": "", "web/app.min.js": "", "web/app.js": "",
    })
    assert rels(tmp_path) == [".env", "app/a.py", "web/app.js"]


def test_dotenv_virtualenv_directory_is_excluded(tmp_path: Path) -> None:
    # `.env` the file is read (DATABASE_URL lives there); `.env/` the virtualenv is not.
    write_tree(tmp_path, {".env/bin/activate.py": "", "app/a.py": ""})
    assert rels(tmp_path) == ["app/a.py"]


def test_gitignore_at_every_level(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".gitignore": "generated/\n*.gen.py\n",
        "app/a.py": "", "app/b.gen.py": "", "generated/c.py": "",
        "app/sub/.gitignore": "local.py\n", "app/sub/local.py": "", "app/sub/kept.py": "",
    })
    assert rels(tmp_path) == ["app/a.py", "app/sub/kept.py"]
    assert "app/b.gen.py" in rels(tmp_path, respect_gitignore=False)


def test_extend_exclude(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/a.py": "", "legacy/old.py": ""})
    assert rels(tmp_path, extend_exclude=["legacy"]) == ["app/a.py"]


def test_symlink_loop_and_link_out_of_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    write_tree(root, {"app/a.py": ""})
    write_tree(outside, {"secret.py": ""})
    os.symlink(root / "app", root / "app" / "loop")
    os.symlink(outside, root / "linked")
    os.symlink(root / "missing", root / "dangling.py")
    assert rels(root) == ["app/a.py"]
    notes = skipped(root)
    assert "outside the scanned tree" in notes["linked"]
    assert "loop" in notes["app/loop"]


def test_large_file_and_fifo_are_skipped_with_a_note(tmp_path: Path) -> None:
    write_tree(tmp_path, {"big.py": "x = 1\n" * 10, "ok.py": ""})
    os.mkfifo(tmp_path / "pipe.py")
    found = discover([tmp_path], tmp_path, exclude=DEFAULT_EXCLUDE, max_file_bytes=20)
    assert [f.rel for f in found.files] == ["ok.py"]
    notes = {d.path: d.message for d in found.skipped}
    assert "larger than max-file-bytes" in notes["big.py"]
    assert "not a regular file" in notes["pipe.py"]


def test_unreadable_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI runs as root, for whom chmod 000 is no obstacle: make the OS refuse instead.
    write_tree(tmp_path, {"locked/a.py": "", "open/b.py": ""})
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert "cannot read directory: Permission denied" in skipped(tmp_path)["locked"]
    assert rels(tmp_path) == ["open/b.py"]


def test_non_utf8_file_name(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.py"
    with open(name, "wb") as handle:
        handle.write(b"import redis\nr = redis.Redis()\n")
    found = discover([tmp_path], tmp_path, exclude=DEFAULT_EXCLUDE)
    assert [f.rel for f in found.files] == ["caf\\xe9.py"]
    assert found.files[0].path.exists()


def test_explicit_file_and_missing_path(tmp_path: Path) -> None:
    write_tree(tmp_path, {"build/x.py": ""})
    found = discover([tmp_path / "build" / "x.py", tmp_path / "nope.py"], tmp_path, exclude=DEFAULT_EXCLUDE)
    assert [f.rel for f in found.files] == ["build/x.py"]
    assert [d.path for d in found.skipped] == [str(tmp_path / "nope.py")]


GITIGNORES = {
    "saleor-like": ["*.py[cod]", ".*", "!.github", "!.gitignore", ".semgrep/", "/media/", "env/", "!.env.example",
                    "# comment", "", "*.egg*"],
    "negations and anchors": ["build", "!build/keep.py", "/top.py", "docs/**/gen_*.py", "**/cache/", "a/**/b"],
    "classes and escapes": ["[abc]?.py", r"\#odd.py", r"\!bang.py", "trailing\\ ", "x[!0-9].js", "*.min.*"],
    "directories only": ["logs/", "tmp/*", "!tmp/keep/", "deep/nested/"],
}
PROBES = [
    "a.py", "a.pyc", ".env", ".env.example", ".github/w.yml", ".semgrep/r.py", "media/x.py", "src/media/x.py",
    "env/x.py", "src/env/", "x.egg-info/y.py", "build", "build/", "build/keep.py", "build/other.py", "top.py",
    "src/top.py", "docs/a/b/gen_x.py", "docs/gen_y.py", "src/cache/", "src/cache/x.py", "a/b", "a/x/y/b", "ab.py",
    "b1.py", "#odd.py", "!bang.py", "trailing ", "xa.js", "x1.js", "app.min.js", "logs/", "logs/a.py", "tmp/a.py",
    "tmp/keep/", "deep/nested/", "x/deep/nested/", "caf\\xe9.py", "sp ace/ü.py",
]


@pytest.mark.parametrize("lines", GITIGNORES.values(), ids=GITIGNORES.keys())
def test_gitignore_pre_test_agrees_with_pathspec(lines: list[str]) -> None:
    """The one-regex pre-test only ever answers "no pattern matches": every
    answer must equal pathspec's own, negations and directory marks included."""
    import pathspec

    from scaleaudit.discovery import _Spec

    fast, exact = _Spec(lines), pathspec.GitIgnoreSpec.from_lines(lines)
    assert fast.any is not None  # the pre-test is in use for these
    answers = [(probe, fast.match_file(probe)) for probe in PROBES]
    assert answers == [(probe, exact.match_file(probe)) for probe in PROBES]
    assert any(hit for _, hit in answers) and not all(hit for _, hit in answers)
