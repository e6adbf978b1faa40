"""Throwaway PostgreSQL and Redis servers for the live checks, started once per session.

PostgreSQL: `initdb` into a temp dir (as the `postgres` OS user when we are root,
because initdb refuses root), started on a free port with the settings the checks
need planted: max_connections=20, a small shared_buffers (so the cache-hit check has
real misses), pg_stat_statements preloaded and `log_statement=all` (so a test can
prove scaleaudit only reads). Two databases: `sick` with every problem planted and
`healthy` configured the way the checks recommend.

Redis: two `redis-server` subprocesses, `--save ''`, one left at the defaults a
check flags (no maxmemory, noeviction) and one configured well.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import need

PG_BIN = Path(os.environ.get("SCALEAUDIT_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "s3cr%t-pa55word"  # what the no-password-in-output test hunts for
QUOTED_PASSWORD = "s3cr%25t-pa55word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; drop to the postgres OS user.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass(frozen=True)
class PgServer:
    port: int
    datadir: Path
    log: Path

    def url(self, db: str = "sick", user: str = "postgres", password: bool = False) -> str:
        auth = f"{user}:{QUOTED_PASSWORD}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def statements_by(self, app: str, since: int = 0) -> list[str]:
        """Statements the server logged (log_statement=all) for sessions of `app`, after offset `since`."""
        out = []
        for record in self.log_text()[since:].split("@@")[1:]:
            name, _, rest = record.partition("|")
            match = re.search(r"LOG:\s+(?:statement|execute [^:]*): (.*)", rest, re.DOTALL)
            if name == app and match:
                out.append(match.group(1).strip())
        return out


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str | None = None

    @property
    def url(self) -> str:
        auth = f":{QUOTED_PASSWORD}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"


def _start_postgres(root: Path) -> PgServer:
    datadir, log = root / "data", root / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(datadir), "-A", "scram-sha-256", "-U", "postgres",
                      "--no-sync", "--pwfile", str(_pwfile(root))]),
        check=True, capture_output=True,
    )
    # Trust for the fixtures' own roles; `app` must send its password (the redaction tests).
    (datadir / "pg_hba.conf").write_text(
        "local all all trust\nhost all postgres,monitor,nobody 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    port = free_port()
    options = " ".join([
        f"-p {port}", "-c listen_addresses=127.0.0.1", f"-k {root}",
        "-c max_connections=20", "-c superuser_reserved_connections=3",
        "-c shared_buffers=16MB", "-c shared_preload_libraries=pg_stat_statements",
        "-c log_statement=all", "-c log_line_prefix='@@%a|%u|'", "-c fsync=off",
        "-c track_io_timing=on",
    ])
    subprocess.run(
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-o", options, "-w", "start"]),
        check=True, capture_output=True,
    )
    return PgServer(port=port, datadir=datadir, log=log)


def _pwfile(root: Path) -> Path:
    path = root / "pw"
    path.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def _stop_postgres(server: PgServer) -> None:
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(server.datadir), "-m", "immediate", "stop"]),
                   capture_output=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    need((PG_BIN / "initdb").exists(), f"PostgreSQL binaries not found in {PG_BIN}")
    libdir = subprocess.run([str(PG_BIN / "pg_config"), "--pkglibdir"], capture_output=True, text=True).stdout
    need(Path(libdir.strip(), "pg_stat_statements.so").exists(), "pg_stat_statements is not installed")
    root = Path(tempfile.mkdtemp(prefix="scaleaudit-pg-"))
    server = _start_postgres(root)
    try:
        from live.planting import plant_postgres

        plant_postgres(server)
        yield server
    finally:
        _stop_postgres(server)
        shutil.rmtree(root, ignore_errors=True)


def _start_redis(*args: str, password: str | None = None) -> tuple[subprocess.Popen[bytes], RedisServer]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", *args, *(["--requirepass", password] if password else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port, password=password)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return proc, RedisServer(port, password)


@pytest.fixture(scope="session")
def redis_servers() -> Iterator[tuple[RedisServer, RedisServer]]:
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    sick_proc, sick = _start_redis("--maxmemory-policy", "noeviction", "--slowlog-log-slower-than", "10000", password=PASSWORD)
    good_proc, good = _start_redis("--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru",
                                   "--latency-monitor-threshold", "100")
    try:
        from live.planting import plant_redis

        plant_redis(sick, good)
        yield sick, good
    finally:
        for proc in (sick_proc, good_proc):
            proc.terminate()
            proc.wait(timeout=10)
