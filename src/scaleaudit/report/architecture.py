"""What the app is built from, read off the facts every front end emits (file:line evidence).

Only facts: the Python rules' `http-app`, `socketio-server`, `object-storage`,
`local-upload`, `error-tracking`, `process-model`, `state-store`, the clients'
`client-site`, the TypeScript front end's `js-feature`, Prisma's
`prisma-datasource` and the config files' `database-url`. Nothing is guessed
from file names; an aspect with no fact says "not detected".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from scaleaudit.model import Fact
from scaleaudit.report.model import ArchitectureItem, Evidence

MAX_EVIDENCE = 3
_JS_FRAMEWORKS = {"express-app": "Express"}
_SERVICES = {"postgres": "PostgreSQL", "sql": "SQL database", "mongodb": "MongoDB", "redis": "Redis", "s3": "S3"}
_SCHEMES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "mongodb": "MongoDB",
    "mongodb+srv": "MongoDB",
}


def _evidence(facts: Iterable[Fact], note: Callable[[Fact], str] = lambda f: "") -> tuple[Evidence, ...]:
    ordered = sorted(facts, key=lambda f: (f.location.path, f.location.span.line))
    seen: set[tuple[str, int]] = set()
    out: list[Evidence] = []
    for fact in ordered:
        key = (fact.location.path, fact.location.span.line)
        if key not in seen:
            seen.add(key)
            out.append(Evidence(fact.location.path, fact.location.span.line, note(fact)))
    return tuple(out[:MAX_EVIDENCE])


def _item(
    aspect: str, pairs: Sequence[tuple[str, Fact]], note: Callable[[Fact], str] = lambda f: ""
) -> ArchitectureItem:
    """pairs: (label, fact); the value lists each label once, in order of first appearance."""
    if not pairs:
        return ArchitectureItem(aspect, "not detected")
    labels = list(dict.fromkeys(label for label, _ in pairs))
    return ArchitectureItem(aspect, ", ".join(labels), _evidence((f for _, f in pairs), note))


def _kind(facts: Sequence[Fact], kind: str) -> list[Fact]:
    return [f for f in facts if f.kind == kind and not _is_test(f.location.path)]


def _is_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path.startswith(("tests/", "test/")) or "/tests/" in path or name.startswith("test_") or ".test." in name


def _feature(facts: Sequence[Fact], *features: str) -> list[Fact]:
    return [f for f in _kind(facts, "js-feature") if f.get("feature") in features]


def web_frameworks(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [(str(f.get("framework")), f) for f in _kind(facts, "http-app")]
    pairs += [(_JS_FRAMEWORKS[str(f.get("feature"))], f) for f in _feature(facts, *_JS_FRAMEWORKS)]
    return _item("web framework", pairs)


def _clients(facts: Sequence[Fact], *services: str) -> list[Fact]:
    return [f for f in _kind(facts, "client-site") if f.get("service") in services]


def orm(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [(str(f.get("library")), f) for f in _clients(facts, "postgres", "sql", "mongodb")]
    return _item("ORM / driver", pairs, lambda f: str(f.get("qualname") or ""))


def database(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [
        (_SCHEMES.get(str(f.get("provider")), str(f.get("provider"))), f) for f in _kind(facts, "prisma-datasource")
    ]
    pairs += [
        (_SCHEMES[str(f.get("scheme"))], f) for f in _kind(facts, "database-url") if str(f.get("scheme")) in _SCHEMES
    ]
    if not pairs:
        pairs = [(_SERVICES[str(f.get("service"))], f) for f in _clients(facts, "postgres", "sql", "mongodb")]
    return _item("database", pairs)


def cache(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [(f"Redis ({f.get('library')})", f) for f in _clients(facts, "redis")]
    pairs += [(f"{f.get('framework')} {f.get('kind')}: {f.get('backend')}", f) for f in _kind(facts, "state-store")]
    return _item("cache / sessions", pairs)


def realtime(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [
        (f"{f.get('library')}" + (" (message queue)" if f.get("queue") else " (no message queue)"), f)
        for f in _kind(facts, "socketio-server")
    ]
    pairs += [("Socket.IO (Node)", f) for f in _feature(facts, "socket-io-server")]
    pairs += [("Socket.IO adapter", f) for f in _feature(facts, "socket-io-adapter")]
    return _item("realtime", pairs)


def storage(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [
        (str(f.get("provider")).upper() if f.get("provider") == "s3" else str(f.get("provider")), f)
        for f in _kind(facts, "object-storage")
    ]
    pairs += [("S3", f) for f in _clients(facts, "s3")]
    pairs += [("local disk", f) for f in _kind(facts, "local-upload")]
    return _item("file storage", pairs)


def process_model(facts: Sequence[Fact]) -> ArchitectureItem:
    def label(f: Fact) -> str:
        parts = [str(f.get("source"))]
        if f.get("workers") is not None:
            parts.append(f"{f.get('workers')} worker(s)")
        if f.get("instances") is not None:
            parts.append(f"{f.get('instances')} instance(s)")
        if f.get("mode"):
            parts.append(str(f.get("mode")))
        return " ".join(parts[:1]) + (f" ({', '.join(parts[1:])})" if parts[1:] else "")

    return _item("process model", [(label(f), f) for f in _kind(facts, "process-model")])


def monitoring(facts: Sequence[Fact]) -> ArchitectureItem:
    pairs = [(str(f.get("provider")), f) for f in _kind(facts, "error-tracking")]
    pairs += [("error tracking (Node)", f) for f in _feature(facts, "error-tracking")]
    return _item("monitoring / error tracking", pairs, lambda f: str(f.get("how") or ""))


def detect(facts: Sequence[Fact]) -> tuple[ArchitectureItem, ...]:
    return tuple(
        fn(facts) for fn in (web_frameworks, orm, database, cache, realtime, storage, process_model, monitoring)
    )
