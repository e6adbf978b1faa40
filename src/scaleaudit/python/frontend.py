"""Entry point of the Python front end for the engine."""

from __future__ import annotations

import re
from dataclasses import replace

from scaleaudit.engine.job import Job
from scaleaudit.model import Diagnostic, Fact, FileResult, Location, Span
from scaleaudit.python.analyze import analyze_python
from scaleaudit.python.guard import too_complex
from scaleaudit.python.rules import ALL_RULES

# `from pkg.mod import a, b as c` and the parenthesised form, read from bytes:
# the project phase needs every module's imports (who imports the shared
# engine?) even in files no rule parses.
_FROM_IMPORT = re.compile(rb"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)", re.MULTILINE)


def import_fact(rel: str, data: bytes) -> Fact | None:
    if b"import" not in data:
        return None
    entries: list[list[object]] = []
    for match in _FROM_IMPORT.finditer(data):
        level = len(match.group(1))
        module = match.group(2).decode("ascii", "replace")
        names = match.group(3).decode("utf-8", "replace").strip("()\\ \t\r\n")
        for part in names.replace("\n", ",").split(","):
            name = part.strip().split(" as ")[0].strip().rstrip("\\").strip()
            if name and name != "*" and name.isidentifier():
                entries.append([level, module, name])
    if not entries:
        return None
    return Fact("py-imports", Location(rel, Span(1, 1, 1, 1)), {"imports": entries})


def _will_parse(data: bytes) -> bool:
    return any(not r.TRIGGERS or any(t in data for t in r.TRIGGERS) for r in ALL_RULES)


def analyze(rel: str, data: bytes, job: Job) -> FileResult:
    reason = too_complex(data) if _will_parse(data) else None
    if reason:
        # Past this point libcst would segfault or stall; the file is reported, not parsed.
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        return FileResult(rel, "python", lines, diagnostics=(Diagnostic("parse-error", rel, reason),))
    result = analyze_python(rel, data, ALL_RULES, job.book, job.options)
    fact = import_fact(rel, data)
    return replace(result, facts=(*result.facts, fact)) if fact else result
