"""Which import specifiers name the real PrismaClient, and where the schema generates it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tree

from scaleaudit.typescript.imports import is_prisma_client_module
from scaleaudit.typescript.prisma_output import client_modules

CLIENT = [
    "@prisma/client",
    "@prisma/client/edge",
    "@prisma/client/index.js",
    ".prisma/client/default",
    "./generated/prisma",
    "../generated/prisma/client",
    "../../generated/prisma/edge.js",
    "@/generated/prisma",
    "~/generated/prisma/client",
    "../prisma/client",
]
NOT_CLIENT = [
    "@prisma/client/extension",  # a stub that throws when constructed
    "@prisma/client/runtime/library",
    "@prisma/adapter-pg",
    "../lib/prisma",
    "./prisma",
    "./services/prisma-client",
    "../generated/prisma/models",  # types only
    "prisma",
]


@pytest.mark.parametrize("specifier", CLIENT)
def test_client_entry_points(specifier: str) -> None:
    assert is_prisma_client_module(specifier)


@pytest.mark.parametrize("specifier", NOT_CLIENT)
def test_other_modules(specifier: str) -> None:
    assert not is_prisma_client_module(specifier)


def test_schema_output_by_alias_and_root_path() -> None:
    outputs = ("src/db",)
    assert is_prisma_client_module("@/db", outputs)
    assert is_prisma_client_module("src/db/client", outputs)
    assert not is_prisma_client_module("db", outputs)  # an npm package of that name
    assert not is_prisma_client_module("@/lib/db", outputs)


def test_client_modules_from_the_schema_locations(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "prisma/schema.prisma": 'generator client {\n  provider = "prisma-client-js"\n'
            '  output = "../src/generated/client" // comment\n}\n'
            'generator erd {\n  provider = "prisma-erd-generator"\n  output = "../docs"\n}\n',
            "prisma/schema/extra.prisma": 'generator c2 {\n  provider = "prisma-client"\n  output = "../../lib/orm"\n}\n',
            "other/schema.prisma": 'generator c3 {\n  provider = "prisma-client"\n  output = "../x"\n}\n',  # not looked at
        },
    )
    assert client_modules(tmp_path) == ("lib/orm", "src/generated/client")


def test_client_modules_tolerates_a_broken_package_json(tmp_path: Path) -> None:
    write_tree(tmp_path, {"package.json": "{not json", "schema.prisma": "generator client {\n}\n"})
    assert client_modules(tmp_path) == ()
