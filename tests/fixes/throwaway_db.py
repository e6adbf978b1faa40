"""A PostgreSQL database created for one test and dropped after it (the index fix tests run
real migrations: Django's and Alembic's)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from conftest import need

PG = "postgresql://postgres@127.0.0.1:5432/test"


def url(database: str) -> str:
    return PG.rsplit("/", 1)[0] + "/" + database


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            up = True
    except psycopg.Error:
        up = False
    need(up, "PostgreSQL on 127.0.0.1:5432 (db test, user postgres)")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
