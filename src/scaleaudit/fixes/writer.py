"""The safe-writing layer every fixer goes through, whatever the language.

Fixers never touch the disk. They read a `SourceText`, propose `TextEdit`s
(offsets into the text exactly as read), and this module does the rest:

* overlapping edits in one file are resolved (identical ones kept once) or
  refused with a reason — never spliced into each other, which is how
  Semgrep's autofix once corrupted code;
* the rewritten text must re-parse (a validator per file suffix; the
  TypeScript fixers register theirs for .ts/.js/.prisma/.env);
* a file that changed since it was read is not overwritten (content hash);
* writes are atomic (temp file in the same directory + os.replace) and keep
  the file's mode, its line endings (inserted "\\n" become "\\r\\n" in a CRLF
  file) and its UTF-8 BOM;
* diffs are unified diffs, coloured only when asked (the CLI asks on a TTY).
"""

from __future__ import annotations

import ast
import codecs
import difflib
import glob
import hashlib
import io
import os
import stat
import subprocess
import tempfile
import time
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BOM = "\ufeff"

# (text, path) -> None when the text parses, else a one-line reason.
Validator = Callable[[str, str], str | None]


class StaleFileError(Exception):
    """The file on disk is not the one the edits were computed for."""


@dataclass(frozen=True)
class TextEdit:
    """Replace text[start:end] with `text`; start == end is an insertion."""

    start: int
    end: int
    text: str
    rule: str = ""
    description: str = ""
    # Edits sharing a group stand or fall together: half of a rewrite (the
    # statement removed, the import not added) would leave a NameError.
    group: str = ""

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True)
class Refused:
    edit: TextEdit
    reason: str


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class SourceText:
    """A file's text as read, with what is needed to write it back faithfully."""

    path: Path
    rel: str
    text: str  # decoded, BOM stripped, line endings untouched
    newline: str = "\n"
    bom: bool = False
    sha: str = ""  # hash of the bytes read; "" for a file that does not exist yet
    exists: bool = True
    encoding: str = "utf-8"  # a Python file's PEP 263 declaration, written back in the same one
    _line_starts: list[int] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def read(cls, path: Path, rel: str) -> SourceText:
        """Raises UnicodeDecodeError (or LookupError, SyntaxError for a bad declaration)."""
        data = path.read_bytes()
        encoding = declared_encoding(data) if rel.endswith((".py", ".pyi")) else "utf-8"
        text = data.decode(encoding)
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        newline = "\r\n" if "\r\n" in text and text.count("\r\n") * 2 >= text.count("\n") else "\n"
        return cls(path, rel, text, newline, bom, digest(data), True, encoding)

    @classmethod
    def new(cls, path: Path, rel: str) -> SourceText:
        return cls(path, rel, "", "\n", False, "", False)

    def offset(self, line: int, column: int) -> int:
        """Offset of a 1-based line and 0-based column (libcst's convention)."""
        if not self._line_starts:
            starts = [0]
            starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
            self._line_starts.extend(starts)
        return self._line_starts[line - 1] + column


def resolve_overlaps(edits: Sequence[TextEdit]) -> tuple[list[TextEdit], list[Refused]]:
    """Keep edits in the order given (earlier = higher priority); refuse any that collide.

    Two insertions at one point both apply (in priority order). An identical
    edit proposed twice applies once. Anything else that touches a kept
    edit's range is refused — with every edit of its group: merging two
    rewrites of one region is how fixers produce broken code.
    """
    groups: dict[str, list[TextEdit]] = {}
    for index, edit in enumerate(edits):
        groups.setdefault(edit.group or f"#{index}", []).append(edit)
    kept: list[TextEdit] = []
    refused: list[Refused] = []
    for members in groups.values():
        reason = _group_clash(members, kept)
        if reason:
            refused.extend(Refused(edit, reason) for edit in members)
        else:
            kept.extend(edit for edit in members if edit not in kept)
    return kept, refused


def _group_clash(members: Sequence[TextEdit], kept: Sequence[TextEdit]) -> str:
    accepted: list[TextEdit] = []
    for edit in members:
        if edit.start > edit.end:
            return "invalid range"
        if edit in kept:
            continue
        clash = next((k for k in (*kept, *accepted) if _collide(k, edit)), None)
        if clash is not None:
            who = clash.rule or "another fix"
            return f"overlaps an edit of {who} ({clash.description or 'same region'})"
        accepted.append(edit)
    return ""


