"""Which files a scan reads.

Walks the given paths once with `os.scandir`, honouring `.gitignore` files at
every level (pathspec's git-compatible matcher), the config's excludes and a
default list of environments, dependencies and build output. Anything odd —
a symlink loop, a link out of the tree, a FIFO, an unreadable directory, a
file too large to be hand-written — is skipped with a note, never an error.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pathspec
from pathspec.util import normalize_file

from scaleaudit.model import Diagnostic

# Extension or exact name -> the front end that reads it.
_BY_SUFFIX = {
    ".py": "python",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".prisma": "prisma",
    ".html": "template",
    ".jinja": "template",
    ".jinja2": "template",
    ".j2": "template",
}
_BY_NAME = {
    "Procfile": "procfile",
    "gunicorn.conf.py": "python",
}
_CONFIG_YAML_PREFIXES = ("docker-compose", "compose", "fly", "app")


def classify(name: str) -> str | None:
    """The language of a file by its name, or None when no front end reads it."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name == ".env" or name.startswith(".env."):
        return "env"
    lower = name.lower()
    if lower.endswith((".yml", ".yaml")) and lower.startswith(_CONFIG_YAML_PREFIXES):
        return "yaml"
    suffix = os.path.splitext(name)[1]
    return _BY_SUFFIX.get(suffix)


@dataclass(frozen=True)
class SourceFile:
    location: str  # absolute path, as found
    rel: str  # POSIX path relative to the scan root, printable
    language: str
    size: int
    mtime_ns: int

    @cached_property
    def path(self) -> Path:
        # Made on demand: a Path per file was a sixth of a warm scan's discovery.
        return Path(self.location)


@dataclass(frozen=True)
class Discovery:
    files: tuple[SourceFile, ...]
    skipped: tuple[Diagnostic, ...]


