"""Option parsing shared by subcommands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scaleaudit import api
from scaleaudit.cli import UserError
from scaleaudit.model import Confidence, Severity

if TYPE_CHECKING:
    from scaleaudit.config import Settings


def split_list(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """`--select A,B --select C` -> ("A", "B", "C")."""
    if not values:
        return None
    return tuple(s.strip() for v in values for s in v.split(",") if s.strip())


def parse_severity(value: str | None) -> Severity | None:
    if value is None:
        return None
    try:
        return Severity(value.lower())
    except ValueError:
        raise UserError(f"--fail-on must be one of {', '.join(s.value for s in Severity)}, not {value!r}") from None


def parse_confidence(value: str | None) -> Confidence | None:
    if value is None:
        return None
    try:
        return Confidence(value.lower())
    except ValueError:
        allowed = ", ".join(c.value for c in Confidence)
        raise UserError(f"--min-confidence must be one of {allowed}, not {value!r}") from None


def flag_settings(
    targets: Sequence[Path],
    config: Path | None,
    *,
    isolated: bool,
    select: Sequence[str] | None,
    ignore: Sequence[str] | None,
    min_confidence: str | None,
    fail_on: str | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from the config file, overridden by the flags scan, fix and check share."""
    return api.settings_for(
        targets,
        config,
        isolated=isolated,
        select=split_list(select),
        ignore=split_list(ignore),
        fail_on=parse_severity(fail_on),
        min_confidence=parse_confidence(min_confidence),
        **overrides,
    )


def parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        index, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise UserError(f"--shard takes INDEX/COUNT such as 0/4, not {value!r}") from None
    if total < 1 or not 0 <= index < total:
        raise UserError(f"--shard {value}: INDEX must be in 0..COUNT-1")
    return index, total


def color_wanted(no_color: bool, stream: TextIO) -> bool | None:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return True if os.environ.get("FORCE_COLOR") else (None if stream.isatty() else False)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A transient bar on stderr, only on a terminal; never in machine output."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    # rich is imported only for a terminal: a tenth of a warm scan's time otherwise.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    with Progress(
        TextColumn(f"[bold]{label}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write output: {exc.strerror}") from exc
    with handle:
        yield handle
