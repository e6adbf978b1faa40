"""Baselines: accept today's findings, fail only on new ones.

A fingerprint is built from the rule, the file and the finding's anchor (a
position-free description such as `sqlalchemy.create_engine:engine`), plus an
occurrence number for repeats in one file. Line numbers are left out, so
edits elsewhere in the file do not turn old findings into new ones (the
problem Ruff users have asked about since 2022, ruff#1149).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scaleaudit.config import ConfigError
from scaleaudit.model import Diagnostic, Finding, ScanResult

BASELINE_VERSION = 1
_DIGITS = re.compile(r"\d+")


def _identity(finding: Finding) -> str:
    # Without an anchor, fall back to the message with numbers blanked, so a
    # count in the text ("in 3 modules") does not change the identity.
    anchor = finding.anchor or _DIGITS.sub("#", finding.message)
    return f"{finding.rule}|{finding.path}|{anchor}"


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        identity = _identity(finding)
        seen[identity] += 1
        out.append(hashlib.sha256(f"{identity}|{seen[identity]}".encode()).hexdigest()[:20])
    return out


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    path: str
    message: str


def write_baseline(path: Path, result: ScanResult) -> int:
    entries = [
        {"fingerprint": fp, "rule": f.rule, "path": f.path, "line": f.line, "message": f.message}
        for f, fp in zip(result.findings, fingerprints(result.findings), strict=True)
    ]
    path.write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n")
    return len(entries)


def read_baseline(path: Path) -> list[BaselineEntry]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != BASELINE_VERSION:
            raise ConfigError(f"{path}: unsupported baseline version {raw.get('version')!r}")
        return [BaselineEntry(e["fingerprint"], e["rule"], e["path"], e.get("message", "")) for e in raw["findings"]]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a scaleaudit baseline ({type(exc).__name__})") from exc


def apply_baseline(result: ScanResult, entries: Sequence[BaselineEntry]) -> ScanResult:
    known = Counter(e.fingerprint for e in entries)
    kept: list[Finding] = []
    matched: Counter[str] = Counter()
    for finding, fp in zip(result.findings, fingerprints(result.findings), strict=True):
        if matched[fp] < known[fp]:
            matched[fp] += 1
        else:
            kept.append(finding)
    stale = [
        Diagnostic("stale-baseline", e.path, f"baseline entry for {e.rule} no longer matches a finding: {e.message}")
        for e in entries
        if matched[e.fingerprint] == 0
    ]
    baselined = sum(matched.values())
    summary = replace(result.summary, baselined=baselined)
    by_sev = Counter(f.severity.value for f in kept)
    by_cat = Counter(f.category.value for f in kept)
    summary = replace(summary, by_severity=dict(by_sev), by_category=dict(by_cat))
    return replace(result, findings=tuple(kept), diagnostics=(*result.diagnostics, *stale), summary=summary)
