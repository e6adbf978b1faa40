"""How many processes a start command runs: gunicorn/uvicorn workers, PM2 instances."""

from __future__ import annotations

import re
import shlex
from typing import Any

_WORKER_FLAGS = {"-w", "--workers"}
_PM2_FLAGS = {"-i", "--instances"}


def _flag_value(tokens: list[str], flags: set[str]) -> str | None:
    for i, token in enumerate(tokens):
        name, eq, value = token.partition("=")
        if name in flags:
            if eq:
                return value
            if i + 1 < len(tokens):
                return tokens[i + 1]
    return None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and re.fullmatch(r"\d+", value) else None


def process_model(command: str, source: str) -> dict[str, Any] | None:
    """The `process-model` fact data for a start command, or None if it is not a server."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        tokens = command.split()
    words = {t.rsplit("/", 1)[-1] for t in tokens}
    short = command if len(command) <= 120 else command[:117] + "..."
    if words & {"gunicorn", "uvicorn", "hypercorn"}:
        workers = _int(_flag_value(tokens, _WORKER_FLAGS))
        return {"source": source, "workers": workers or 1, "instances": None, "mode": None, "command": short}
    if words & {"pm2", "pm2-runtime"}:
        value = _flag_value(tokens, _PM2_FLAGS)
        cluster = value is not None
        return {
            "source": source,
            "workers": None,
            "instances": _int(value) if value not in ("max", "0", "-1") else None,
            "mode": "cluster" if cluster else "fork",
            "command": short,
        }
    if words & {"node", "ts-node", "tsx", "npm", "yarn", "pnpm", "bun"}:
        return {"source": source, "workers": 1, "instances": None, "mode": "fork", "command": short}
    return None
