"""Insert a row, or update it when its primary key is taken, in one statement on both
databases (SQLite and PostgreSQL share ``INSERT … ON CONFLICT DO UPDATE``).

One statement, not a read then a write: another process may insert the same key between
the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    connection: Connection,
    table: Table,
    keys: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Set ``values`` on the row of ``table`` with primary key ``keys``; a new row also gets
    ``defaults`` for the columns ``values`` leaves out."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    index: Sequence[str] = list(keys)
    statement = insert(table).values({**(defaults or {}), **keys, **values})
    connection.execute(statement.on_conflict_do_update(index_elements=index, set_=dict(values)))
