"""Before/after helpers for the fixer tests, in the spirit of LibCST's CodemodTest."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conftest import write_tree

from scaleaudit import api
from scaleaudit.fixes.api import run_fix
from scaleaudit.fixes.base import FixResult

# Two SQLAlchemy 2.0 models with a many-to-one and its collection: the N+1 fixers' tests share them.
SA_MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        orders: Mapped[list["Order"]] = relationship(back_populates="user")


    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
        user: Mapped[User] = relationship(back_populates="orders")
    """
CONFIG = 'URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"\nREDIS_URL = "redis://127.0.0.1:6379/0"\n'


def dedent(files: Mapping[str, str]) -> dict[str, str]:
    return {rel: textwrap.dedent(code).lstrip("\n") for rel, code in files.items()}


def fix_tree(root: Path, files: Mapping[str, str], **options: Any) -> FixResult:
    """Write `files` (dedented) under `root`, run `fix --write`, return the result."""
    write_tree(root, dedent(files))
    settings = api.settings_for([root], isolated=True, **options.pop("settings", {}))
    return run_fix([root], settings, write=options.pop("write", True), use_cache=False, **options)


def assert_fixed(root: Path, before: Mapping[str, str], after: Mapping[str, str | None], **options: Any) -> FixResult:
    """Every file in `after` has exactly that text (None: the file must not exist)."""
    result = fix_tree(root, before, **options)
    for rel, expected in dedent({k: v for k, v in after.items() if v is not None}).items():
        assert (root / rel).read_text() == expected, f"{rel}:\n{(root / rel).read_text()}"
    for rel in (k for k, v in after.items() if v is None):
        assert not (root / rel).exists(), rel
    return result


def assert_idempotent(root: Path, **options: Any) -> None:
    settings = api.settings_for([root], isolated=True)
    again = run_fix([root], settings, write=True, use_cache=False, **options)
    assert not again.changes, [c.path for c in again.changes]


def run_python(root: Path, code: str) -> None:
    """Import the fixed project for real: the rewritten modules must still work together."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