def _collide(a: TextEdit, b: TextEdit) -> bool:
    if a.is_insertion and b.is_insertion:
        return False
    if a.is_insertion:
        return b.start < a.start < b.end
    if b.is_insertion:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def apply_edits(source: SourceText, edits: Iterable[TextEdit]) -> str:
    """The text with non-overlapping `edits` applied (call resolve_overlaps first)."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[1].end, pair[0]))
    out: list[str] = []
    cursor = 0
    for _, edit in ordered:
        out.append(source.text[cursor : edit.start])
        out.append(_newlines(edit.text, source.newline))
        cursor = max(cursor, edit.end)
    out.append(source.text[cursor:])
    return "".join(out)


def line_edits(
    source: SourceText, new_text: str, *, rule: str = "", description: str = "", group: str = ""
) -> list[TextEdit]:
    """The change from `source.text` to `new_text` as whole-line edits, one per hunk.

    A fixer may rewrite a whole tree and still propose only the lines it
    changed, so fixes in other parts of the file do not look like overlaps.
    """
    old_lines = source.text.splitlines(keepends=True)
    new_lines = new_text.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    # Trim the unchanged head and tail first: among repeated identical lines (one client
    # assigned ten times) the matcher may place a one-line change on a neighbour, and
    # that hunk would then overlap the fix of the neighbour.
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    old_mid, new_mid = old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail]
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    return [
        TextEdit(starts[head + i1], starts[head + i2], "".join(new_mid[j1:j2]), rule, description, group)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _newlines(text: str, newline: str) -> str:
    if newline == "\n":
        return text
    return text.replace("\r\n", "\n").replace("\n", newline)


# --- validation ---------------------------------------------------------------


def _python_parses(text: str, path: str) -> str | None:
    try:
        ast.parse(text, filename=path)
    except SyntaxError as exc:
        return f"rewritten code does not parse: {exc.msg} (line {exc.lineno})"
    except ValueError as exc:  # null bytes
        return f"rewritten code does not parse: {exc}"
    return None


VALIDATORS: dict[str, Validator] = {".py": _python_parses, ".pyi": _python_parses}


# (text as read, rewritten text) -> final text: a language's clean-up after all
# fixes of a file are combined (Python: imports that only the removed code used).
Finisher = Callable[[str, str], str]
FINISHERS: dict[str, Finisher] = {}


def register_finisher(suffix: str, finisher: Finisher) -> None:
    FINISHERS[suffix] = finisher


def finish(rel: str, before: str, after: str) -> str:
    finisher = FINISHERS.get(Path(rel).suffix)
    return finisher(before, after) if finisher and before else after


def register_validator(suffix: str, validator: Validator) -> None:
    """Let another front end's fixers (TypeScript, .env, .prisma) check their output."""
    VALIDATORS[suffix] = validator


def validate(rel: str, text: str) -> str | None:
    """None when `text` is acceptable for `rel`; a file type without a validator passes."""
    validator = VALIDATORS.get(Path(rel).suffix) or VALIDATORS.get(Path(rel).name)
    return validator(text, rel) if validator else None


# --- writing ------------------------------------------------------------------


def declared_encoding(data: bytes) -> str:
    """The codec a Python file declares (`# -*- coding: latin-1 -*-`), utf-8 when none.

    `utf-8-sig` comes back as utf-8: the BOM is kept apart (SourceText.bom)."""
    name, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    name = codecs.lookup(name).name
    return "utf-8" if name in ("utf-8", "utf-8-sig") else name


def encode(source: SourceText, text: str) -> bytes:
    """Raises UnicodeEncodeError when a fix put in a character the file's encoding lacks."""
    return ((BOM if source.bom else "") + text).encode(source.encoding)


# A run killed between writing its temp file and renaming it leaves the temp file;
# the next write of that file sweeps it. Younger ones may belong to a run in progress.
STALE_TEMP_S = 600


def sweep_temps(path: Path, now: float | None = None) -> list[Path]:
    """Remove `.name.*.tmp` left beside `path` by a killed run (older than STALE_TEMP_S)."""
    cutoff = (time.time() if now is None else now) - STALE_TEMP_S
    removed = []
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if leftover.is_file() and not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
                removed.append(leftover)
        except OSError:
            continue  # not ours to fight over
    return removed


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write via a temp file in the same directory and os.replace: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def commit(source: SourceText, new_text: str) -> None:
    """Write `new_text` over `source.path` unless the file changed since it was read."""
    path = source.path
    if path.is_symlink():
        raise StaleFileError(f"{source.rel}: is a symbolic link; not overwritten")
    if source.exists:
        try:
            current = path.read_bytes()
        except OSError as exc:
            raise StaleFileError(f"{source.rel}: cannot re-read before writing: {exc.strerror}") from exc
        if digest(current) != source.sha:
            raise StaleFileError(f"{source.rel}: changed since it was scanned; not overwritten")
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    else:
        if path.exists():
            raise StaleFileError(f"{source.rel}: appeared since the scan; not overwritten")
        mode = None
    write_atomic(path, encode(source, new_text), mode)


# --- diffs and git ------------------------------------------------------------

_COLORS = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def render_diff(rel: str, before: str, after: str, *, color: bool = False, created: bool = False) -> str:
    """A unified diff of one file (`--- /dev/null` for a created file)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile="/dev/null" if created else f"a/{rel}",
        tofile=f"b/{rel}",
    )
    out: list[str] = []
    for line in lines:
        text = line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        text = text.replace("\r\n", "\n")
        if color:
            head = line[:3] in ("---", "+++")
            prefix = _BOLD if head else _COLORS.get(line[:1], "")
            text = f"{prefix}{text.rstrip(chr(10))}{_RESET}\n" if prefix else text
        out.append(text)
    return "".join(out)


def git_dirty(root: Path) -> list[str] | None:
    """Paths with uncommitted changes under `root`; None when it is not in a git work tree."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [line[3:] for line in proc.stdout.splitlines() if line.strip()]
