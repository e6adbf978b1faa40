"""Entry point for .env files, schema.prisma, compose YAML and Procfiles.

Emits facts for the project phase (`database-url`, `model`,
`prisma-datasource`, `process-model`) and the per-file SA411 findings of a
schema. Database URLs are never stored: a fact keeps the variable name,
scheme and parameter *names* only, because facts are cached on disk and can
be printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from scaleaudit.configfiles.prisma_schema import PrismaModel, PrismaSchema, parse_schema
from scaleaudit.configfiles.processes import process_model
from scaleaudit.engine.job import Job
from scaleaudit.model import Diagnostic, Fact, FileResult, Finding, Location, Span
from scaleaudit.suppress import parse_suppressions

POOL_PARAMS = ("connection_limit", "pool_timeout")
DB_SCHEMES = (
    "postgres",
    "postgresql",
    "mysql",
    "sqlserver",
    "cockroachdb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _loc(rel: str, line: int, text: str = "") -> Location:
    return Location(rel, Span(line, 1, line, max(1, len(text)) + 1))


def url_facts_data(var: str, rel: str, value: str) -> dict[str, Any] | None:
    """database-url data for a value that is a database URL; credentials never leave this function."""
    value = value.strip().strip("'\"")
    if "://" not in value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DB_SCHEMES:
        return None
    params = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return {
        "var": var,
        "file": rel,
        "scheme": scheme,
        "params": params,
        "has_pool_params": any(p in params for p in POOL_PARAMS),
    }


def analyze_env(rel: str, text: str) -> Iterator[Fact]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            continue
        value = match.group(2)
        if value[:1] not in ("'", '"'):
            value = value.split(" #", 1)[0]
        data = url_facts_data(match.group(1), rel, value)
        if data:
            yield Fact("database-url", _loc(rel, number, line), data)


def model_fact(rel: str, schema: PrismaSchema, model: PrismaModel) -> Fact:
    fks: dict[str, str] = {}
    for f in model.fields:
        target = schema.model(f.type)
        for name in f.relation_fields:
            fks[name] = target.table if target else f.type
    indexes = model.index_columns()
    fields = []
    for f in model.fields:
        target = schema.model(f.type)
        fields.append(
            {
                "name": f.name,
                "column": f.column,
                "type": f.type,
                "list": f.is_list,
                "relation": f.type if target is not None else "",
                # SA401 (Python's FK join) reads `fk_table` and would repeat SA411 with
                # Python advice; Prisma FKs are named under `references` instead.
                "fk_table": "",
                "references": fks.get(f.name, ""),
                "indexed": any(cols and cols[0] == f.name for cols in indexes),
                "unique": f.attr("unique") is not None,
                "pk": f.attr("id") is not None,
            }
        )
    span = Span(model.line, 1, model.end_line or model.line, 2)
    return Fact(
        "model",
        Location(rel, span),
        {"orm": "prisma", "name": model.name, "table": model.table, "fields": fields, "indexes": indexes},
    )


def _fk_needs_index(schema: PrismaSchema) -> bool:
    if not schema.datasources:
        return True
    source = schema.datasources[0]
    if source.provider == "mongodb":
        return False
    # MySQL/InnoDB indexes foreign keys itself, unless Prisma emulates relations.
    return not (source.provider == "mysql" and source.relation_mode != "prisma")


def missing_fk_indexes(rel: str, schema: PrismaSchema, job: Job) -> Iterator[Finding]:
    if not _fk_needs_index(schema):
        return
    meta = job.book.rule("SA411")
    for model in schema.models:
        for f in model.fields:
            columns = f.relation_fields
            if not columns or model.covered(columns):
                continue
            target = schema.model(f.type)
            yield meta.finding(
                Location(rel, Span(f.line, 1, f.line, 2)),
                anchor=f"{model.name}.{'+'.join(columns)}",
                model=model.name,
                fields=", ".join(columns),
                relation=f.name,
                target=target.name if target else f.type,
                table=model.table,
            )


def analyze_prisma(rel: str, text: str, job: Job) -> tuple[list[Finding], list[Fact]]:
    schema = parse_schema(text)
    facts = [model_fact(rel, schema, m) for m in schema.models]
    for source in schema.datasources:
        facts.append(
            Fact(
                "prisma-datasource",
                _loc(rel, source.line),
                {"provider": source.provider, "url_env": source.url_env, "relation_mode": source.relation_mode},
            )
        )
        if source.url_literal:
            data = url_facts_data("url", rel, source.url_literal)
            if data:
                facts.append(Fact("database-url", _loc(rel, source.url_line), data))
    return list(missing_fk_indexes(rel, schema, job)), facts


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1


def _environment(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    env = service.get("environment")
    if isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, str):
                yield str(key), value
    elif isinstance(env, list):
        for item in env:
            if isinstance(item, str) and "=" in item:
                key, _, value = item.partition("=")
                yield key, value


def _command_text(command: Any) -> str:
    # Scalars only: str() of a nested list or mapping built from YAML aliases
    # (a "billion laughs" file) expands exponentially and never returns.
    if isinstance(command, list):
        return " ".join(str(part) for part in command if isinstance(part, (str, int, float)))
    return command if isinstance(command, str) else ""


def analyze_compose(rel: str, text: str) -> list[Fact]:
    doc = yaml.safe_load(text)
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    facts: list[Fact] = []
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        for key, value in _environment(service):
            data = url_facts_data(key, rel, value)
            if data:
                facts.append(Fact("database-url", _loc(rel, _line_of(text, key)), data))
        deploy = service.get("deploy") if isinstance(service.get("deploy"), dict) else {}
        replicas = deploy.get("replicas") if isinstance(deploy, dict) else None
        command = service.get("command")
        command_text = _command_text(command)
        model = process_model(command_text, "compose") if command_text else None
        if model is None and isinstance(replicas, int):
            model = {"source": "compose", "workers": None, "instances": None, "mode": None, "command": ""}
        if model is not None:
            if isinstance(replicas, int):
                model["instances"] = replicas
            model["service"] = str(name)
            facts.append(Fact("process-model", _loc(rel, _line_of(text, f"{name}:")), model))
    return facts


def analyze_procfile(rel: str, text: str) -> list[Fact]:
    facts: list[Fact] = []
    for number, line in enumerate(text.splitlines(), 1):
        kind, sep, command = line.partition(":")
        if not sep or line.lstrip().startswith("#"):
            continue
        model = process_model(command.strip(), "procfile")
        if model is not None:
            model["service"] = kind.strip()
            facts.append(Fact("process-model", _loc(rel, number, line), model))
    return facts


def analyze(rel: str, data: bytes, job: Job) -> FileResult:
    name = rel.rsplit("/", 1)[-1]
    language = _language(name)
    text = data.decode("utf-8", "replace")
    findings: list[Finding] = []
    facts: list[Fact] = []
    try:
        if language == "env":
            facts = list(analyze_env(rel, text))
        elif language == "prisma":
            findings, facts = analyze_prisma(rel, text, job)
        elif language == "yaml":
            facts = analyze_compose(rel, text)
        else:
            facts = analyze_procfile(rel, text)
    except RecursionError:  # PyYAML recurses per level of a flow collection: `[[[[…` past ~1,000 levels
        return FileResult(
            rel, language, _lines(data), diagnostics=(Diagnostic("parse-error", rel, "YAML nested too deeply"),)
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return FileResult(
            rel, language, _lines(data), diagnostics=(Diagnostic("parse-error", rel, "invalid YAML", line),)
        )
    return FileResult(rel, language, _lines(data), tuple(findings), tuple(facts), (), parse_suppressions(data))


def _language(name: str) -> str:
    if name == ".env" or name.startswith(".env."):
        return "env"
    if name.endswith(".prisma"):
        return "prisma"
    if name == "Procfile":
        return "procfile"
    return "yaml"
