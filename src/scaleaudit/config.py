"""Settings from `[tool.scaleaudit]` in pyproject.toml or `scaleaudit.yaml`.

Every key is validated: an unknown key or rule selector is a `ConfigError`
(the CLI turns it into a one-line message and exit 2), because a typo that is
silently ignored is a rule the user thinks is on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from scaleaudit.model import Confidence, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


class ConfigError(Exception):
    """Bad configuration or flags: reported in one line, exit code 2."""


CONFIG_FILES = ("scaleaudit.yaml", ".scaleaudit.yaml", "pyproject.toml")

# Directories never worth scanning: environments, dependencies, build output,
# caches and vendored code. `exclude` in the config replaces this list,
# `extend-exclude` adds to it.
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".env",
    ".tox",
    ".nox",
    "__pypackages__",
    "site-packages",
    "node_modules",
    "bower_components",
    "build",
    "dist",
    ".next",
    ".nuxt",
    "out",
    "coverage",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    ".scaleaudit_cache",
    "vendor",
    "vendored",
    "third_party",
    "_vendor",
    "*.min.js",
    "*.bundle.js",
    "*.d.ts",
)


@dataclass(frozen=True)
class Capacity:
    """What the pool formula needs; see docs/capacity.md."""

    workers: int | None = None  # processes per instance
    instances: int | None = None
    max_connections: int | None = None  # the server's max_connections
    reserved_connections: int = 10  # superuser/maintenance/migrations headroom
    target_users: int = 1000


@dataclass(frozen=True)
class CheckSettings:
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    connect_timeout_s: int = 5
    redis_sample: int = 1000
    thresholds: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FixSettings:
    shared_module: str | None = None
    ts_shared_module: str | None = None
    # write migration files for index fixes (Django AddIndexConcurrently, Alembic
    # create_index(postgresql_concurrently=True)) instead of only printing the SQL
    migrations: bool = False


@dataclass(frozen=True)
class Settings:
    root: Path
    config_path: Path | None = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    jobs: int = 0  # 0: one per core
    fail_on: Severity = Severity.HIGH
    min_confidence: Confidence = Confidence.MEDIUM
    max_file_bytes: int = 2_000_000
    cache_dir: str = ".scaleaudit_cache"
    extra_clients: tuple[Mapping[str, Any], ...] = ()
    capacity: Capacity = field(default_factory=Capacity)
    check: CheckSettings = field(default_factory=CheckSettings)
    fix: FixSettings = field(default_factory=FixSettings)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_TOP_KEYS = {
    "select",
    "ignore",
    "per-file-ignores",
    "severity",
    "exclude",
    "extend-exclude",
    "respect-gitignore",
    "jobs",
    "fail-on",
    "min-confidence",
    "max-file-bytes",
    "cache-dir",
    "extra-clients",
    "capacity",
    "check",
    "fix",
}
_CAPACITY_KEYS = {"workers", "instances", "max-connections", "reserved-connections", "target-users"}
_CHECK_KEYS = {"statement-timeout-ms", "lock-timeout-ms", "connect-timeout-s", "redis-sample", "thresholds"}
_FIX_KEYS = {"shared-module", "ts-shared-module", "migrations"}
_FIX_PATHS = ("shared-module", "ts-shared-module")


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above `start`, stopping at a repo root."""
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = candidate_dir / name
            if candidate.is_file() and _has_section(candidate):
                return candidate
        if (candidate_dir / ".git").exists():
            break
    return None


def _has_section(path: Path) -> bool:
    if path.name != "pyproject.toml":
        return True
    try:
        return "scaleaudit" in _read_toml(path).get("tool", {})
    except ConfigError:
        return True  # let load_settings report the broken file


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc


def read_config(path: Path) -> dict[str, Any]:
    if path.name.endswith(".toml"):
        raw: Any = _read_toml(path).get("tool", {}).get("scaleaudit", {})
    else:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{path}: cannot read config: {first}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the scaleaudit section must be a table/mapping")
    return raw


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{path}: `{key}` must be a list of strings")


