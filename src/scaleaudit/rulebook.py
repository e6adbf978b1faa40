"""Rule metadata and catalogues, loaded from the YAML under `rules/`.

A rule's user-facing text lives in `rules/<ID>.yaml`; its detection lives in a
module. Keeping text out of code lets the docs, `scaleaudit rules`, SARIF
`tool.driver.rules` and the report all come from one source.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scaleaudit.model import Category, Confidence, Finding, FixSafety, Location, Severity

if TYPE_CHECKING:
    from importlib.abc import Traversable

REQUIRED_KEYS = (
    "id",
    "name",
    "category",
    "severity",
    "confidence",
    "summary",
    "message",
    "why",
    "example",
    "use_instead",
    "fix_safety",
    "checklist",
)


# libyaml's C loader reads the ~70 rule files in a fifth of the pure-Python
# loader's time; it is safe (CSafeLoader) and every wheel of PyYAML ships it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RulebookError(Exception):
    """The shipped or user-supplied rule YAML is malformed."""


@dataclass(frozen=True)
class RuleMeta:
    id: str
    name: str
    category: Category
    severity: Severity
    confidence: Confidence
    summary: str
    message: str  # a str.format template filled by the rule
    why: str
    example: str
    use_instead: str
    fix_safety: FixSafety | None  # None: the rule has no automatic fix
    checklist: str
    languages: tuple[str, ...] = ("python",)
    precision: str = ""  # why the confidence is what it is
    fix: str = ""

    def finding(
        self,
        location: Location,
        *,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        related: tuple[Location, ...] = (),
        anchor: str = "",
        **values: Any,
    ) -> Finding:
        """A finding of this rule: its text from the YAML, the message filled with `values`.

        No `fix` parameter: `{fix}` is a message value of several rules (the remedy text), and
        a keyword of the same name here would swallow it."""
        return Finding(
            rule=self.id,
            name=self.name,
            category=self.category,
            severity=severity or self.severity,
            confidence=confidence or self.confidence,
            location=location,
            message=self.format(**values),
            checklist=self.checklist,
            related=related,
            anchor=anchor,
        )

    def format(self, **values: Any) -> str:
        try:
            return self.message.format(**values)
        except (KeyError, IndexError, ValueError) as exc:  # a YAML/code mismatch
            raise RulebookError(f"{self.id}: message template needs {exc}") from exc


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    number: int
    title: str
    review: str


@dataclass(frozen=True)
class ClientSpec:
    """One client constructor the rules recognise (from catalog/clients.yaml)."""

    qualname: str
    kind: str  # groups constructors that make the same kind of client
    library: str
    service: str  # postgres | redis | mongodb | sql | s3
    pool_args: tuple[str, ...] = ()
    health_args: tuple[str, ...] = ()
    # keyword -> values that mean "pooling deliberately off"
    pool_disabled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    url_arg: int | None = None  # positional index of the URL/DSN, if any
    shares_pool: str = ""  # keyword that hands in an existing pool (no new pool)
    pooled: bool = True  # False for a single connection (psycopg.connect)
    language: str = "python"


@dataclass(frozen=True)
class Rulebook:
    rules: Mapping[str, RuleMeta]
    checklist: Mapping[str, ChecklistItem]
    clients: tuple[ClientSpec, ...]
    raw_catalogues: Mapping[str, Any]

    def rule(self, rule_id: str) -> RuleMeta:
        return self.rules[rule_id]

    def lookup(self, selector: str) -> list[RuleMeta]:
        """Rules matched by an id ("SA101"), an id prefix ("SA1"), a name or a category."""
        sel = selector.strip()
        if sel.upper() == "ALL":
            return list(self.rules.values())
        return [
            meta
            for meta in self.rules.values()
            if meta.id == sel.upper()
            or meta.name == sel
            or meta.category.value == sel
            or (sel.upper().startswith("SA") and meta.id.startswith(sel.upper()))
        ]

    def clients_by_qualname(self, language: str = "python") -> dict[str, ClientSpec]:
        return {c.qualname: c for c in self.clients if c.language == language}


def _rules_dir() -> Traversable:
    packaged = resources.files("scaleaudit") / "_rules"
    if packaged.is_dir():
        return packaged
    # Editable installs and source checkouts: the YAML sits at the repo root.
    source = Path(__file__).resolve().parents[2] / "rules"
    if source.is_dir():
        return source
    raise RulebookError("rule metadata not found: the package is installed incompletely")


def _iter_yaml(directory: Traversable) -> Iterator[tuple[str, Any]]:
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")) and entry.is_file():
            try:
                yield entry.name, yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER)
            except yaml.YAMLError as exc:
                raise RulebookError(f"{entry.name}: invalid YAML: {exc}") from exc


def parse_rule(source: str, doc: Any) -> RuleMeta:
    if not isinstance(doc, dict):
        raise RulebookError(f"{source}: expected a mapping")
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise RulebookError(f"{source}: missing keys {', '.join(missing)}")
    try:
        fix_safety = FixSafety(doc["fix_safety"]) if doc["fix_safety"] not in (None, "none") else None
        return RuleMeta(
            id=str(doc["id"]),
            name=str(doc["name"]),
            category=Category(doc["category"]),
            severity=Severity(doc["severity"]),
            confidence=Confidence(doc["confidence"]),
            summary=str(doc["summary"]).strip(),
            message=str(doc["message"]).strip(),
            why=str(doc["why"]).strip(),
            example=str(doc["example"]).rstrip(),
            use_instead=str(doc["use_instead"]).rstrip(),
            fix_safety=fix_safety,
            checklist=str(doc["checklist"]),
            languages=tuple(doc.get("languages", ["python"])),
            precision=str(doc.get("precision", "")).strip(),
            fix=str(doc.get("fix", "")).strip(),
        )
    except ValueError as exc:
        raise RulebookError(f"{source}: {exc}") from exc


def parse_client(doc: Mapping[str, Any], language: str) -> ClientSpec:
    disabled = doc.get("pool_disabled") or {}
    return ClientSpec(
        qualname=str(doc["qualname"]),
        kind=str(doc["kind"]),
        library=str(doc["library"]),
        service=str(doc["service"]),
        pool_args=tuple(doc.get("pool_args", ())),
        health_args=tuple(doc.get("health_args", ())),
        pool_disabled={str(k): tuple(map(str, v)) for k, v in disabled.items()},
        url_arg=doc.get("url_arg"),
        shares_pool=str(doc.get("shares_pool", "")),
        pooled=bool(doc.get("pooled", True)),
        language=language,
    )


def parse_clients(catalogue: Any, extra: list[Mapping[str, Any]] | None = None) -> tuple[ClientSpec, ...]:
    specs: list[ClientSpec] = []
    for language, entries in (catalogue or {}).items():
        for entry in entries or ():
            specs.append(parse_client(entry, str(language)))
    for entry in extra or ():
        specs.append(parse_client(entry, str(entry.get("language", "python"))))
    return tuple(specs)


@functools.lru_cache(maxsize=1)
def load_rulebook() -> Rulebook:
    directory = _rules_dir()
    rules: dict[str, RuleMeta] = {}
    for name, doc in _iter_yaml(directory):
        meta = parse_rule(name, doc)
        if meta.id in rules:
            raise RulebookError(f"{name}: duplicate rule id {meta.id}")
        rules[meta.id] = meta
    catalogues = {name.rsplit(".", 1)[0]: doc for name, doc in _iter_yaml(directory / "catalog")}
    checklist = {
        str(item["key"]): ChecklistItem(
            key=str(item["key"]),
            number=int(item["number"]),
            title=str(item["title"]),
            review=str(item.get("review", "")),
        )
        for item in catalogues.get("checklist", {}).get("items", [])
    }
    for meta in rules.values():
        if meta.checklist not in checklist:
            raise RulebookError(f"{meta.id}: unknown checklist item {meta.checklist!r}")
    clients = parse_clients(catalogues.get("clients", {}).get("clients"))
    return Rulebook(rules=rules, checklist=checklist, clients=clients, raw_catalogues=catalogues)
