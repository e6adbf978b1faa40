"""Every TypeScript rule's own VALID and INVALID examples, as tests.

Same contract as tests/test_rule_cases.py: VALID cases produce no finding of
the rule even at low confidence; INVALID cases produce at least one at the
default confidence (exactly `expect` when given). Fact-only rules (their
finding comes from a project join) carry no cases here; their joins are
tested in test_project_joins.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_invalid_case, assert_valid_case

from scaleaudit.typescript.rule import TsCase
from scaleaudit.typescript.rules import ALL_RULES

FACT_ONLY = {"SA412", "SA501"}


def _cases(kind: str) -> list[tuple[str, int, TsCase]]:
    out = []
    for rule in ALL_RULES:
        for index, case in enumerate(getattr(rule, kind)):
            out.append((rule.id, index, case if isinstance(case, TsCase) else TsCase(case)))
    return out


VALID = _cases("VALID")
INVALID = _cases("INVALID")


def _ids(cases: list[tuple[str, int, TsCase]]) -> list[str]:
    return [f"{rule}-{index}" for rule, index, _ in cases]


def test_every_rule_has_cases() -> None:
    for rule in ALL_RULES:
        if rule.id in FACT_ONLY:
            continue
        assert rule.VALID, f"{rule.id} has no VALID examples"
        assert rule.INVALID, f"{rule.id} has no INVALID examples"


@pytest.mark.parametrize(("rule", "index", "case"), VALID, ids=_ids(VALID))
def test_valid(rule: str, index: int, case: TsCase, tmp_path: Path) -> None:
    assert_valid_case(rule, case.files(), case.note or case.code, tmp_path)


@pytest.mark.parametrize(("rule", "index", "case"), INVALID, ids=_ids(INVALID))
def test_invalid(rule: str, index: int, case: TsCase, tmp_path: Path) -> None:
    assert_invalid_case(rule, case.files(), case.note or case.code, case.expect, tmp_path)
