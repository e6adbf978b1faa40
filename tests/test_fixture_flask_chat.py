"""The Flask chat fixture: exactly the `# expect:` lines are reported, and the facts the report needs exist."""

from __future__ import annotations

from conftest import FIXTURES, expected_markers, scan_tree, triples

from scaleaudit.model import Confidence

APP = FIXTURES / "flask_chat"


def test_findings_match_markers_exactly() -> None:
    result = scan_tree(APP)
    assert triples(result) == expected_markers(APP)
    assert not [d for d in result.diagnostics if d.kind in ("parse-error", "internal-error")]


def test_look_alikes_stay_silent_even_at_low_confidence() -> None:
    result = scan_tree(APP, min_confidence=Confidence.LOW)
    silent = {"chat/dev_config.py", "scripts/purge_presence.py", "tests/conftest.py", "chat/storage.py"}
    assert not [f for f in result.findings if f.path in silent]


def test_process_model_and_redis_write_facts() -> None:
    result = scan_tree(APP)
    models = [f for f in result.facts if f.kind == "process-model"]
    assert [(f.location.path, f.get("source"), f.get("workers"), f.get("mode")) for f in models] == [
        ("gunicorn.conf.py", "gunicorn", 4, "eventlet")
    ]
    writes = {(f.get("command"), f.get("prefix"), f.get("ttl")) for f in result.facts if f.kind == "redis-write"}
    assert writes == {
        ("set", "online:", False),
        ("hset", "room-members:", False),
        ("set", "last-message:", True),
        ("hset", "stats:", True),
    }
