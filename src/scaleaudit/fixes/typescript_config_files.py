"""SA104 and SA411 fixes: pool parameters in .env.example, @@index lines in schema.prisma.

* SA104: `connection_limit` and `pool_timeout` (from the capacity plan) are
  appended to the flagged database URL in `.env.example`-style templates,
  keeping the quotes, the existing query string and any trailing comment.
  Real `.env` files are never edited: they hold secrets and differ per
  deployment; the finding stays for the user to copy the change.
* SA411: `@@index([fields])` is added at the end of the model. Safe for the
  schema file, but the index exists only after a migration
  (`prisma migrate dev`); on a large table build it concurrently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scaleaudit.configfiles.prisma_schema import parse_schema
from scaleaudit.fixes.base import FixContext, Proposal, Skipped, key_of
from scaleaudit.fixes.writer import SourceText, TextEdit, register_validator
from scaleaudit.model import Finding

TEMPLATE_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults")
_ENV_ASSIGN = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*)(.*)$")
MIGRATION_NOTE = (
    "the index is created by the next migration (`prisma migrate dev`); nothing changes in the database until then"
)


def env_parses(source: str, rel: str) -> str | None:
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _ENV_ASSIGN.match(line):
            return f"line {number} is not KEY=VALUE"
    return None


def prisma_parses(source: str, rel: str) -> str | None:
    depth = 0
    for number, line in enumerate(source.splitlines(), 1):
        code = line.split("//", 1)[0]
        depth += code.count("{") - code.count("}")
        if depth < 0:
            return f"unbalanced braces at line {number}"
    return None if depth == 0 else "unbalanced braces"


for _name in (".env", *TEMPLATE_NAMES):
    register_validator(_name, env_parses)
register_validator(".prisma", prisma_parses)


def _line_span(source: SourceText, line: int) -> tuple[int, int]:
    start = source.offset(line, 0)
    end = source.text.find("\n", start)
    end = len(source.text) if end == -1 else end
    if end > start and source.text[end - 1] == "\r":
        end -= 1
    return start, end


def with_pool_params(value: str, limit: int, timeout: int) -> str | None:
    """`"postgres://h/db?x=1"  # c` -> with the params added before the closing quote; None if unsure."""
    match = re.match(r"""^(?P<q>["']?)(?P<url>[^"'\s#]+)(?P=q)(?P<rest>\s*(?:#.*)?)$""", value)
    if match is None or "://" not in match.group("url"):
        return None
    url = match.group("url")
    joiner = "&" if "?" in url else "?"
    params = f"connection_limit={limit}&pool_timeout={timeout}"
    return f"{match.group('q')}{url}{joiner}{params}{match.group('q')}{match.group('rest')}"


def fix_database_urls(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    for finding in ctx.findings("SA104"):
        name = finding.path.rsplit("/", 1)[-1]
        if name not in TEMPLATE_NAMES:
            yield Skipped("SA104", finding.path, finding.line, "not a template file: add the parameters where the "
                          "real value is set (never written by scaleaudit)")  # fmt: skip
            continue
        source = ctx.source(finding.path)
        start, end = _line_span(source, finding.line)
        match = _ENV_ASSIGN.match(source.text[start:end])
        fixed = (
            with_pool_params(match.group(2), ctx.plan.prisma_connection_limit, ctx.plan.pool_timeout) if match else None
        )
        if match is None or fixed is None:
            yield Skipped("SA104", finding.path, finding.line, "the value is not a plain URL")
            continue
        edit = TextEdit(start + len(match.group(1)), end, fixed, "SA104", "add connection_limit and pool_timeout")
        yield Proposal("SA104", finding.path, finding.line, "connection_limit/pool_timeout added to the URL",
                       {finding.path: (edit,)}, (key_of(finding),))  # fmt: skip


def _index_edit(source: SourceText, finding: Finding) -> TextEdit | str:
    model_name, _, fields = finding.anchor.partition(".")
    schema = parse_schema(source.text)
    model = schema.model(model_name)
    if model is None or not model.end_line:
        return "model not found in the schema"
    columns = fields.split("+")
    if model.covered(columns):
        return "already indexed"
    close = source.offset(model.end_line, 0)
    previous = source.text[:close].rstrip("\r\n").rsplit("\n", 1)[-1].strip()
    blank = "" if previous.startswith("@@") else "\n"
    indent = _indent(source.text, model.fields[0].line if model.fields else 0)
    line = f"{blank}{indent}@@index([{', '.join(columns)}])\n"
    return TextEdit(close, close, line, "SA411", f"add @@index([{', '.join(columns)}]) to {model_name}")


def _indent(text: str, line: int) -> str:
    """The model's own indentation (schemas use 2 or 4 spaces, or tabs), from its first field."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return "  "
    field = lines[line - 1]
    return field[: len(field) - len(field.lstrip(" \t"))] or "  "


def fix_prisma_indexes(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    by_model: dict[tuple[str, str], list[Finding]] = {}
    for finding in ctx.findings("SA411"):
        by_model.setdefault((finding.path, finding.anchor.partition(".")[0]), []).append(finding)
    for (rel, _model), findings in sorted(by_model.items()):
        source = ctx.source(rel)
        edits: list[TextEdit] = []
        for finding in findings:
            edit = _index_edit(source, finding)
            if isinstance(edit, str):
                yield Skipped("SA411", rel, finding.line, edit)
            else:
                # one blank line before the first added index of a model, not before each
                edits.append(edit if not edits or not edit.text.startswith("\n") else
                             TextEdit(edit.start, edit.end, edit.text[1:], edit.rule, edit.description))  # fmt: skip
        if edits:
            first = findings[0]
            description = f"{'; '.join(e.description for e in edits)} ({MIGRATION_NOTE})"
            yield Proposal("SA411", rel, first.line, description, {rel: tuple(edits)},
                           tuple(key_of(f) for f in findings))  # fmt: skip


def fix_config_files(ctx: FixContext) -> Iterator[Proposal | Skipped]:
    yield from fix_database_urls(ctx)
    yield from fix_prisma_indexes(ctx)


FIXER = fix_config_files
PRIORITY = 60  # edits files no other fixer touches (scaleaudit.fixes.api)
