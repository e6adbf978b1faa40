"""Read-only checks against a live Redis (named to keep `import redis` meaning redis-py).

Only INFO, CONFIG GET (with a fallback to INFO where a managed service blocks
CONFIG), SLOWLOG GET, SCAN with COUNT up to a sample cap (never KEYS), TYPE,
PTTL, length commands and MEMORY USAGE with its default sampling. Slowlog
entries are reported by command name only: their arguments may be user data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import redis

from scaleaudit.live.base import Hit, Note, Skip, Thresholds
from scaleaudit.model import Severity

SCAN_COUNT = 200
_LENGTH = {"hash": "HLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD", "stream": "XLEN"}
_PREFIX = re.compile(r"^(.*[:/|])")


def key_prefix(key: str) -> str:
    """`cache:product:12` -> `cache:product:`; a key without a separator is its own prefix."""
    match = _PREFIX.match(key)
    return match.group(1) if match else re.sub(r"[0-9a-f-]{6,}$|\d+$", "", key) or key


@dataclass(frozen=True)
class SampledKey:
    key: str
    type: str
    ttl_ms: int  # -1: no expiry
    length: int  # elements (collections) or bytes (strings)
    memory: int  # MEMORY USAGE, 0 when unavailable

    @property
    def prefix(self) -> str:
        return key_prefix(self.key)


@dataclass
class RedisProbe:
    client: redis.Redis
    limits: Thresholds
    sample_cap: int
    notes: list[Note] = field(default_factory=list)
    _info: dict[str, Any] | None = None
    _config: dict[str, str] | None = None
    _config_error: str = ""
    _sample: list[SampledKey] | None = None

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = dict(self.client.info("everything"))
        return self._info

    def config(self, name: str) -> str | None:
        """A CONFIG GET value, or None where CONFIG is blocked (ElastiCache, Memorystore...)."""
        if self._config is None:
            try:
                raw = self.client.config_get("*")
                self._config = {str(k): str(v) for k, v in dict(raw).items()}
            except redis.ResponseError as exc:
                self._config, self._config_error = {}, str(exc).splitlines()[0]
        return self._config.get(name)

    def setting(self, name: str, info_key: str) -> str:
        value = self.config(name)
        if value is None:
            value = str(self.info.get(info_key, ""))
        return value

    @property
    def sample(self) -> list[SampledKey]:
        if self._sample is None:
            self._sample = list(_scan_sample(self.client, self.sample_cap))
        return self._sample


def _scan_sample(client: redis.Redis, cap: int) -> Iterator[SampledKey]:
    cursor, seen = 0, 0
    while seen < cap:
        cursor, keys = client.scan(cursor=cursor, count=SCAN_COUNT)
        batch = [k if isinstance(k, str) else k.decode(errors="replace") for k in keys][: cap - seen]
        seen += len(batch)
        yield from _describe(client, batch)
        if cursor == 0:
            break


def _describe(client: redis.Redis, keys: list[str]) -> Iterator[SampledKey]:
    if not keys:
        return
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.pttl(key)
    typed = pipe.execute()
    kinds = typed[0::2]
    pipe = client.pipeline(transaction=False)
    for key, kind in zip(keys, kinds, strict=True):
        pipe.execute_command(_LENGTH.get(kind, "STRLEN"), key)  # type: ignore[no-untyped-call]
        pipe.execute_command("MEMORY USAGE", key)  # type: ignore[no-untyped-call]  # default SAMPLES 5: bounded work per key
    sized = pipe.execute(raise_on_error=False)
    for i, key in enumerate(keys):
        length, memory = sized[2 * i], sized[2 * i + 1]
        yield SampledKey(
            key=key,
            type=str(kinds[i]),
            ttl_ms=int(typed[2 * i + 1]),
            length=length if isinstance(length, int) else 0,
            memory=memory if isinstance(memory, int) else 0,
        )


def _size(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GB"  # pragma: no cover


def check_maxmemory(p: RedisProbe) -> list[Hit]:
    maxmemory = int(p.setting("maxmemory", "maxmemory") or 0)
    used = int(p.info.get("used_memory", 0))
    if maxmemory == 0:
        policy = p.setting("maxmemory-policy", "maxmemory_policy")
        return [Hit("SA650", "maxmemory", {"used": _size(used), "policy": policy})]
    share = used / maxmemory
    if share < p.limits["redis-memory-used"]:
        return []
    return [Hit("SA651", "memory-used", {"used": _size(used), "max": _size(maxmemory), "share": f"{share:.0%}"})]


def check_evictions(p: RedisProbe) -> list[Hit]:
    evicted = int(p.info.get("evicted_keys", 0))
    if evicted == 0:
        return []
    policy = p.setting("maxmemory-policy", "maxmemory_policy")
    return [Hit("SA652", "evicted-keys", {"evicted": f"{evicted:,}", "policy": policy})]


def check_hit_rate(p: RedisProbe) -> list[Hit]:
    hits, misses = int(p.info.get("keyspace_hits", 0)), int(p.info.get("keyspace_misses", 0))
    total = hits + misses
    if total < p.limits["redis-hit-min-lookups"] or hits / total >= p.limits["redis-hit-rate"]:
        return []
    return [Hit("SA653", "hit-rate", {"rate": f"{hits / total:.0%}", "lookups": f"{total:,}"})]


def check_clients(p: RedisProbe) -> list[Hit]:
    connected = int(p.info.get("connected_clients", 0))
    maxclients = int(p.setting("maxclients", "maxclients") or 10000)
    rejected = int(p.info.get("rejected_connections", 0))
    share = connected / max(1, maxclients)
    if share < p.limits["redis-clients"] and rejected == 0:
        return []
    severity = Severity.HIGH if rejected else None
    return [Hit("SA654", "clients", {"connected": connected, "max": maxclients, "share": f"{share:.0%}",
                                     "rejected": f"{rejected:,}"}, severity=severity)]


def check_no_ttl(p: RedisProbe) -> list[Hit]:
    keys = expires = 0
    for name, value in p.info.items():
        if re.fullmatch(r"db\d+", name) and isinstance(value, dict):
            keys += int(value.get("keys", 0))
            expires += int(value.get("expires", 0))
    if keys < p.limits["redis-no-ttl-min-keys"]:
        return []
    share = (keys - expires) / keys
    if share <= p.limits["redis-no-ttl-share"]:
        return []
    without = Counter(k.prefix for k in p.sample if k.ttl_ms < 0)
    top = ", ".join(f"`{prefix}*` ({count})" for prefix, count in without.most_common(5)) or "none sampled"
    return [Hit("SA655", "keys-without-ttl",
                {"share": f"{share:.0%}", "keys": f"{keys:,}", "prefixes": top, "sampled": len(p.sample)})]


def check_big_keys(p: RedisProbe) -> list[Hit]:
    hits = []
    for key in p.sample:
        if key.type == "string":
            big = key.length > p.limits["redis-big-string-bytes"]
            what = f"{_size(key.length)} string"
        elif key.type == "hash":
            big = key.length > p.limits["redis-big-hash-fields"]
            what = f"hash of {key.length:,} fields"
        else:
            big = key.type in _LENGTH and key.length > p.limits["redis-big-collection"]
            what = f"{key.type} of {key.length:,} elements"
        if big:
            hits.append(Hit("SA656", f"key:{key.prefix}", {"key": key.key[:80], "what": what,
                                                           "memory": _size(key.memory)}))
    return hits


def check_slowlog(p: RedisProbe) -> list[Hit]:
    try:
        entries = p.client.slowlog_get(128)
    except redis.ResponseError as exc:
        reason = f"SLOWLOG is not allowed: {str(exc).splitlines()[0]}"
        raise Skip(reason, "allow SLOWLOG for the role (ACL +slowlog)") from None
    slow = [e for e in entries if int(e.get("duration", 0)) >= p.limits["redis-slowlog-us"]]
    if not slow:
        return []
    worst = max(slow, key=lambda e: int(e["duration"]))
    command = worst.get("command", b"")
    name = (command.decode(errors="replace") if isinstance(command, bytes) else str(command)).split(" ")[0].upper()
    return [Hit("SA657", "slowlog", {"count": len(slow), "command": name or "?",
                                     "ms": f"{int(worst['duration']) / 1000:.1f}"})]


def check_fragmentation(p: RedisProbe) -> list[Hit]:
    ratio = float(p.info.get("mem_fragmentation_ratio", 0) or 0)
    rss = int(p.info.get("used_memory_rss", 0))
    if rss < p.limits["redis-fragmentation-min-bytes"] or ratio <= p.limits["redis-fragmentation"]:
        return []
    return [Hit("SA658", "fragmentation", {"ratio": f"{ratio:.2f}", "rss": _size(rss)})]


def check_persistence(p: RedisProbe) -> list[Hit]:
    info = p.info
    failures = [name for name, key in (("RDB snapshot", "rdb_last_bgsave_status"),
                                       ("AOF write", "aof_last_write_status"),
                                       ("AOF rewrite", "aof_last_bgrewrite_status"))
                if str(info.get(key, "ok")) != "ok"]
    if failures:
        return [Hit("SA659", "persistence-failed", {"problem": f"the last {' and '.join(failures)} failed"})]
    if int(info.get("aof_enabled", 0)) or not p.setting("save", "save"):
        return []
    age_h = (int(info.get("server_time_usec", 0)) / 1e6 - int(info.get("rdb_last_save_time", 0))) / 3600
    if int(info.get("rdb_changes_since_last_save", 0)) and age_h > p.limits["redis-save-age-h"]:
        return [Hit("SA659", "persistence-stale", {"problem": f"the last snapshot is {age_h:.0f} h old"})]
    return []


def check_latency_monitor(p: RedisProbe) -> list[Hit]:
    value = p.config("latency-monitor-threshold")
    if value is None:
        raise Skip(f"CONFIG GET is not allowed ({p._config_error or 'blocked'})",
                   "read latency-monitor-threshold in your provider's parameter group")
    return [Hit("SA660", "latency-monitor", {})] if value == "0" else []


Check = Callable[[RedisProbe], list[Hit]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("SA650 SA651", check_maxmemory),
    ("SA652", check_evictions),
    ("SA653", check_hit_rate),
    ("SA654", check_clients),
    ("SA655", check_no_ttl),
    ("SA656", check_big_keys),
    ("SA657", check_slowlog),
    ("SA658", check_fragmentation),
    ("SA659", check_persistence),
    ("SA660", check_latency_monitor),
)
