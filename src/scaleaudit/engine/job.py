"""What every worker needs to analyse a file: small, picklable, built once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scaleaudit import __version__
from scaleaudit.config import Settings
from scaleaudit.rulebook import ClientSpec, Rulebook, load_rulebook, parse_client
from scaleaudit.typescript.prisma_output import client_modules


@dataclass(frozen=True)
class Job:
    book: Rulebook
    options: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""  # identifies everything that changes per-file results

    @classmethod
    def from_settings(cls, settings: Settings) -> Job:
        book = load_rulebook()
        extra: dict[str, ClientSpec] = {}
        for entry in settings.extra_clients:
            spec = parse_client(entry, str(entry.get("language", "python")))
            extra[spec.qualname] = spec
        # Prisma generated to a custom `output`: TS imports of it are client imports
        prisma = client_modules(settings.root)
        options = {"extra_clients": extra, "capacity": settings.capacity, "prisma_client_modules": prisma}
        return cls(book=book, options=options, digest=_digest(book, settings, prisma))


def _digest(book: Rulebook, settings: Settings, prisma_client_modules: tuple[str, ...] = ()) -> str:
    # Rule text and catalogues change findings' messages; capacity changes the
    # proposed pool sizes; extra clients change detection.
    material = {
        "version": __version__,
        "rules": sorted((r.id, r.message, r.severity.value, r.confidence.value) for r in book.rules.values()),
        "clients": sorted(c.qualname + c.kind for c in book.clients),
        "extra": [sorted(e.items()) for e in settings.extra_clients],
        "capacity": repr(settings.capacity),
        "prisma_client_modules": list(prisma_client_modules),
    }
    return hashlib.sha256(json.dumps(material, default=str).encode()).hexdigest()[:16]
