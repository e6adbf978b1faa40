"""The Django + DRF fixture: exactly the `# expect:` lines (and `{# expect: #}` in templates) are reported."""

from __future__ import annotations

from conftest import FIXTURES, expected_markers, scan_tree, triples

from scaleaudit.model import Confidence

APP = FIXTURES / "django_helpdesk"


def test_findings_match_markers_exactly() -> None:
    result = scan_tree(APP)
    assert triples(result) == expected_markers(APP)
    assert not result.diagnostics


def test_batch_code_and_migrations_stay_silent_even_at_low_confidence() -> None:
    result = scan_tree(APP, min_confidence=Confidence.LOW)
    quiet = ("helpdesk/management/", "helpdesk/migrations/")
    assert [f for f in result.findings if f.path.startswith(quiet)] == []


def test_template_findings_point_at_the_view_queryset() -> None:
    result = scan_tree(APP, select=("SA203",))
    by_line = {(f.path, f.line): f for f in result.findings}
    assignee = by_line[("helpdesk/templates/helpdesk/ticket_list.html", 8)]
    assert 'select_related("assignee")' in assignee.message
    assert [(r.path, r.span.line) for r in assignee.related] == [("helpdesk/views.py", 12)]
    agents = by_line[("helpdesk/templates/helpdesk/agent_list.html", 5)]
    assert agents.confidence is Confidence.MEDIUM and "Count(\"tickets\")" in agents.message


def test_missing_index_lists_the_query_sites() -> None:
    result = scan_tree(APP, select=("SA401", "SA402"))
    author = next(f for f in result.findings if f.rule == "SA401")
    assert "helpdesk_comment.author_id" in author.message and "AddIndexConcurrently" in author.message
    assert {(r.path, r.span.line) for r in author.related} == {("helpdesk/views.py", 42)}
