"""Review of the SQLAlchemy index fix: the SQL it prints names the table and index as
SQLAlchemy creates them."""

from __future__ import annotations

import pytest

from scaleaudit.fixes.sqlalchemy_index import create_index_sql


@pytest.mark.parametrize(
    ("table", "column"), [("Orders", "user_id"), ("user", "order"), ("order lines", "Qty"), ("orders", "user_id")]
)
def test_the_sql_quotes_names_as_sqlalchemys_ddl_does(table: str, column: str) -> None:
    # `ON Orders (user_id)` folded to `orders` (another table, or none); `ON user (order)` did not parse.
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    (index,) = Table(table, MetaData(), Column(column, Integer, index=True)).indexes
    ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    concurrently = ddl.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1)
    assert create_index_sql(table, column) == concurrently + ";"
