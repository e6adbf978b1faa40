"""Safe sessions to a user's production servers, and URL redaction.

A live check runs against production, so the session protects the server
from us: one connection, `default_transaction_read_only=on` (a write would
fail instead of happening), `statement_timeout` and `lock_timeout` so that no
catalog query can queue behind a lock or run away, a connect timeout, and
`application_name=scaleaudit` so a DBA sees who we are in pg_stat_activity.

Nothing printed may contain a password: `redact()` strips it from a URL and
`sanitize()` from any text a driver hands back (psycopg and redis-py
sometimes echo the DSN in their errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
import redis
from psycopg.rows import dict_row
from redis.backoff import NoBackoff
from redis.retry import Retry

from scaleaudit.config import CheckSettings


class LiveError(Exception):
    """The server could not be reached or the URL is wrong: one line, no password, exit 2."""


_KEYWORD_SECRET = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"((?:^|[?&;])(?:password|pass|pwd)=)[^&;]*", re.IGNORECASE)
# user:secret@ inside any URL-looking text an error message may carry
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)


def _netloc_without_password(parts: Any) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}{port}"


def redact(url: str) -> str:
    """`url` without its password (userinfo, `?password=` or `password=` keyword form)."""
    if "://" not in url:
        return _KEYWORD_SECRET.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        netloc = _netloc_without_password(parts)
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        return _USERINFO.sub(r"\1***@", _KEYWORD_SECRET.sub(r"\1***", url))
    query = _QUERY_SECRET.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def secrets_of(url: str) -> tuple[str, ...]:
    """The password in `url`, raw and percent-decoded, for scrubbing free text."""
    found: set[str] = set()
    if "://" in url:
        try:
            raw = urlsplit(url).netloc.rpartition("@")[0].partition(":")[2]
        except ValueError:
            raw = ""
        if raw:
            found |= {raw, unquote(raw)}
        for match in re.finditer(r"(?:password|pass|pwd)=([^&;]+)", url, re.IGNORECASE):
            found |= {match.group(1), unquote(match.group(1))}
    for match in _KEYWORD_SECRET.finditer(url):
        found.add(match.group(2).strip("'"))
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def sanitize(text: str, urls: Iterable[str | None]) -> str:
    """One line of `text` with every password from `urls` (and any URL userinfo) removed."""
    line = " ".join(str(text).split())
    for url in urls:
        if url:
            for secret in secrets_of(url):
                line = line.replace(secret, "***")
            line = line.replace(url, redact(url))
    line = _USERINFO.sub(r"\1***@", line)
    return _KEYWORD_SECRET.sub(r"\1***", line)


@dataclass(frozen=True)
class Target:
    """Where a live finding points: a stable, password-free pseudo path."""

    path: str
    display: str


def pg_target(conn: psycopg.Connection[Any]) -> Target:
    info = conn.info
    host = info.host if not info.host.startswith("/") else "localhost"
    path = f"postgresql://{host}:{info.port}/{info.dbname}"
    return Target(path=path, display=path)


def redis_target(client: redis.Redis) -> Target:
    kwargs = client.connection_pool.connection_kwargs
    host = kwargs.get("host") or kwargs.get("path") or "localhost"
    path = f"redis://{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
    return Target(path=path, display=path)


def connect_postgres(url: str, settings: CheckSettings) -> psycopg.Connection[dict[str, Any]]:
    """One autocommit, read-only, time-boxed session, or `LiveError`.

    Autocommit so a failed or cancelled catalog query does not poison the
    next check; read-only as the transaction default so every statement
    runs in a read-only transaction. The timeouts are SET after connecting
    (not passed as startup options) so that `pg_settings.reset_val` still
    shows the server's own defaults, which the timeout check judges.
    """
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=settings.connect_timeout_s,
            application_name="scaleaudit",
            options="-c default_transaction_read_only=on",
            row_factory=dict_row,
        )
    except (psycopg.Error, ValueError, OSError) as exc:
        raise LiveError(f"PostgreSQL {redact(url)}: {sanitize(str(exc), [url])}") from None
    try:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{settings.statement_timeout_ms}ms",))
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{settings.lock_timeout_ms}ms",))
    except psycopg.Error as exc:
        conn.close()
        raise LiveError(f"PostgreSQL {redact(url)}: {sanitize(str(exc), [url])}") from None
    return conn


def connect_redis(url: str, settings: CheckSettings) -> redis.Redis:
    """A single-connection client with connect and read timeouts, pinged, or `LiveError`."""
    timeout = settings.connect_timeout_s
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=max(timeout, settings.statement_timeout_ms / 1000),
            client_name="scaleaudit",
            decode_responses=True,
            max_connections=1,
            retry_on_timeout=False,
            retry=Retry(NoBackoff(), 0),  # one attempt: a probe must fail fast, not back off
        )
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise LiveError(f"Redis {redact(url)}: {sanitize(str(exc) or type(exc).__name__, [url])}") from None
    return client
