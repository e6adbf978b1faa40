"""Template front end: `{% for t in tickets %} ... {{ t.assignee.name }}` -> facts.

Django and Jinja2 share the syntax that matters here: `{% for x in y %}`,
`{% endfor %}`, and attribute paths in `{{ ... }}` and `{% ... %}` tags. We
read them with regular expressions (no template engine is imported) and emit
one `template-loop-access` fact per loop variable attribute touched inside a
loop over a context variable. Whether that attribute is a lazy relation of
the queryset the view passed in is decided in the project phase
(`scaleaudit.project.nplusone_templates`).

A file with neither `{%` nor `{{` costs one substring search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scaleaudit.engine.job import Job
from scaleaudit.model import Fact, FileResult, Location, Span

_TAG = re.compile(r"\{%-?\s*(.*?)\s*-?%\}|\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_FOR = re.compile(r"for\s+(\w+)(?:\s*,\s*\w+)?\s+in\s+([\w.]+)")
_PATH = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?")


@dataclass
class _Loop:
    var: str
    collection: str  # a context variable name, or a dotted path for nested loops
    line: int


def _line_col(data: str, offset: int, starts: list[int]) -> tuple[int, int]:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo] + 1


def template_facts(rel: str, text: str) -> list[Fact]:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    loops: list[_Loop] = []
    facts: list[Fact] = []
    seen: set[tuple[int, str, str]] = set()
    for match in _TAG.finditer(text):
        body = match.group(1) if match.group(1) is not None else match.group(2)
        content_start = match.start(1) if match.group(1) is not None else match.start(2)
        if match.group(1) is not None and re.match(r"end(for)\b", body):
            if loops:
                loops.pop()
            continue
        by_var = {loop.var: loop for loop in loops}
        for path in _PATH.finditer(body):
            loop = by_var.get(path.group(1))
            if loop is None or "." in loop.collection or (loop.line, path.group(1), path.group(2)) in seen:
                continue
            seen.add((loop.line, path.group(1), path.group(2)))
            line, col = _line_col(text, content_start + path.start(), starts)
            span = Span(line, col, line, col + len(path.group(0)))
            data = {
                "collection": loop.collection,
                "var": loop.var,
                "attr": path.group(2),
                "next": path.group(3),
                "loop_line": loop.line,
            }
            facts.append(Fact("template-loop-access", Location(rel, span), data))
        found = _FOR.match(body) if match.group(1) is not None else None
        if found:
            line, _ = _line_col(text, match.start(), starts)
            loops.append(_Loop(found.group(1), found.group(2), line))
    return facts


def analyze(rel: str, data: bytes, job: Job) -> FileResult:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if b"{%" not in data:
        return FileResult(rel, "template", lines)
    text = data.decode("utf-8", errors="replace")
    return FileResult(rel, "template", lines, facts=tuple(template_facts(rel, text)))
