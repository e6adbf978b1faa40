"""Items 1 and 3 of issue 9: `fix --write` under pressure.

Every case either fixes correctly (the output parses, the bytes outside the
edits are unchanged, a second run changes nothing, no finding appears that
was not there before) or refuses with a reason and leaves every byte as it
was. A process killed mid-write leaves the original or the complete new file.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import strategies as st

from hardening.conftest import PROFILES, run_property
from scaleaudit import api
from scaleaudit.fixes.api import run_fix
from scaleaudit.fixes.base import FixResult

CONFIG = 'URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"\nREDIS_URL = "redis://127.0.0.1:6379/0"\n'
USERS = "from sqlalchemy import create_engine\n\nfrom app.config import URL\n\nengine = create_engine(URL)\n\n\n" \
        "def count():\n    return engine\n"
ORDERS = "import sqlalchemy as sa\n\nfrom app.config import URL\n\nengine = sa.create_engine(URL, echo=False)\n" \
         "query = sa.text('select 1')\n"


def write(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in {"app/__init__.py": "", "app/config.py": CONFIG, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py")) if not p.is_symlink()}


def fix(root: Path, write_: bool = True) -> FixResult:
    return run_fix([root], api.settings_for([root], isolated=True), write=write_, use_cache=False)


def finding_keys(root: Path) -> Counter[tuple[str, str]]:
    result = api.scan([root], api.settings_for([root], isolated=True), use_cache=False)
    return Counter((f.rule, f.path) for f in result.findings)


def assert_sound_fix(root: Path) -> FixResult:
    """The properties of item 1: parses, idempotent, no new findings.

    Rewrites whose edits overlap in one file (two client groups sharing an import
    line, one client assigned several times in a module) are retried in memory
    within the run, so the second run must change nothing at all.
    """
    before = finding_keys(root)
    result = fix(root)
    created = {c.path for c in result.changes if c.created}
    for rel, data in snapshot(root).items():
        ast.parse(data, filename=rel)
    again = fix(root)
    assert not again.changes, [(c.path, c.diff()) for c in again.changes]
    after = finding_keys(root)
    new = {key for key in after if key not in before}
    # a finding may move into the shared module the fix creates, never appear anew elsewhere
    assert all(path in created for _, path in new), new
    return result


def test_crlf_and_bom_files_get_the_same_fix_as_plain_ones(tmp_path: Path) -> None:
    plain = write(tmp_path / "plain", {"app/users.py": USERS, "app/orders.py": ORDERS})
    odd = write(tmp_path / "odd", {"app/users.py": b"\xef\xbb\xbf" + USERS.replace("\n", "\r\n").encode(),
                                   "app/orders.py": ORDERS.replace("\n", "\r\n")})
    assert [a.rule for a in assert_sound_fix(plain).applied] == ["SA101"]
    assert [a.rule for a in assert_sound_fix(odd).applied] == ["SA101"]
    expected = snapshot(plain)
    got = snapshot(odd)
    assert got["app/users.py"] == b"\xef\xbb\xbf" + expected["app/users.py"].replace(b"\n", b"\r\n")
    assert got["app/orders.py"] == expected["app/orders.py"].replace(b"\n", b"\r\n")


def test_a_latin1_file_gets_the_same_fix_written_back_in_latin1(tmp_path: Path) -> None:
    """PEP 263: the declared encoding is read and written back; only the fix's lines change."""
    header = b"# -*- coding: latin-1 -*-\n# caf\xe9\n"
    plain = write(tmp_path / "plain", {"app/users.py": USERS, "app/orders.py": ORDERS})
    latin = write(tmp_path / "latin", {"app/users.py": header + USERS.encode(), "app/orders.py": ORDERS})
    assert [a.rule for a in assert_sound_fix(plain).applied] == ["SA101"]
    assert [a.rule for a in assert_sound_fix(latin).applied] == ["SA101"]
    assert snapshot(latin)["app/users.py"] == header + snapshot(plain)["app/users.py"]
    assert snapshot(latin)["app/orders.py"] == snapshot(plain)["app/orders.py"]


