"""Item 2 of issue 9: trees that try to break discovery, the engine and the cache.

The big tree is written once per session (10,000 files in ~1 s). Each test
asserts that the scan completes, finds what is there, and names what it skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import scan_tree
from hypothesis import strategies as st

from hardening.conftest import PROFILES, run_property
from scaleaudit import api
from scaleaudit.discovery import discover
from scaleaudit.model import ScanResult

CLIENT_IN_HANDLER = (  # SA102, high confidence: a client built per request in a route handler
    "import redis\nfrom fastapi import APIRouter\nrouter = APIRouter()\n\n"
    "@router.get('/x')\ndef view():\n    r = redis.Redis()\n    return r.get('k')\n"
)
BIG_FILES = 10_000
DEPTH = 50


def findings_by_path(result: ScanResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for finding in result.findings:
        out.setdefault(finding.path, set()).add(finding.rule)
    return out


def skipped(result: ScanResult) -> dict[str, str]:
    return {d.path: d.message for d in result.diagnostics if d.kind == "skipped"}


def _make_dirs(base: Path, depth: int) -> Path:
    base.mkdir(exist_ok=True)
    directory = base
    for _ in range(depth):  # one level at a time: Path.mkdir(parents=True) itself recurses
        directory = directory / "d"
        directory.mkdir()
    return directory


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.py").write_text(CLIENT_IN_HANDLER)
    for i in range(BIG_FILES):
        package = root / "pkg" / f"m{i // 500}"
        if i % 500 == 0:
            package.mkdir(parents=True)
        (package / f"f{i}.py").write_text(CLIENT_IN_HANDLER if i % 1000 == 0 else f"VALUE = {i}\n")
    deep = _make_dirs(root / "deep", DEPTH)
    (deep / "bottom.py").write_text(CLIENT_IN_HANDLER)
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root / "loop")  # loop -> itself
    (root / "up").symlink_to(root)  # link to the root
    (root / "escape").symlink_to(outside)  # a directory out of the tree
    (root / "escape.py").symlink_to(outside / "secret.py")  # a file out of the tree
    (root / "dangling.py").symlink_to(root / "nowhere.py")
    os.mkfifo(root / "pipe.py")
    (root / "fifo_dir").mkdir()
    os.mkfifo(root / "fifo_dir" / ".gitignore")  # reading it would block forever
    (root / "fifo_dir" / "ok.py").write_text(CLIENT_IN_HANDLER)
    (root / os.fsdecode(b"caf\xe9_\xff.py")).write_text(CLIENT_IN_HANDLER)  # not UTF-8
    with open(root / "generated.py", "wb") as handle:  # 50 MB, written sparse-fast
        handle.write(b"X = [\n" + b"    1,\n" * (50 * 1024 * 1024 // 7) + b"]\n")
    (root / "binary.py").write_bytes(b"\x00\x01\x02" * 100)
    yield root, outside
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(120)
def test_hostile_tree_scan_completes_and_says_what_it_skipped(hostile: tuple[Path, Path]) -> None:
    root, _ = hostile
    started = time.perf_counter()
    result = scan_tree(root, jobs=2)
    elapsed = time.perf_counter() - started
    found = findings_by_path(result)
    skips = skipped(result)
    assert result.summary.files_scanned >= BIG_FILES
    assert not [d for d in result.diagnostics if d.kind == "internal-error"]
    # what is really there is found, however deep, oddly named or next to a FIFO .gitignore
    assert "SA102" in found["deep/" + "d/" * DEPTH + "bottom.py"]
    assert "SA102" in found["fifo_dir/ok.py"]
    assert "SA102" in found["pkg/m0/f0.py"] and "SA102" in found["pkg/m18/f9000.py"]
    assert any("caf" in path and "SA102" in rules for path, rules in found.items())
    # what is not scanned is named, with the reason
    assert skips["pipe.py"] == "not a regular file"
    assert "outside the scanned tree" in skips["escape"] and "outside the scanned tree" in skips["escape.py"]
    assert any("symlink loop" in message for message in skips.values())
    assert "larger than max-file-bytes" in skips["generated.py"]
    assert "binary file" in next(d for d in result.diagnostics if d.path == "binary.py").message
    assert not any("secret.py" in path for path in found)  # nothing out of the tree
    assert elapsed < 90, elapsed


def test_non_utf8_names_that_differ_only_in_undecodable_bytes_stay_apart(tmp_path: Path) -> None:
    """Found by these tests: both names became `caf\ufffd.py`, and the second file was silently dropped."""
    for raw in (b"caf\xe9.py", b"caf\xff.py"):
        (tmp_path / os.fsdecode(raw)).write_text(CLIENT_IN_HANDLER)
    result = scan_tree(tmp_path)
    assert sorted(findings_by_path(result)) == ["caf\\xe9.py", "caf\\xff.py"]


@pytest.mark.timeout(60)
def test_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    """Found by these tests: discovery recursed per directory, so ~1,000 levels raised RecursionError."""
    bottom = _make_dirs(tmp_path / "deep", 1_500)
    (bottom / "x.py").write_text(CLIENT_IN_HANDLER)
    try:
        found = discover([tmp_path], tmp_path, exclude=[])
        assert [f.rel.count("/") for f in found.files] == [1_501]
    finally:  # bottom-up: shutil.rmtree (and pytest's own tmp cleanup) recurse per level too
        (bottom / "x.py").unlink()
        while bottom != tmp_path:
            bottom.rmdir()
            bottom = bottom.parent


@pytest.mark.timeout(120)
def test_thousands_of_gitignore_patterns(tmp_path: Path) -> None:
    patterns = [f"generated_{i}/**/*.py" for i in range(3_000)] + ["ignored_*.py", "!ignored_keep.py"]
    (tmp_path / ".gitignore").write_text("\n".join(patterns) + "\n")
    for i in range(300):
        (tmp_path / f"m{i}.py").write_text("VALUE = 1\n")
    (tmp_path / "generated_7" / "x").mkdir(parents=True)
    (tmp_path / "generated_7" / "x" / "gen.py").write_text(CLIENT_IN_HANDLER)
    (tmp_path / "ignored_a.py").write_text(CLIENT_IN_HANDLER)
    (tmp_path / "ignored_keep.py").write_text(CLIENT_IN_HANDLER)
    started = time.perf_counter()
    rels = {f.rel for f in discover([tmp_path], tmp_path, exclude=[]).files}
    assert time.perf_counter() - started < 30
    assert "generated_7/x/gen.py" not in rels and "ignored_a.py" not in rels
    assert "ignored_keep.py" in rels and len(rels) == 301


@pytest.mark.timeout(60)
def test_many_gitignore_files_do_not_make_lookups_quadratic(tmp_path: Path) -> None:
    for i in range(2_000):
        directory = tmp_path / f"d{i}"
        directory.mkdir()
        (directory / ".gitignore").write_text("skip.py\n")
        (directory / "skip.py").write_text("x = 1\n")
        (directory / "keep.py").write_text("x = 1\n")
    started = time.perf_counter()
    rels = {f.rel for f in discover([tmp_path], tmp_path, exclude=[]).files}
    assert len(rels) == 2_000 and all(r.endswith("keep.py") for r in rels)
    assert time.perf_counter() - started < 20


def test_files_deleted_and_rewritten_during_the_scan(tmp_path: Path) -> None:
    files = {f"f{i}.py": CLIENT_IN_HANDLER for i in range(6)}
    for rel, code in files.items():
        (tmp_path / rel).write_text(code)

    def meddle(done: int, total: int) -> None:
        if done == 1:  # files are analysed in path order: f0 done, f1..f5 to come
            (tmp_path / "f2.py").unlink()
            (tmp_path / "f3.py").write_text("import redis\nr = redis.Redis()\n" * 50)  # rewritten: no handler now
            (tmp_path / "f4.py").unlink()
            (tmp_path / "f4.py").mkdir()  # replaced by a directory

    settings = api.settings_for([tmp_path], isolated=True, jobs=1)
    result = api.scan([tmp_path], settings, use_cache=True, progress=meddle)
    skips = skipped(result)
    assert skips["f2.py"].startswith("cannot read") and skips["f4.py"].startswith("cannot read")
    found = findings_by_path(result)
    assert "SA102" in found["f5.py"] and "SA102" not in found.get("f3.py", set())
    # the cache kept what was really read: a rescan agrees with a cold scan
    assert findings_by_path(api.scan([tmp_path], settings, use_cache=True)) == findings_by_path(
        api.scan([tmp_path], settings, use_cache=False))


_AS_NOBODY = """
import json, os, sys, tempfile
from pathlib import Path
from scaleaudit import api
import scaleaudit.python.frontend  # every lazy import done while still root (the interpreter lives in /root)
warm = Path(tempfile.mkdtemp())
(warm / "w.py").write_text(sys.argv[2])
api.scan([warm], api.settings_for([warm], isolated=True), use_cache=False)
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
root = Path(sys.argv[1])
r = api.scan([root], api.settings_for([root], isolated=True), use_cache=True)
skips = {d.path: d.message for d in r.diagnostics}
print(json.dumps({"skipped": skips, "found": sorted({f.path for f in r.findings})}))
"""


def test_unreadable_files_and_directories(tmp_path: Path) -> None:
    """Root reads everything, so the scan drops to `nobody` when the tests run as root."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "ok.py").write_text(CLIENT_IN_HANDLER)
    (root / "locked.py").write_text(CLIENT_IN_HANDLER)
    (root / "locked_dir").mkdir()
    (root / "locked_dir" / "inner.py").write_text(CLIENT_IN_HANDLER)
    (root / "locked.py").chmod(0o000)
    (root / "locked_dir").chmod(0o000)
    for parent in [root, tmp_path, *tmp_path.parents]:
        parent.chmod(parent.stat().st_mode | 0o005)  # let nobody reach the tree
    done = subprocess.run([sys.executable, "-c", _AS_NOBODY, str(root), CLIENT_IN_HANDLER],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["found"] == ["ok.py"]
    assert report["skipped"]["locked.py"].startswith("cannot read")
    assert report["skipped"]["locked_dir"].startswith("cannot read directory")


# --- the cache -------------------------------------------------------------------


def _cache_file(root: Path) -> Path:
    (cache,) = (root / ".scaleaudit_cache").glob("scan-*.json")
    return cache


@pytest.fixture
def cached_tree(tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    for i in range(8):
        (tmp_path / f"m{i}.py").write_text(CLIENT_IN_HANDLER if i % 2 else "VALUE = 1\n")
    settings = api.settings_for([tmp_path], isolated=True)
    fresh = findings_by_path(api.scan([tmp_path], settings, use_cache=False))
    api.scan([tmp_path], settings, use_cache=True)
    return tmp_path, fresh


def _rescan(root: Path) -> dict[str, set[str]]:
    return findings_by_path(api.scan([root], api.settings_for([root], isolated=True), use_cache=True))


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "wrong-shape", "not-utf8", "directory"])
def test_a_damaged_cache_is_rebuilt_not_trusted(cached_tree: tuple[Path, dict[str, set[str]]], damage: str) -> None:
    root, fresh = cached_tree
    cache = _cache_file(root)
    data = cache.read_bytes()
    if damage == "truncate":
        cache.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        cache.write_bytes(b"")
    elif damage == "garbage":
        cache.write_bytes(os.urandom(4096))
    elif damage == "wrong-shape":
        cache.write_text(json.dumps({"format": 1, "digest": json.loads(data)["digest"], "files": [1, 2]}))
    elif damage == "not-utf8":
        cache.write_bytes(b"\xff\xfe" + data)
    else:
        cache.unlink()
        cache.mkdir()
    assert _rescan(root) == fresh
    assert _rescan(root) == fresh  # and the rebuilt cache is good


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3))


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=8),
                        st.floats(allow_nan=False))
    return st.recursive(scalars, _containers, max_leaves=6)


