"""Item 1 of issue 9: every front end turns any bytes into findings or a diagnostic.

Never an exception (the engine would turn it into an `internal-error`
diagnostic, which these tests treat as a failure), never a crash of the
process (libcst's native parser segfaults on deep nesting: python/guard.py),
never a hang (pytest-timeout on each property).
"""

from __future__ import annotations

from pathlib import PurePosixPath

import hypothesmith
import pytest
from hypothesis import strategies as st

from hardening.conftest import PROFILES, corpus, job, run_property
from hardening.mutations import mutated
from scaleaudit.engine.frontends import analyze_bytes
from scaleaudit.model import FileResult
from scaleaudit.serialize import file_result_from, file_result_to

PY_HEADER = b"import redis\nfrom sqlalchemy import create_engine, select\n"
LANGUAGES = {".py": "python", ".ts": "typescript", ".tsx": "typescript", ".js": "javascript",
             ".prisma": "prisma", ".html": "template"}


def language_of(rel: str) -> str:
    name = PurePosixPath(rel).name
    if name.startswith(".env"):
        return "env"
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name == "Procfile":
        return "procfile"
    return LANGUAGES[PurePosixPath(rel).suffix]


def assert_sane(rel: str, data: bytes, language: str) -> FileResult:
    result = analyze_bytes(rel, data, language, job())
    errors = [d.message for d in result.diagnostics if d.kind == "internal-error"]
    assert not errors, (rel, errors)
    physical = len(data.splitlines())  # a lone CR ends a line for libcst and editors, not for `lines`
    for finding in result.findings:
        assert 1 <= finding.line <= max(result.lines, physical) + 1, (rel, finding)
    # What the cache stores must come back equal.
    assert file_result_from(file_result_to(result)) == result
    return result


def _with_header(code: str) -> bytes:
    return PY_HEADER + code.encode("utf-8", "surrogatepass")


def _check(example: tuple[str, bytes]) -> None:
    rel, data = example
    assert_sane(rel, data, language_of(rel))


@PROFILES
def test_python_mutated_fixtures(profile: str) -> None:
    run_property("python: mutated fixture files", profile, mutated(corpus(".py")), _check)


@PROFILES
def test_python_generated_programs(profile: str) -> None:
    # hypothesmith programs rarely contain a rule's trigger; the header makes every rule parse them.
    programs = hypothesmith.from_grammar().map(lambda code: ("app/gen.py", _with_header(code)))
    run_property("python: hypothesmith programs", profile, programs, _check)


@PROFILES
def test_python_generated_programs_mutated(profile: str) -> None:
    programs = hypothesmith.from_grammar().map(_with_header)
    seeded = programs.flatmap(lambda data: mutated([("app/gen.py", data)]))
    run_property("python: hypothesmith programs, mutated", profile, seeded, _check)


@PROFILES
def test_typescript_mutated_fixtures(profile: str) -> None:
    run_property("typescript/javascript: mutated fixture files", profile,
                 mutated(corpus(".ts", ".tsx", ".js")), _check)


@PROFILES
def test_config_files_mutated(profile: str) -> None:
    files = corpus(".prisma", names=(".env", "Procfile", "docker-compose"))
    assert {language_of(rel) for rel, _ in files} >= {"prisma", "env", "yaml"}
    run_property("schema.prisma/.env/compose: mutated fixture files", profile, mutated(files), _check)


@PROFILES
def test_templates_mutated(profile: str) -> None:
    run_property("templates: mutated fixture files", profile, mutated(corpus(".html")), _check)


@PROFILES
def test_arbitrary_bytes_in_every_language(profile: str) -> None:
    languages = st.sampled_from(["python", "typescript", "javascript", "prisma", "env", "yaml", "procfile", "template"])

    def check(example: tuple[str, bytes]) -> None:
        assert_sane("x", example[1], example[0])

    run_property("every front end: arbitrary bytes", profile, st.tuples(languages, st.binary(max_size=4000)), check)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("depth", [199, 201, 1_000, 2_000, 30_000, 300_000])
@pytest.mark.parametrize("shape", ["paren", "plus", "neg", "lambda", "call"])
def test_deep_nesting_is_a_diagnostic_not_a_segfault(shape: str, depth: int) -> None:
    """Found by these tests: libcst's parser segfaults from ~2,000 nested brackets or ~20,000
    chained operators and takes ~1 min for 5,000; the guard reports such files instead."""
    from hardening.mutations import _NESTINGS

    data = PY_HEADER + b"x = " + _NESTINGS[shape](depth) + b"\n"
    result = assert_sane("app/deep.py", data, "python")
    if depth >= 2_000:
        assert [d.message for d in result.diagnostics if d.kind == "parse-error"], result.diagnostics


@pytest.mark.parametrize("literal", [r'"\N{NOPE}"', r'"\x"', "'a\x00b'", "1" * 5000, "0x" + "f" * 5000, "1e99999"])
def test_literals_cpython_rejects_are_diagnostics(literal: str) -> None:
    """Found by these tests: libcst parses them, a rule's `evaluated_value` then raised (internal error)."""
    source = (
        "import redis\nfrom sqlalchemy import create_engine\nfrom django.contrib import admin\n"
        f"engine = create_engine({literal}, pool_size={literal})\nr = redis.Redis({literal})\n"
        f"class A(admin.ModelAdmin):\n    list_display = ({literal}, 'x')\n"
    )
    assert_sane("app/lit.py", source.encode("utf-8", "surrogatepass"), "python")


BILLION_LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
services:
  web:
    command: *h
    environment: *h
  worker:
    command: {x: *h}
"""


@pytest.mark.timeout(30)
@pytest.mark.parametrize("data", [BILLION_LAUGHS, b"services: " + b"[" * 5000 + b"]" * 5000 + b"\n",
                                  b"services:\n  web:\n    command: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n"],
                         ids=["alias-bomb", "deep-flow-list", "deep-flow-map"])
def test_hostile_compose_files(data: bytes) -> None:
    """Found by these tests: str() of an alias bomb never returned (a hang), and deep flow
    collections raised RecursionError inside PyYAML (an internal error)."""
    assert_sane("docker-compose.yml", data, "yaml")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("prefix", [b"x = 1 +\n", b"1 = x\n", b"def f[T](x: T) -> T: ...\n", b"print 'py2'\n"])
@pytest.mark.parametrize("shape", ["neg", "plus", "not"])
def test_deep_nesting_after_an_early_syntax_error(prefix: bytes, shape: str) -> None:
    """Found by the fuzz profile (a segfault, 1 in ~10,000 mutated programs): CPython's parser stops at
    the first error, so the guard never saw what came after it, while libcst may accept that line
    and parse on into the deep expression. The longest statement's tokens now bound it."""
    from hardening.mutations import _NESTINGS

    data = PY_HEADER + prefix + b"x = " + _NESTINGS[shape](30_000) + b"\n"
    result = assert_sane("app/deep.py", data, "python")
    assert [d for d in result.diagnostics if d.kind == "parse-error"], result.diagnostics