def test_a_file_whose_declared_encoding_cannot_be_read_is_left_alone(tmp_path: Path) -> None:
    bad = b"# -*- coding: latin-1 -*-\n" + USERS.encode()
    undecodable = b"# caf\xe9 (not utf-8, nothing declared)\n" + USERS.encode()
    for name, data in (("unknown", bad.replace(b"latin-1", b"no-such-codec")), ("undecodable", undecodable)):
        root = write(tmp_path / name, {"app/users.py": data, "app/orders.py": ORDERS})
        result = fix(root)
        (diag,) = [d for d in result.scan.diagnostics if d.path == "app/users.py"]
        assert diag.kind == "parse-error" and "encoding" in diag.message, diag
        assert "app/users.py" not in {c.path for c in result.changes}
        assert snapshot(root)["app/users.py"] == data

def test_a_latin1_declaration_on_ascii_text_is_kept_by_the_fix(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/users.py": "# -*- coding: latin-1 -*-\n" + USERS, "app/orders.py": ORDERS})
    assert_sound_fix(root)
    assert (root / "app/users.py").read_bytes().startswith(b"# -*- coding: latin-1 -*-\n")


def test_a_symlinked_target_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """Found by these tests: the link's target was rewritten under its own path, then the link
    failed as stale: db.py created and orders.py rewritten while the run reported nothing applied."""
    root = write(tmp_path, {"app/real_users.py": USERS, "app/orders.py": ORDERS})
    (root / "app/users.py").symlink_to("real_users.py")
    before = snapshot(root)
    result = fix(root)
    assert any("symbolic link" in f.reason for f in result.failures), result.failures
    assert snapshot(root) == before and not (root / "app/db.py").exists()
    assert (root / "app/users.py").is_symlink()


def test_a_read_only_file_is_fixed_and_keeps_its_mode(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/users.py": USERS, "app/orders.py": ORDERS})
    (root / "app/users.py").chmod(0o444)
    assert_sound_fix(root)
    assert (root / "app/users.py").stat().st_mode & 0o777 == 0o444
    assert b"from app.db import engine" in (root / "app/users.py").read_bytes()


_FIX_AS_NOBODY = """
import json, os, sys
from pathlib import Path
from scaleaudit import api
from scaleaudit.fixes.api import run_fix
import scaleaudit.python.frontend  # every lazy import done while still root (the interpreter lives in /root)
root = Path(sys.argv[1])
settings = api.settings_for([root], isolated=True)
run_fix([root], settings, write=False, use_cache=False)
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
result = run_fix([root], settings, write=True, use_cache=False)
print(json.dumps([[f.path, f.reason] for f in result.failures]))
"""


def test_a_tree_the_user_cannot_write_fails_with_reasons_and_changes_nothing(tmp_path: Path) -> None:
    """Read-only files in a read-only directory (root ignores modes, so the fix drops to `nobody`)."""
    root = write(tmp_path / "tree", {"app/users.py": USERS, "app/orders.py": ORDERS})
    for path in [*root.rglob("*"), root]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    for parent in [tmp_path, *tmp_path.parents]:
        parent.chmod(parent.stat().st_mode | 0o005)
    before = snapshot(root)
    done = subprocess.run([sys.executable, "-c", _FIX_AS_NOBODY, str(root)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    failures = dict(json.loads(done.stdout))
    assert failures and all("Permission denied" in reason for reason in failures.values()), failures
    assert snapshot(root) == before and not (root / "app/db.py").exists()


TWO_CLIENTS = (
    "import redis\nfrom sqlalchemy import create_engine\n\nfrom app.config import REDIS_URL, URL\n\n"
    "engine = create_engine(URL)\ncache = redis.Redis.from_url(REDIS_URL)\n\n\n"
    "def handler():\n    return engine, cache\n"
)


def test_two_groups_of_duplicated_clients_in_one_module(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/a.py": TWO_CLIENTS, "app/b.py": TWO_CLIENTS.replace("handler", "other"),
                            "app/c.py": TWO_CLIENTS.replace("handler", "third")})
    result = assert_sound_fix(root)
    assert result.applied, result.skipped
    probe = subprocess.run([sys.executable, "-c", "import app.a, app.b, app.c; assert app.a.engine is app.b.engine"],
                           cwd=root, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr


# --- the process killed mid-write ---------------------------------------------------

_WRITER = """
import sys
from pathlib import Path
from scaleaudit.fixes.writer import write_atomic
path, marker = Path(sys.argv[1]), sys.argv[2].encode()
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    write_atomic(path, marker * (4 << 20))
"""


@pytest.mark.timeout(120)
def test_killed_mid_write_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    target = tmp_path / "big.py"
    old = b"O" * (4 << 20)
    target.write_bytes(old)
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), "N"], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        proc.stdout.close()
        time.sleep(0.01 + attempt * 0.013)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert data in (old, b"N" * (4 << 20)), (attempt, len(data))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "big.py"]
    # a killed writer can leave its temp file (.big.py.*.tmp) beside the target, never a torn target
    assert all(name.startswith(".big.py.") and name.endswith(".tmp") for name in leftovers), leftovers


@pytest.mark.timeout(180)
def test_fix_killed_at_any_moment_then_rerun_reaches_the_same_tree(tmp_path: Path) -> None:
    files = {f"app/m{i}.py": USERS.replace("count", f"count{i}") for i in range(12)}
    reference = write(tmp_path / "reference", files)
    fix(reference)
    expected = snapshot(reference)
    command = [sys.executable, "-m", "scaleaudit", "fix", "--write", "--no-cache", "."]
    env = {**os.environ, "SCALEAUDIT_NO_CONFIG": "1"}
    for attempt, delay in enumerate([0.3, 0.6, 0.9, 1.2, 1.5, 2.0]):
        root = write(tmp_path / f"run{attempt}", files)
        originals = snapshot(root)
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for rel, data in snapshot(root).items():  # every file whole: the original or the fixed one
            assert data in (originals.get(rel), expected.get(rel)), (attempt, rel)
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        assert snapshot(root) == expected, attempt
        shutil.rmtree(root)


# --- item 1: the fixer over generated modules ------------------------------------------

_SNIPPETS = [
    "engine = create_engine(URL)\n",
    "engine = create_engine(URL, echo=False)\n",
    "other_engine = create_engine(URL, pool_size=5)\n",
    "cache = redis.Redis.from_url(REDIS_URL)\n",
    "cache = redis.Redis(host='localhost', port=6379)\n",
    "def handler():\n    r = redis.Redis()\n    return r.get('k')\n",
    "def make():\n    return create_engine(URL)\n",
    "def use():\n    return engine\n",
    "VALUE = 1\n",
    "engine = create_engine(URL)\nengine = create_engine(URL)\nengine = create_engine(URL)\n",
    "if DEBUG:\n    engine = create_engine(URL)\n",
    "class Repo:\n    engine = create_engine(URL)\n",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
]
_HEADER = ("import redis\nfrom sqlalchemy import create_engine\n\nfrom app.config import REDIS_URL, URL\n\n"
           "DEBUG = False\n")


@st.composite
def projects(draw: st.DrawFn) -> dict[str, bytes]:
    modules: dict[str, bytes] = {}
    for index in range(draw(st.integers(2, 4))):
        body = "".join(draw(st.lists(st.sampled_from(_SNIPPETS), min_size=1, max_size=5)))
        text = _HEADER + "\n" + body
        if draw(st.booleans()):
            text = text.replace("\n", "\r\n")
        data = text.encode()
        if draw(st.booleans()):
            data = b"\xef\xbb\xbf" + data
        modules[f"app/mod{index}.py"] = data
    return modules


@PROFILES
def test_fix_over_generated_projects_is_sound(tmp_path: Path, profile: str) -> None:
    counter = iter(range(1_000_000))

    def check(modules: dict[str, bytes]) -> None:
        root = write(tmp_path / f"p{next(counter)}", modules)
        try:
            assert_sound_fix(root)
        finally:
            shutil.rmtree(root)

    quick = {"max_examples": 15} if profile == "quick" else {}  # each example is 3+ scans and fixes
    run_property("fix: generated projects (parses, idempotent, no new findings)", profile, projects(), check, **quick)


def test_non_utf8_file_names_are_never_written_under_their_printed_name(tmp_path: Path) -> None:
    """The printed path (`caf\\xe9.py`) is not the file's name: the fix must not create or write it."""
    root = write(tmp_path, {"app/users.py": USERS})
    for raw in (b"app/caf\xe9.py", b"app/caf\xff.py"):
        (root / os.fsdecode(raw)).write_text(USERS)
    result = fix(root)
    names = sorted(os.listdir(os.fsencode(root / "app")))
    assert names in ([b"__init__.py", b"caf\xe9.py", b"caf\xff.py", b"config.py", b"users.py"],
                     [b"__init__.py", b"caf\xe9.py", b"caf\xff.py", b"config.py", b"db.py", b"users.py"]), names
    assert not [c for c in result.changes if "\\x" in c.path]
    for raw in (b"app/caf\xe9.py", b"app/caf\xff.py"):
        assert (root / os.fsdecode(raw)).read_text() == USERS