def _int(path: Path, key: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{path}: `{key}` must be an integer >= {minimum}")
    return value


def _enum(path: Path, key: str, value: Any, kind: type[Severity] | type[Confidence]) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ConfigError(f"{path}: `{key}` must be one of {allowed}, not {value!r}") from None


def _check_keys(path: Path, section: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        where = f"[{section}]" if section else "the scaleaudit section"
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} in {where} (known: {', '.join(sorted(allowed))})")


def _section(path: Path, raw: Mapping[str, Any], key: str, allowed: set[str]) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: `{key}` must be a table/mapping")
    _check_keys(path, key, value, allowed)
    return value


def _capacity(path: Path, raw: Mapping[str, Any]) -> Capacity:
    sec = _section(path, raw, "capacity", _CAPACITY_KEYS)
    get = {k: _int(path, f"capacity.{k}", v, 1) for k, v in sec.items() if k != "reserved-connections"}
    reserved = _int(path, "capacity.reserved-connections", sec.get("reserved-connections", 10))
    return Capacity(
        workers=get.get("workers"),
        instances=get.get("instances"),
        max_connections=get.get("max-connections"),
        reserved_connections=reserved,
        target_users=get.get("target-users", 1000),
    )


def _check(path: Path, raw: Mapping[str, Any]) -> CheckSettings:
    sec = _section(path, raw, "check", _CHECK_KEYS)
    thresholds = sec.get("thresholds", {})
    if not isinstance(thresholds, Mapping) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in thresholds.values()
    ):
        raise ConfigError(f"{path}: `check.thresholds` must map names to numbers")
    defaults = CheckSettings()
    return CheckSettings(
        statement_timeout_ms=_int(
            path, "check.statement-timeout-ms", sec.get("statement-timeout-ms", defaults.statement_timeout_ms), 1
        ),
        lock_timeout_ms=_int(path, "check.lock-timeout-ms", sec.get("lock-timeout-ms", defaults.lock_timeout_ms), 1),
        connect_timeout_s=_int(
            path, "check.connect-timeout-s", sec.get("connect-timeout-s", defaults.connect_timeout_s), 1
        ),
        redis_sample=_int(path, "check.redis-sample", sec.get("redis-sample", defaults.redis_sample), 1),
        thresholds={str(k): float(v) for k, v in thresholds.items()},
    )


def _fix(path: Path, raw: Mapping[str, Any]) -> FixSettings:
    sec = _section(path, raw, "fix", _FIX_KEYS)
    for key in _FIX_PATHS:
        if key in sec and not isinstance(sec[key], str):
            raise ConfigError(f"{path}: `fix.{key}` must be a path string")
    migrations = sec.get("migrations", False)
    if not isinstance(migrations, bool):
        raise ConfigError(f"{path}: `fix.migrations` must be true or false")
    return FixSettings(
        shared_module=sec.get("shared-module"), ts_shared_module=sec.get("ts-shared-module"), migrations=migrations
    )


def parse_settings(root: Path, path: Path, raw: Mapping[str, Any]) -> Settings:
    _check_keys(path, "", raw, _TOP_KEYS)
    pfi = raw.get("per-file-ignores", {})
    if not isinstance(pfi, Mapping):
        raise ConfigError(f"{path}: `per-file-ignores` must map glob patterns to rule lists")
    sev = raw.get("severity", {})
    if not isinstance(sev, Mapping):
        raise ConfigError(f"{path}: `severity` must map rule selectors to severities")
    extra = raw.get("extra-clients", [])
    if not isinstance(extra, list) or not all(isinstance(e, Mapping) and {"qualname", "kind"} <= set(e) for e in extra):
        raise ConfigError(f"{path}: `extra-clients` entries need at least `qualname` and `kind`")
    base = Settings(root=root)
    return Settings(
        root=root,
        config_path=path,
        select=_strings(path, "select", raw.get("select", list(base.select))),
        ignore=_strings(path, "ignore", raw.get("ignore", [])),
        per_file_ignores={str(k): _strings(path, f"per-file-ignores.{k}", v) for k, v in pfi.items()},
        severity={str(k): _enum(path, f"severity.{k}", v, Severity) for k, v in sev.items()},
        exclude=_strings(path, "exclude", raw.get("exclude", list(base.exclude))),
        extend_exclude=_strings(path, "extend-exclude", raw.get("extend-exclude", [])),
        respect_gitignore=bool(raw.get("respect-gitignore", True)),
        jobs=_int(path, "jobs", raw.get("jobs", 0)),
        fail_on=_enum(path, "fail-on", raw.get("fail-on", base.fail_on.value), Severity),
        min_confidence=_enum(path, "min-confidence", raw.get("min-confidence", "medium"), Confidence),
        max_file_bytes=_int(path, "max-file-bytes", raw.get("max-file-bytes", base.max_file_bytes), 1),
        cache_dir=str(raw.get("cache-dir", base.cache_dir)),
        extra_clients=tuple(
            {**e, "library": e.get("library", "custom"), "service": e.get("service", "sql")} for e in extra
        ),
        capacity=_capacity(path, raw),
        check=_check(path, raw),
        fix=_fix(path, raw),
    )


def load_settings(root: Path, config: Path | None = None, *, isolated: bool = False) -> Settings:
    """Settings for a scan rooted at `root`; `config` overrides discovery."""
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"{config}: config file not found")
        return parse_settings(root, config, read_config(config))
    if isolated or os.environ.get("SCALEAUDIT_NO_CONFIG"):
        return Settings(root=root)
    found = find_config(root)
    if found is None:
        return Settings(root=root)
    return parse_settings(root, found, read_config(found))