def printable(text: str) -> str:
    """File names may hold bytes that are not UTF-8 (surrogate-escaped): show them safely.

    Backslash escapes, not U+FFFD: `caf\\xe9.py` and `caf\\xff.py` must stay two files
    (the path is the key of every result and cache entry)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _plain_dir(pattern: str) -> bool:
    """`name/`: a directory of that name at any depth, with no glob, anchor or negation."""
    name = pattern[:-1]
    return pattern.endswith("/") and bool(name) and not any(c in name for c in "/*?[]!\\") and name[0] != "#"


_NAMED_GROUP = re.compile(r"\(\?P<[^>]*>")


class _Spec:
    """A gitignore spec with a one-regex pre-test.

    Nearly every path matches none of a .gitignore's patterns, and pathspec
    tries them one regex call at a time (on saleor's 42-line .gitignore, most
    of a warm scan's discovery). One alternation of all of them answers "no
    pattern matches" in a single call; only a path some pattern matches is
    given to pathspec, which decides negations and directory marks."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self.any = _union(self.spec.patterns)

    def match_file(self, path: str) -> bool:
        if self.any is not None and self.any.search(normalize_file(path)) is None:
            return False
        return self.spec.match_file(path)


def _union(patterns: Sequence[object]) -> re.Pattern[str] | None:
    """One regex matching wherever any pattern's regex matches (group names
    dropped: they would clash), or None when that cannot be built safely."""
    regexes: list[re.Pattern[str]] = []
    for pattern in patterns:
        regex = getattr(pattern, "regex", None)
        if getattr(pattern, "include", None) is None or regex is None:
            continue  # a blank or comment line: pathspec skips it too
        if not isinstance(regex, re.Pattern) or not isinstance(regex.pattern, str):
            return None
        regexes.append(regex)
    if not regexes:
        return re.compile("(?!)")  # matches nothing
    flags = regexes[0].flags
    if any(r.flags != flags or "(?P=" in r.pattern or re.search(r"\\[1-9]", r.pattern) for r in regexes):
        return None  # back-references would change meaning once groups are renumbered
    try:
        return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', r.pattern)})" for r in regexes), flags)
    except re.error:
        return None


class _Ignores:
    """Stack of .gitignore matchers, each anchored at its directory."""

    def __init__(self, root: Path, excludes: Sequence[str], respect_gitignore: bool) -> None:
        self.root = root
        # Bare directory names ("venv/", "node_modules/") are most of the
        # excludes and match by name alone: a set lookup instead of ~30
        # regexes per path (a sixth of a warm scan's time on 6,000 files).
        self.dir_names = frozenset(p[:-1] for p in excludes if _plain_dir(p))
        self.exclude = _Spec([p for p in excludes if not _plain_dir(p)])
        self.respect_gitignore = respect_gitignore
        self.specs: dict[str, _Spec] = {}

    def load_dir(self, rel_dir: str, directory: Path) -> None:
        if not self.respect_gitignore:
            return
        gitignore = directory / ".gitignore"
        try:
            # A FIFO (or device) named .gitignore would block the read forever.
            if not stat.S_ISREG(gitignore.stat().st_mode):
                return
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.specs[rel_dir] = _Spec(lines)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        if is_dir and rel.rpartition("/")[2] in self.dir_names:
            return True
        probe = rel + "/" if is_dir else rel
        if self.exclude.match_file(probe):
            return True
        for base, spec in self._candidates(rel):
            if base == "":
                if spec.match_file(probe):
                    return True
            elif probe.startswith(base + "/") and spec.match_file(probe[len(base) + 1 :]):
                return True
        return False

    def _candidates(self, rel: str) -> Iterable[tuple[str, _Spec]]:
        """The loaded .gitignore files that may apply to `rel`: every one when they are
        fewer than its ancestors, else its ancestors' (thousands of .gitignore files, or
        a path thousands of directories deep, must not make each lookup quadratic)."""
        depth = rel.count("/") + 1
        if len(self.specs) <= depth:
            return self.specs.items()
        bases = [""] + [rel[:i] for i, ch in enumerate(rel) if ch == "/"]
        return [(base, self.specs[base]) for base in bases if base in self.specs]


def _default_excludes(excludes: Sequence[str]) -> list[str]:
    # Bare names like "venv" mean a directory of that name anywhere; a bare
    # ".env" must not hide the .env *file* the pool rules read.
    out: list[str] = []
    for pattern in excludes:
        if "*" in pattern or "/" in pattern or "." in pattern.strip("."):
            out.append(pattern)
        else:
            out.append(pattern + "/")
    return out


def discover(
    paths: Sequence[Path],
    root: Path,
    *,
    exclude: Sequence[str],
    extend_exclude: Sequence[str] = (),
    respect_gitignore: bool = True,
    max_file_bytes: int = 2_000_000,
) -> Discovery:
    walker = _Walker(root, _default_excludes([*exclude, *extend_exclude]), respect_gitignore, max_file_bytes)
    for path in paths:
        walker.visit_top(path)
    files = sorted({f.rel: f for f in walker.files}.values(), key=lambda f: f.rel)
    return Discovery(files=tuple(files), skipped=tuple(walker.skipped))


class _Walker:
    def __init__(self, root: Path, excludes: list[str], respect_gitignore: bool, max_bytes: int) -> None:
        self.root = root.resolve()
        self.ignores = _Ignores(self.root, excludes, respect_gitignore)
        self.max_bytes = max_bytes
        self.files: list[SourceFile] = []
        self.skipped: list[Diagnostic] = []
        self.seen_dirs: set[tuple[int, int]] = set()
        self.pending: list[tuple[Path, str]] = []  # directories still to walk

    def rel(self, path: Path) -> str:
        try:
            return printable(path.resolve().relative_to(self.root).as_posix())
        except ValueError:
            return printable(path.as_posix())

    def skip(self, rel: str, why: str) -> None:
        self.skipped.append(Diagnostic(kind="skipped", path=rel, message=why))

    def visit_top(self, path: Path) -> None:
        if path.is_dir():
            for parent in [*reversed(path.resolve().parents), path.resolve()]:
                # .gitignore files above the scanned dir (within the root) apply too
                if parent == self.root or self.root in parent.parents:
                    self.ignores.load_dir(self.rel(parent) if parent != self.root else "", parent)
            self.walk(path.resolve(), self.rel(path) if path.resolve() != self.root else "")
        elif path.is_file():
            # An explicitly named file is scanned even if excluded (as Ruff does without --force-exclude).
            self.add_file(str(path), path.name, self.rel(path), explicit=True)
        else:
            self.skip(printable(str(path)), "no such file or directory")

    def walk(self, directory: Path, rel_dir: str) -> None:
        # An explicit stack, not recursion: a tree thousands of directories deep
        # (PATH_MAX allows ~2,000 levels) must not raise RecursionError.
        self.pending.append((directory, rel_dir))
        while self.pending:
            self.walk_one(*self.pending.pop())

    def walk_one(self, directory: Path, rel_dir: str) -> None:
        try:
            st = directory.stat()
        except OSError as exc:
            self.skip(rel_dir or ".", f"cannot read directory: {exc.strerror}")
            return
        key = (st.st_dev, st.st_ino)
        if key in self.seen_dirs:
            self.skip(rel_dir, "symlink loop: directory already visited")
            return
        self.seen_dirs.add(key)
        if rel_dir:
            self.ignores.load_dir(rel_dir, directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.skip(rel_dir or ".", f"cannot read directory: {exc.strerror}")
            return
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            subdir = self.visit_entry(entry, rel_dir)
            if subdir is not None:
                subdirs.append(subdir)
        self.pending.extend(reversed(subdirs))  # popped in name order, as the recursion visited them

    def visit_entry(self, entry: os.DirEntry[str], rel_dir: str) -> tuple[Path, str] | None:
        """Record a file; return a directory still to walk."""
        rel = printable(f"{rel_dir}/{entry.name}" if rel_dir else entry.name)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir and classify(entry.name) is None:
            return None  # no front end reads it: not worth a .gitignore match
        if self.ignores.ignored(rel, is_dir):
            return None
        if entry.is_symlink():
            target = Path(entry.path).resolve()
            if not target.exists():
                return None  # dangling links are common in checkouts; nothing to scan
            if target != self.root and self.root not in target.parents:
                self.skip(rel, "symlink points outside the scanned tree")
                return None
        if is_dir:
            return Path(entry.path), rel
        self.add_file(entry.path, entry.name, rel, entry=entry)
        return None

    def add_file(
        self, location: str, name: str, rel: str, explicit: bool = False, entry: os.DirEntry[str] | None = None
    ) -> None:
        language = classify(name)
        if language is None:
            if explicit:
                self.skip(rel, "not a file type scaleaudit reads")
            return
        try:
            st = entry.stat() if entry is not None else os.stat(location)
        except OSError as exc:
            self.skip(rel, f"cannot stat: {exc.strerror}")
            return
        if not stat.S_ISREG(st.st_mode):
            self.skip(rel, "not a regular file")
            return
        if st.st_size > self.max_bytes:
            self.skip(rel, f"larger than max-file-bytes ({st.st_size:,} > {self.max_bytes:,} bytes)")
            return
        self.files.append(SourceFile(location, rel, language, st.st_size, st.st_mtime_ns))


def iter_languages(files: Sequence[SourceFile], *languages: str) -> Iterator[SourceFile]:
    return (f for f in files if f.language in languages)
