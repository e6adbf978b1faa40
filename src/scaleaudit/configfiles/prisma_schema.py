"""A small parser for Prisma schema files (models, fields, attributes, datasource).

No maintained Python parser exists (the official one is Rust, shipped to
Node as WebAssembly), and we need only the declarative subset: blocks
(`datasource`, `generator`, `model`, `enum`, `view`, `type`), fields with
their type, `?`/`[]` modifiers and attributes, and block attributes
(`@@index`, `@@unique`, `@@id`, `@@map`). Comments and string literals are
handled; anything unrecognised is skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BLOCK = re.compile(r"^\s*(model|datasource|generator|enum|view|type)\s+(\w+)\s*\{\s*$")
_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(\?)?(?:\s+(.*))?$")
_ATTR = re.compile(r"@@?[\w.]+")
_KV = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$")


@dataclass(frozen=True)
class Attribute:
    name: str  # "id", "unique", "relation", "@index", "@map", ...
    args: str  # the text between the parentheses, "" when none


@dataclass
class PrismaField:
    name: str
    type: str
    line: int
    is_list: bool = False
    optional: bool = False
    attributes: list[Attribute] = field(default_factory=list)

    def attr(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def column(self) -> str:
        mapped = self.attr("map")
        return (_first_string(mapped.args) if mapped else None) or self.name

    @property
    def relation_fields(self) -> list[str]:
        rel = self.attr("relation")
        return list_arg(rel.args, "fields") if rel else []


@dataclass
class PrismaModel:
    name: str
    line: int
    end_line: int = 0
    fields: list[PrismaField] = field(default_factory=list)
    block_attributes: list[tuple[Attribute, int]] = field(default_factory=list)

    @property
    def table(self) -> str:
        for attr, _ in self.block_attributes:
            if attr.name == "@map" and _first_string(attr.args):
                return _first_string(attr.args) or self.name
        return self.name

    def field(self, name: str) -> PrismaField | None:
        return next((f for f in self.fields if f.name == name), None)

    def index_columns(self) -> list[list[str]]:
        """Every index's field list, leftmost first: @id, @unique, @@id, @@unique, @@index."""
        out: list[list[str]] = []
        for f in self.fields:
            if f.attr("id") or f.attr("unique"):
                out.append([f.name])
        for attr, _ in self.block_attributes:
            if attr.name in ("@index", "@unique", "@id"):
                cols = list_arg(attr.args, "fields") or _positional_list(attr.args)
                if cols:
                    out.append(cols)
        return out

    def covered(self, columns: list[str]) -> bool:
        """An index whose leading columns are exactly `columns` (in any order) serves lookups on them."""
        want = set(columns)
        return any(set(cols[: len(columns)]) == want for cols in self.index_columns())


@dataclass
class Datasource:
    name: str
    line: int
    provider: str = ""
    url_env: str = ""
    url_literal: str = ""
    url_line: int = 0
    relation_mode: str = ""


@dataclass
class PrismaSchema:
    models: list[PrismaModel] = field(default_factory=list)
    datasources: list[Datasource] = field(default_factory=list)
    enums: set[str] = field(default_factory=set)

    def model(self, name: str) -> PrismaModel | None:
        return next((m for m in self.models if m.name == name), None)


def _strip_comment(line: str) -> str:
    out, quote = [], False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quote = not quote
        if not quote and line.startswith("//", i):
            break
        out.append(ch)
        i += 1
    return "".join(out).rstrip()


def _first_string(args: str) -> str | None:
    match = re.search(r'"((?:[^"\\]|\\.)*)"', args)
    return match.group(1) if match else None


def _positional_list(args: str) -> list[str]:
    match = re.match(r"\s*\[([^\]]*)\]", args)
    return _names(match.group(1)) if match else []


def _names(inner: str) -> list[str]:
    # `[a, b(sort: Desc), c(ops: raw("x"))]` -> a, b, c
    depth = 0
    current: list[str] = []
    out: list[str] = []
    for ch in inner:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return [n.split("(")[0].strip() for n in out if n.strip()]


