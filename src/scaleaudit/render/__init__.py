"""Renderers: a ScanResult in, text out. They render; they decide nothing."""

from __future__ import annotations

from typing import Literal

Format = Literal["text", "json", "sarif", "github"]
FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github")
