"""Each Redis check against throwaway servers: planted cases fire, the well-configured server stays silent."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from live.conftest import _start_redis
from live.helpers import anchors, by_rule, run, skipped

pytestmark = pytest.mark.live

# Everything scaleaudit may send to a user's Redis (MONITOR shows each command).
READ_COMMANDS = {"INFO", "CONFIG", "SLOWLOG", "SCAN", "TYPE", "PTTL", "STRLEN", "LLEN", "HLEN", "SCARD", "ZCARD",
                 "XLEN", "MEMORY", "PING", "CLIENT", "AUTH", "HELLO", "SELECT"}


@contextlib.contextmanager
def throwaway(*args: str) -> Iterator[redis.Redis]:
    proc, server = _start_redis(*args)
    client = redis.Redis(port=server.port, decode_responses=True)
    try:
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def url_of(client: redis.Redis) -> str:
    return f"redis://127.0.0.1:{client.connection_pool.connection_kwargs['port']}/0"


def test_sick_redis_reports_every_planted_problem(redis_servers) -> None:
    sick, _ = redis_servers
    result = run(redis_url=sick.url)
    assert set(by_rule(result)) == {"SA650", "SA653", "SA655", "SA656", "SA657", "SA660"}
    assert anchors(result, "SA656") == {"key:queue:", "key:blob:"}
    assert "`session:*` (300)" in by_rule(result)["SA655"][0].message
    assert "EVAL" in by_rule(result)["SA657"][0].message
    assert all(f.location.path == f"redis://127.0.0.1:{sick.port}/0" for f in result.findings)


def test_healthy_redis_is_silent(redis_servers) -> None:
    _, good = redis_servers
    result = run(redis_url=good.url)
    assert result.findings == () and not skipped(result)


def test_evicted_keys() -> None:
    with throwaway("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru") as client:
        pipe = client.pipeline(transaction=False)
        for i in range(20_000):
            pipe.set(f"cache:{i}", "v" * 200)
        pipe.execute()
        found = by_rule(run(redis_url=url_of(client), select=["SA652"]))
        assert "allkeys-lru" in found["SA652"][0].message


def test_memory_near_maxmemory() -> None:
    with throwaway("--maxmemory", "4mb", "--maxmemory-policy", "noeviction") as client:
        with contextlib.suppress(redis.ResponseError):  # writes fail once full: that is the point
            for i in range(100_000):
                client.set(f"k:{i}", "v" * 500)
        assert anchors(run(redis_url=url_of(client), select=["SA651"]), "SA651") == {"memory-used"}
        client.flushall()
        assert run(redis_url=url_of(client), select=["SA650", "SA651"]).findings == ()


def test_rejected_connections() -> None:
    with throwaway("--maxclients", "2") as client:
        client.ping()
        port = client.connection_pool.connection_kwargs["port"]
        extra = [redis.Redis(port=port, retry=Retry(NoBackoff(), 0)) for _ in range(3)]
        for other in extra:
            with contextlib.suppress(redis.ConnectionError):
                other.ping()
        for other in extra:
            other.close()
        client.close()
        found = by_rule(run(redis_url=url_of(client), select=["SA654"]))
        assert found["SA654"][0].severity.value == "high"


def test_fragmentation_threshold() -> None:
    with throwaway() as client:
        url = url_of(client)
        # A fresh instance's ratio is high but meaningless: the 64 MB floor keeps it silent.
        assert run(redis_url=url, select=["SA658"]).findings == ()
        lowered = run(redis_url=url, select=["SA658"], thresholds={"redis-fragmentation-min-bytes": 0})
        assert anchors(lowered, "SA658") == {"fragmentation"}


def test_failed_snapshot() -> None:
    workdir = tempfile.mkdtemp(prefix="scaleaudit-redis-")
    with throwaway("--dir", workdir) as client:
        client.set("k", "v")
        assert run(redis_url=url_of(client), select=["SA659"]).findings == ()
        shutil.rmtree(workdir)  # the snapshot cannot be written any more
        client.bgsave()
        for _ in range(50):
            if client.info("persistence")["rdb_last_bgsave_status"] != "ok":
                break
            threading.Event().wait(0.1)
        assert anchors(run(redis_url=url_of(client), select=["SA659"]), "SA659") == {"persistence-failed"}


def test_blocked_config_falls_back_to_info() -> None:
    with throwaway("--rename-command", "CONFIG", "") as client:
        result = run(redis_url=url_of(client))
        assert "SA650" in by_rule(result)  # maxmemory read from INFO memory
        assert "CONFIG GET is not allowed" in skipped(result)["SA660"]


def test_only_read_commands_are_sent_and_never_keys(redis_servers) -> None:
    _, good = redis_servers
    seen: list[str] = []
    watcher = redis.Redis(port=good.port, decode_responses=True)
    ready, done = threading.Event(), threading.Event()

    def watch() -> None:
        with watcher.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                seen.append(event["command"])
                if "scaleaudit-done" in event["command"]:
                    return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    run(redis_url=good.url)
    redis.Redis(port=good.port).echo("scaleaudit-done")
    thread.join(timeout=10)
    done.set()
    names = {c.split(" ", 1)[0].strip('"').upper() for c in seen if "scaleaudit-done" not in c}
    assert "SCAN" in names and "INFO" in names
    assert names <= READ_COMMANDS, names - READ_COMMANDS
    assert "KEYS" not in names