def list_arg(args: str, key: str) -> list[str]:
    match = re.search(rf"\b{key}\s*:\s*\[([^\]]*)\]", args)
    return _names(match.group(1)) if match else []


def parse_attributes(text: str) -> list[Attribute]:
    """`@id @default(uuid()) @map("x")` -> attributes with their balanced argument text."""
    out: list[Attribute] = []
    pos = 0
    while True:
        match = _ATTR.search(text, pos)
        if match is None:
            return out
        name = match.group(0)[1:]
        pos = match.end()
        args = ""
        if pos < len(text) and text[pos] == "(":
            depth, start = 0, pos
            while pos < len(text):
                if text[pos] == "(":
                    depth += 1
                elif text[pos] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                elif text[pos] == '"':
                    end = text.find('"', pos + 1)
                    pos = end if end != -1 else len(text)
                pos += 1
            args = text[start + 1 : pos]
            pos += 1
        out.append(Attribute(name, args))


def parse_schema(source: str) -> PrismaSchema:
    schema = PrismaSchema()
    kind = ""
    model: PrismaModel | None = None
    source_block: Datasource | None = None
    for number, raw in enumerate(source.splitlines(), 1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        if not kind:
            match = _BLOCK.match(line)
            if match:
                kind = match.group(1)
                if kind in ("model", "view"):
                    model = PrismaModel(match.group(2), number)
                    schema.models.append(model)
                elif kind == "datasource":
                    source_block = Datasource(match.group(2), number)
                    schema.datasources.append(source_block)
                elif kind in ("enum", "type"):
                    schema.enums.add(match.group(2))
            continue
        if line.strip() == "}":
            if model is not None:
                model.end_line = number
            kind, model, source_block = "", None, None
            continue
        if model is not None:
            _model_line(model, line, number)
        elif source_block is not None:
            _datasource_line(source_block, line, number)
    return schema


def _model_line(model: PrismaModel, line: str, number: int) -> None:
    stripped = line.strip()
    if stripped.startswith("@@"):
        for attr in parse_attributes(stripped):
            model.block_attributes.append((attr, number))
        return
    match = _FIELD.match(line)
    if match:
        name, type_, is_list, optional, rest = match.groups()
        model.fields.append(
            PrismaField(name, type_, number, bool(is_list), bool(optional), parse_attributes(rest or ""))
        )


def _datasource_line(block: Datasource, line: str, number: int) -> None:
    match = _KV.match(line)
    if not match:
        return
    key, value = match.groups()
    if key == "provider":
        block.provider = _first_string(value) or ""
    elif key == "relationMode" or key == "referentialIntegrity":
        block.relation_mode = _first_string(value) or ""
    elif key == "url":
        env = re.match(r'env\(\s*"([^"]+)"\s*\)', value)
        if env:
            block.url_env = env.group(1)
        else:
            block.url_literal = _first_string(value) or ""
        block.url_line = number


_GENERATOR = re.compile(r"^\s*generator\s+\w+\s*\{(.*?)^\s*\}", re.M | re.S)
_JS_CLIENT_PROVIDERS = frozenset({"prisma-client-js", "prisma-client"})


def client_outputs(source: str) -> list[str]:
    """The `output` of every JS/TS client generator, as written (relative to the schema file).

    Only the JavaScript client generators count: `prisma-dbml-generator` and
    friends also take an `output`, but nothing there exports a PrismaClient.
    """
    outputs: list[str] = []
    for block in _GENERATOR.finditer(source):
        settings: dict[str, str] = {}
        for raw in block.group(1).splitlines():
            match = _KV.match(_strip_comment(raw))
            if match:
                settings[match.group(1)] = _first_string(match.group(2)) or ""
        if settings.get("provider") in _JS_CLIENT_PROVIDERS and settings.get("output"):
            outputs.append(settings["output"])
    return outputs
