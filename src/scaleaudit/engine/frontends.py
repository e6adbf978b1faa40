"""Per-file dispatch: read the bytes, pick the front end, never raise.

A front end is `analyze(rel, data, job) -> FileResult`, named here by import
path so a scan only imports the front ends its files need (libcst alone costs
~140 ms to import, which a warm scan should not pay).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from scaleaudit.engine.job import Job
from scaleaudit.model import Diagnostic, FileResult

Analyzer = Callable[[str, bytes, Job], FileResult]

FRONTENDS: dict[str, str] = {
    "python": "scaleaudit.python.frontend:analyze",
    "typescript": "scaleaudit.typescript.frontend:analyze",
    "javascript": "scaleaudit.typescript.frontend:analyze",
    "env": "scaleaudit.configfiles.frontend:analyze",
    "prisma": "scaleaudit.configfiles.frontend:analyze",
    "yaml": "scaleaudit.configfiles.frontend:analyze",
    "procfile": "scaleaudit.configfiles.frontend:analyze",
    "template": "scaleaudit.templates.frontend:analyze",
}
_loaded: dict[str, Analyzer | None] = {}


def _analyzer(language: str) -> Analyzer | None:
    target = FRONTENDS.get(language)
    if target is None:
        return None
    if target not in _loaded:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                _loaded[target] = None  # front end not built (yet): the file is counted, not analysed
                return None
            raise
        _loaded[target] = getattr(module, attr)
    return _loaded[target]


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def analyze_path(path: Path, rel: str, language: str, job: Job) -> FileResult:
    """Read and analyse one file. Every failure becomes a diagnostic."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(rel, language, 0, diagnostics=(Diagnostic("skipped", rel, f"cannot read: {exc.strerror}"),))
    return analyze_bytes(rel, data, language, job)


def analyze_bytes(rel: str, data: bytes, language: str, job: Job) -> FileResult:
    if b"\x00" in data[:8192]:
        return FileResult(rel, language, 0, diagnostics=(Diagnostic("skipped", rel, "binary file (NUL bytes)"),))
    try:
        analyzer = _analyzer(language)
        if analyzer is None:
            return FileResult(rel, language, _lines(data))
        return analyzer(rel, data, job)
    except Exception as exc:  # the runner never raises: one file never stops a scan
        message = f"internal error while analysing: {type(exc).__name__}: {exc}"
        return FileResult(rel, language, _lines(data), diagnostics=(Diagnostic("internal-error", rel, message),))
