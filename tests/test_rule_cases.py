"""Every rule's own VALID and INVALID examples, as tests (Fixit's convention).

VALID cases must produce no finding of the rule even at low confidence, so a
look-alike never sneaks in below the default threshold; INVALID cases must
produce at least one finding at the default confidence (exactly `expect`
when the case says so).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_invalid_case, assert_valid_case

from scaleaudit.python.rule import Case
from scaleaudit.python.rules import ALL_RULES


def _cases(kind: str) -> list[tuple[str, int, Case]]:
    out = []
    for rule in ALL_RULES:
        for index, case in enumerate(getattr(rule, kind)):
            out.append((rule.id, index, case if isinstance(case, Case) else Case(case)))
    return out


def _ids(cases: list[tuple[str, int, Case]]) -> list[str]:
    return [f"{rule}-{index}" for rule, index, _ in cases]


VALID = _cases("VALID")
INVALID = _cases("INVALID")


def test_every_rule_has_cases() -> None:
    for rule in ALL_RULES:
        assert rule.VALID, f"{rule.id} has no VALID examples"
        assert rule.INVALID, f"{rule.id} has no INVALID examples"


@pytest.mark.parametrize(("rule", "index", "case"), VALID, ids=_ids(VALID))
def test_valid(rule: str, index: int, case: Case, tmp_path: Path) -> None:
    assert_valid_case(rule, case.files(), case.note or case.code, tmp_path)


@pytest.mark.parametrize(("rule", "index", "case"), INVALID, ids=_ids(INVALID))
def test_invalid(rule: str, index: int, case: Case, tmp_path: Path) -> None:
    assert_invalid_case(rule, case.files(), case.note or case.code, case.expect, tmp_path)
