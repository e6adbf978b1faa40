"""Shared helpers: scan a tree of files written to a temp dir; read fixture markers;
find the real services (and fail, not skip, under CI=true)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from scaleaudit import api
from scaleaudit.model import ScanResult

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_MARKER = re.compile(r"(?:#|//)\s*expect:\s*([A-Z0-9_, ]+)")


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def scan_tree(root: Path, *, use_cache: bool = False, **overrides: Any) -> ScanResult:
    settings = api.settings_for([root], isolated=True, **overrides)
    return api.scan([root], settings, use_cache=use_cache)


def triples(result: ScanResult) -> set[tuple[str, int, str]]:
    return {(f.path, f.line, f.rule) for f in result.findings}


def expected_markers(root: Path, suffixes: tuple[str, ...] = (".py", ".ts", ".js", ".prisma", ".env", ".example",
                                                               ".html", ".yml", ".yaml", ".tsx", ".mjs", ".cjs",
                                                               )) -> set[tuple[str, int, str]]:
    """`# expect: SA101, SA103` at the end of a fixture line pins those findings to that line."""
    out: set[tuple[str, int, str]] = set()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "node_modules" in path.parts:
            continue
        if not (path.suffix in suffixes or path.name.startswith(".env")):
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = _MARKER.search(line)
            if match:
                for rule in match.group(1).replace(" ", "").split(","):
                    if rule:
                        out.add((rel, number, rule))
    return out


def need(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing — but under CI=true a skip is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
def tree(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(files: Mapping[str, str | bytes]) -> Path:
        return write_tree(tmp_path, files)

    return make


def assert_valid_case(rule: str, files: Mapping[str, str], what: object, tmp_path: Path) -> None:
    """A rule's VALID example: no finding of the rule, even at low confidence, and no crash."""
    from scaleaudit.model import Confidence

    write_tree(tmp_path, files)
    result = scan_tree(tmp_path, select=(rule,), min_confidence=Confidence.LOW)
    assert not [d for d in result.diagnostics if d.kind in ("parse-error", "internal-error")], result.diagnostics
    assert [f for f in result.findings if f.rule == rule] == [], what


def assert_invalid_case(rule: str, files: Mapping[str, str], what: object, expect: int | None, tmp_path: Path) -> None:
    """A rule's INVALID example: at least one finding at the default confidence (exactly `expect`)."""
    write_tree(tmp_path, files)
    result = scan_tree(tmp_path, select=(rule,))
    assert not [d for d in result.diagnostics if d.kind in ("parse-error", "internal-error")], result.diagnostics
    found = [f for f in result.findings if f.rule == rule]
    if expect is not None:
        assert len(found) == expect, (what, found)
    else:
        assert found, what
