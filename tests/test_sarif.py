"""SARIF output validates against the official OASIS 2.1.0 schema (from ../shared)."""

from __future__ import annotations

import json

import jsonschema
from conftest import FIXTURES, SHARED, need, scan_tree

from scaleaudit.model import Edit, Fix, FixSafety, Span
from scaleaudit.render import sarif

SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


def _validate(doc: dict[str, object]) -> None:
    need(SCHEMA.is_file(), f"SARIF schema not found at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema, cls=jsonschema.Draft7Validator)


def test_fixture_report_validates() -> None:
    result = scan_tree(FIXTURES / "fastapi_shop")
    doc = sarif.to_dict(result)
    _validate(doc)
    run = doc["runs"][0]  # type: ignore[index]
    assert len(run["results"]) == len(result.findings)
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "SA101" in rule_ids
    first = run["results"][0]
    assert rule_ids[first["ruleIndex"]] == first["ruleId"]
    assert first["partialFingerprints"]


def test_fixes_and_related_locations_validate() -> None:
    from dataclasses import replace

    result = scan_tree(FIXTURES / "fastapi_shop", select=("SA101",))
    finding = result.findings[0]
    edit = Edit(finding.path, Span(1, 1, 1, 1), "from app.db import engine\n")
    fixed = replace(result, findings=(replace(finding, fix=Fix("use the shared engine", FixSafety.SAFE, (edit,))),))
    doc = sarif.to_dict(fixed)
    _validate(doc)
    out = doc["runs"][0]["results"][0]  # type: ignore[index]
    assert out["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"].startswith("from")
    assert out["relatedLocations"]