def _replace_at(document: object, path: list[int], value: object) -> object:
    """Replace the node `path` picks (indices modulo each container's size) with `value`."""
    if not path or not isinstance(document, (dict, list)) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    document[key] = _replace_at(document[key], path[1:], value)  # type: ignore[index]
    return document


@PROFILES
def test_structurally_corrupted_cache_never_crashes_a_scan(
    cached_tree: tuple[Path, dict[str, set[str]]], profile: str
) -> None:
    root, fresh = cached_tree
    cache = _cache_file(root)
    pristine = json.loads(cache.read_bytes())

    def check(example: tuple[list[int], object]) -> None:
        path, value = example
        cache.write_text(json.dumps(_replace_at(json.loads(json.dumps(pristine)), path, value)))
        rescanned = _rescan(root)  # must not raise; a well-formed lie may be believed, but only for that file
        assert set(rescanned) <= set(fresh) | {f"m{i}.py" for i in range(8)}
        cache.write_text(json.dumps(pristine))

    paths = st.lists(st.integers(0, 50), min_size=1, max_size=7)
    run_property("cache: structural corruption", profile, st.tuples(paths, _json_values()), check)


@pytest.mark.timeout(180)
def test_two_scans_at_once_leave_one_good_cache(tmp_path: Path) -> None:
    for i in range(60):
        (tmp_path / f"m{i}.py").write_text(CLIENT_IN_HANDLER if i % 3 == 0 else f"VALUE = {i}\n")
    command = [sys.executable, "-m", "scaleaudit", "scan", str(tmp_path), "--format", "json", "--jobs", "1"]
    env = {**os.environ, "SCALEAUDIT_NO_CONFIG": "1"}
    for round_ in range(3):
        (tmp_path / f"m{round_}.py").write_text(f"VALUE = {round_}\n")  # each round invalidates some entries
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode in (0, 1), err
            assert json.loads(out)["summary"]["files_scanned"] == 60
        assert outputs[0][0] == outputs[1][0]
    json.loads(_cache_file(tmp_path).read_bytes())  # one complete cache file
    assert not list((tmp_path / ".scaleaudit_cache").glob(".tmp-*"))
    assert _rescan(tmp_path) == findings_by_path(scan_tree(tmp_path))
