"""The Express + Prisma fixture: exactly the `expect:` lines are reported, nothing else."""

from __future__ import annotations

from conftest import FIXTURES, expected_markers, scan_tree, triples

APP = FIXTURES / "express_prisma"


def test_findings_match_markers_exactly() -> None:
    result = scan_tree(APP)
    assert triples(result) == expected_markers(APP)
    assert not result.diagnostics


def test_correct_files_stay_silent() -> None:
    result = scan_tree(APP)
    silent = {"src/lib/prisma.ts", "src/services/cache.ts", "src/services/files.ts", "prisma/seed.ts",
              "src/__tests__/user.test.ts", "src/controllers/health.controller.js", "docker-compose.yml",
              "src/routes/index.ts"}
    assert not [f for f in result.findings if f.path in silent]


def test_duplicates_point_at_the_shared_singleton() -> None:
    result = scan_tree(APP, select=("SA101",))
    assert len(result.findings) == 30  # 36 generated controllers, 6 already import the singleton
    for finding in result.findings:
        assert "import the shared client from `src/lib/prisma" in finding.message
        assert "src/lib/prisma.ts" in {r.path for r in finding.related if r.note == "the shared instance"}


def test_pool_advice_uses_the_capacity_formula() -> None:
    from scaleaudit.capacity import pool_plan

    plan = pool_plan()
    [url] = scan_tree(APP, select=("SA104",)).findings
    assert f"connection_limit={plan.prisma_connection_limit}&pool_timeout={plan.pool_timeout}" in url.message
    assert "change-me" not in url.message  # the password never reaches a message
    [pool] = scan_tree(APP, select=("SA106",)).findings
    assert f"max: {plan.per_process}" in pool.message


def test_no_fact_holds_a_password() -> None:
    result = scan_tree(APP)
    assert "change-me" not in repr(result.facts) and "app:app@" not in repr(result.facts)


def test_process_model_facts() -> None:
    facts = [f for f in scan_tree(APP).facts if f.kind == "process-model"]
    by_source = {f.get("source"): f for f in facts}
    assert by_source["pm2"].get("mode") == "fork" and by_source["pm2"].get("instances") == 1
    assert by_source["compose"].get("mode") == "fork"  # pm2-runtime without -i
