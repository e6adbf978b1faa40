"""A cached scan, a sharded-and-merged scan and a fresh scan report the same findings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from scaleaudit import api
from scaleaudit.render import json as json_render

APPS = ("fastapi_shop", "django_helpdesk", "flask_chat", "express_prisma")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mono")
    for app in APPS:
        shutil.copytree(FIXTURES / app, root / app)
    return root


def _findings(result: object) -> list[dict[str, object]]:
    data = json.loads(json_render.render(result))  # type: ignore[arg-type]
    for item in data["findings"]:
        item.pop("fingerprint")
    return data["findings"]


def test_cached_sharded_and_fresh_scans_agree(tree: Path) -> None:
    settings = api.settings_for([tree], isolated=True)
    fresh = api.scan([tree], settings, use_cache=False)
    assert fresh.findings
    shutil.rmtree(tree / ".scaleaudit_cache", ignore_errors=True)
    priming = api.scan([tree], settings, want_facts=False)  # writes the cache
    cached = api.scan([tree], settings, want_facts=False)  # per-file results and project phase from it
    cached_with_facts = api.scan([tree], settings)
    shards = [api.scan_shard([tree], settings, (i, 3), use_cache=False) for i in range(3)]
    merged = api.merge(shards, settings)
    expected = _findings(fresh)
    assert _findings(priming) == expected
    assert _findings(cached) == expected
    assert _findings(cached_with_facts) == expected
    assert _findings(merged) == expected
    assert sum(len(s["files"]) for s in shards) == fresh.summary.files_scanned
    # Facts are kept in the cache as one embedded JSON string per file: they come back whole.
    assert cached_with_facts.facts == fresh.facts and fresh.facts


def test_a_changed_file_redoes_the_join(tree: Path) -> None:
    settings = api.settings_for([tree], isolated=True)
    api.scan([tree], settings, want_facts=False)
    users = tree / "fastapi_shop" / "app" / "routers" / "users.py"
    original = users.read_text()
    try:
        # users.py now builds its own engine: one more duplicate, found only by the project phase.
        users.write_text(original + "\nfrom sqlalchemy import create_engine as _ce\nengine2 = _ce(settings.DATABASE_URL)\n")
        warm = api.scan([tree], settings, want_facts=False)
        fresh = api.scan([tree], settings, use_cache=False)
        assert _findings(warm) == _findings(fresh)
        assert any(f.rule == "SA101" and f.path.endswith("routers/users.py") for f in warm.findings)
    finally:
        users.write_text(original)


def test_damaged_cached_facts_mean_the_file_is_analysed_again(tree: Path) -> None:
    settings = api.settings_for([tree], isolated=True)
    api.scan([tree], settings, want_facts=False)
    [cache_file] = (tree / ".scaleaudit_cache").glob("scan-v*.json")
    raw = json.loads(cache_file.read_text())
    damaged = [rel for rel, entry in raw["files"].items() if json.loads(entry["result"]["facts"])]
    for rel in damaged:
        raw["files"][rel]["result"]["facts"] = '[{"kind": "model", '  # cut short
    raw["project"] = {}  # the join must be redone, so the facts are read
    cache_file.write_text(json.dumps(raw))
    rescanned = api.scan([tree], settings)
    fresh = api.scan([tree], settings, use_cache=False)
    assert damaged and rescanned.facts == fresh.facts
    assert _findings(rescanned) == _findings(fresh)


def test_merge_command_matches_scan(tree: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "scaleaudit", *args], capture_output=True, text=True,
                              check=False, timeout=300)

    parts = [tmp_path / f"shard-{i}.json" for i in range(2)]
    for i, part in enumerate(parts):
        assert run("scan", str(tree), "--shard", f"{i}/2", "--no-cache", "-q", "-o", str(part)).returncode == 0
    merged = run("merge", *map(str, parts), "-f", "json")
    whole = run("scan", str(tree), "-f", "json", "--no-cache", "-q")
    assert merged.returncode == whole.returncode == 1, merged.stderr
    assert json.loads(merged.stdout)["findings"] == json.loads(whole.stdout)["findings"]
    incomplete = run("merge", str(parts[0]))
    assert incomplete.returncode == 2 and "do not form a whole" in incomplete.stderr
    assert "Traceback" not in incomplete.stderr
