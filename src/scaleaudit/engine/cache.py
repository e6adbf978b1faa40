"""Per-file results cached by content, checked stat-first.

A warm scan stats every file (discovery already did) and trusts an entry
whose size and mtime match; only when they differ is the file hashed, and
only when the hash differs is it analysed again. The cache file is JSON
written to a temporary file and renamed into place, so two scans at once
leave one complete cache, and a truncated or corrupt cache is discarded and
rebuilt, never trusted.

An entry's facts (three quarters of the file) are kept as one embedded JSON
string: reading the cache then skips over them as a single token, and they
are decoded only when the project phase has to be redone (a warm scan with
nothing changed reads its cached findings and never needs them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleaudit.discovery import SourceFile
from scaleaudit.model import FileResult
from scaleaudit.serialize import file_result_from, file_result_to

FORMAT = 2  # 2: facts as an embedded JSON string


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class _Entry:
    size: int
    mtime_ns: int
    sha: str
    result: dict[str, Any]


class Cache:
    def __init__(self, path: Path | None, digest: str) -> None:
        self.path = path
        self.digest = digest
        self.entries: dict[str, _Entry] = {}
        # The project phase's findings for one exact set of file contents: a
        # warm scan with nothing changed needs neither the facts nor the join.
        self.project: dict[str, Any] = {}
        self.dirty = False

    @classmethod
    def open(cls, directory: Path | None, digest: str) -> Cache:
        if directory is None:
            return cls(None, digest)
        cache = cls(directory / f"scan-v{FORMAT}-{digest}.json", digest)
        cache._load()
        return cache

    def _load(self) -> None:
        assert self.path is not None
        try:
            raw = json.loads(self.path.read_bytes())
            if raw.get("format") != FORMAT or raw.get("digest") != self.digest:
                return
            self.entries = {rel: _Entry(**e) for rel, e in raw["files"].items()}
            project = raw.get("project") or {}
            self.project = project if isinstance(project, dict) else {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.entries, self.project = {}, {}  # missing or corrupt: start afresh

    def sha(self, rel: str) -> str:
        entry = self.entries.get(rel)
        return entry.sha if entry else ""

    def project_findings(self, key: str) -> list[dict[str, Any]] | None:
        findings = self.project.get("findings")
        return findings if self.project.get("key") == key and isinstance(findings, list) else None

    def store_project(self, key: str, findings: list[dict[str, Any]]) -> None:
        self.project = {"key": key, "findings": findings}
        self.dirty = True

    def lookup(self, source: SourceFile, *, facts: bool = True) -> FileResult | None:
        entry = self.entries.get(source.rel)
        if entry is None:
            return None
        if entry.size != source.size or entry.mtime_ns != source.mtime_ns:
            try:
                sha = content_hash(source.path.read_bytes())
            except OSError:
                return None
            if sha != entry.sha:
                return None
            entry.size, entry.mtime_ns = source.size, source.mtime_ns  # touched, not changed
            self.dirty = True
        try:
            raw = entry.result
            if facts:
                raw = {**raw, "facts": json.loads(raw["facts"])}
            return file_result_from(raw, facts=facts)
        except (KeyError, ValueError, TypeError, AttributeError):
            return None  # a damaged entry: analyse the file again

    def store(self, source: SourceFile, result: FileResult, sha: str) -> None:
        raw = file_result_to(result)
        raw["facts"] = json.dumps(raw["facts"], separators=(",", ":"))
        self.entries[source.rel] = _Entry(source.size, source.mtime_ns, sha, raw)
        self.dirty = True

    def prune(self, keep: Iterable[str]) -> None:
        keep_set = set(keep)
        for rel in [r for r in self.entries if r not in keep_set]:
            del self.entries[rel]
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        payload = {
            "format": FORMAT,
            "digest": self.digest,
            "files": {rel: e.__dict__ for rel, e in self.entries.items()},
            "project": self.project,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.path.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by scaleaudit\n*\n")
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
            # One dumps and one write: json.dump streams thousands of small
            # chunks, which made saving a 10 MB cache cost a second.
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
            os.replace(tmp, self.path)
        except OSError:
            # A read-only checkout still gets its scan; it just is not cached.
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
