"""Many rows through one statement: what :func:`execute_many` writes is what SQLAlchemy's own
executemany writes, whatever the values, for inserts, upserts and updates with values fixed in
the statement; a column default computed per row still gets its value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    update,
)

from planner.store.bulk import execute_many
from planner.store.models import UTCDateTime
from planner.store.upsert import upsert_many

METADATA = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        METADATA,
        Column("id", Integer, primary_key=True),
        Column("label", String(50)),
        Column("flag", Boolean),
        Column("count", Integer),
        Column("at", UTCDateTime),
        Column("doc", JSON),
        Column("made", UTCDateTime, default=lambda: datetime(2026, 1, 1, tzinfo=UTC)),
    )


FAST, STOCK = _table("fast"), _table("stock")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def _read(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]


def _reset(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in (FAST, STOCK):
            connection.execute(table.delete())


times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "label": st.none() | st.text(max_size=20),
            "flag": st.none() | st.booleans(),
            "count": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
            "at": st.none() | times | st.just(datetime(2026, 11, 30, 12, tzinfo=UTC)),
            "doc": st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        }
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_an_insert_writes_what_sqlalchemy_writes(
    engine: Engine, rows: list[dict[str, Any]]
) -> None:
    _reset(engine)
    numbered = [
        {"id": n, **row, "made": datetime(2026, 2, 1, tzinfo=UTC)} for n, row in enumerate(rows)
    ]
    with engine.begin() as connection:
        execute_many(connection, insert(FAST), numbered)
        connection.execute(insert(STOCK), numbered)
    assert _read(engine, FAST) == _read(engine, STOCK)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, at=times)
def test_an_update_with_a_value_fixed_in_the_statement_writes_what_sqlalchemy_writes(
    engine: Engine, rows: list[dict[str, Any]], at: datetime
) -> None:
    _reset(engine)
    with engine.begin() as connection:
        for table in (FAST, STOCK):
            connection.execute(insert(table), [{"id": n} for n in range(len(rows))])
    changes = [
        {"key": n, "new_label": row["label"], "new_flag": row["flag"]} for n, row in enumerate(rows)
    ]

    def statement(table: Table) -> Any:
        return (
            update(table)
            .where(table.c.id == bindparam("key"))
            .values(label=bindparam("new_label"), flag=bindparam("new_flag"), at=at)
        )

    with engine.begin() as connection:
        execute_many(connection, statement(FAST), changes)
        connection.execute(statement(STOCK), changes)
    assert _read(engine, FAST) == _read(engine, STOCK)
    assert {row[4] for row in _read(engine, FAST)} == {at.astimezone(UTC)}


def test_an_upsert_of_taken_keys_updates_only_the_columns_named(engine: Engine) -> None:
    _reset(engine)
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(FAST), [{"id": 1, "label": "kept", "count": 1}])
        upsert_many(
            connection,
            FAST,
            ("id",),
            [
                {"id": 1, "label": "new", "count": 2, "at": at},
                {"id": 2, "label": "b", "count": 3, "at": at},
            ],
            ("count", "at"),
        )
    assert [(row[0], row[1], row[3], row[4]) for row in _read(engine, FAST)] == [
        (1, "kept", 2, at),
        (2, "b", 3, at),
    ]


def test_a_default_computed_per_row_is_left_to_sqlalchemy(engine: Engine) -> None:
    _reset(engine)
    with engine.begin() as connection:
        execute_many(connection, insert(FAST), [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}])
    assert [row[6] for row in _read(engine, FAST)] == [datetime(2026, 1, 1, tzinfo=UTC)] * 2


def test_a_naive_time_is_refused_as_sqlalchemy_refuses_it(engine: Engine) -> None:
    _reset(engine)
    with pytest.raises(ValueError, match="naive datetime"), engine.begin() as connection:
        execute_many(connection, insert(FAST), [{"id": 1, "at": datetime(2026, 1, 1)}])
    assert _read(engine, FAST) == []


def test_no_rows_is_no_statement(engine: Engine) -> None:
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        with engine.begin() as connection:
            execute_many(connection, insert(FAST), [])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert statements == []
