"""Insert a row, or update it when its primary key is taken, in one statement on both
databases (SQLite and PostgreSQL share ``INSERT … ON CONFLICT DO UPDATE``).

One statement, not a read then a write: another process may insert the same key between
the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from planner.store.bulk import execute_many


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
    index: Sequence[str] = list(keys)
    row = {**(defaults or {}), **keys, **values}
    # Each dialect's module on first use: a SQLite runner need not load PostgreSQL's.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table).values(row)
        connection.execute(pg.on_conflict_do_update(index_elements=index, set_=dict(values)))
    else:
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table).values(row)
        connection.execute(lite.on_conflict_do_update(index_elements=index, set_=dict(values)))


def upsert_many(
    connection: Connection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    update: Sequence[str],
) -> None:
    """Insert ``rows`` (all with the same columns); a row whose primary key (``keys``) is
    taken, by a row read too late to be seen or inserted meanwhile by another process,
    gets only its ``update`` columns set instead."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table)
        fresh = {column: pg.excluded[column] for column in update}
        connection.execute(pg.on_conflict_do_update(index_elements=keys, set_=fresh), rows)
    else:
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table)
        fresh = {column: lite.excluded[column] for column in update}
        execute_many(connection, lite.on_conflict_do_update(index_elements=keys, set_=fresh), rows)
