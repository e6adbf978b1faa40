"""Hypothesis profiles and shared inputs for the hardening tests.

Every property runs twice over: the `quick` variant in the default test run (a
few dozen examples, so the suite stays fast) and the `fuzz` variant, marked
`fuzz` and deselected by default, which runs thousands (`pytest -m fuzz`).
Both count the examples they really ran; the session summary prints the
figures (the closing note of issue 9 quotes them).
"""

from __future__ import annotations

import functools
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleaudit import api
from scaleaudit.engine.job import Job

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture]
settings.register_profile("quick", max_examples=int(os.environ.get("SCALEAUDIT_QUICK_EXAMPLES", "40")),
                          deadline=None, suppress_health_check=_SUPPRESS, derandomize=True, database=None)
settings.register_profile("fuzz", max_examples=int(os.environ.get("SCALEAUDIT_FUZZ_EXAMPLES", "2000")),
                          deadline=None, suppress_health_check=_SUPPRESS, database=None)

EXAMPLES: Counter[str] = Counter()

# The engine raises the recursion limit when a scan runs in-process (runner._init_worker); do it
# up front so hypothesis does not see the limit change inside a test (it warns, and warnings fail).
sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))

# One test item per profile; the fuzz one is deselected unless `-m fuzz`.
PROFILES = pytest.mark.parametrize(
    "profile",
    [pytest.param("quick", marks=pytest.mark.timeout(120)),
     pytest.param("fuzz", marks=[pytest.mark.fuzz, pytest.mark.timeout(3600)])],
)


def run_property(name: str, profile: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None],
                 **overrides: Any) -> None:
    """Run `check` for every example `strategy` draws under `profile`, counting them as `name`."""

    def counted(example: Any) -> None:
        EXAMPLES[f"{name} [{profile}]"] += 1
        check(example)

    counted.__name__ = counted.__qualname__ = getattr(check, "__name__", "check")

    test = given(strategy)(counted)
    settings(settings.get_profile(profile), **overrides)(test)()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if EXAMPLES:
        terminalreporter.section("hardening: examples run per property")
        for name, count in sorted(EXAMPLES.items()):
            terminalreporter.write_line(f"{count:7d}  {name}")


@functools.lru_cache(maxsize=1)
def job() -> Job:
    return Job.from_settings(api.settings_for([REPO], isolated=True))


def corpus(*suffixes: str, names: tuple[str, ...] = ()) -> list[tuple[str, bytes]]:
    """Real fixture files (they hold the triggers the rules need), as (relative path, bytes)."""
    out = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and "node_modules" not in path.parts and (path.suffix in suffixes or path.name in names
                                                                    or any(path.name.startswith(n) for n in names)):
            out.append((path.relative_to(FIXTURES).as_posix(), path.read_bytes()))
    return out
