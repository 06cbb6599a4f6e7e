"""The planned ranges as one SQL filter pick exactly the rows of a planned account inside its
range, however the accounts share their ranges (accounts in one time zone do)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, create_engine, delete, insert, select

from planner.plan.ranges import in_ranges
from planner.store.models import EmptySlot

START = datetime(2026, 11, 30, tzinfo=UTC)
ACCOUNTS = ["a", "b", "c", "d", "e"]
TABLE = cast(Table, EmptySlot.__table__)
ENGINE = create_engine("sqlite://")
TABLE.create(ENGINE)

hours = st.integers(min_value=-48, max_value=24 * 9)
bounds = st.tuples(hours, st.integers(min_value=0, max_value=24 * 8)).map(
    lambda b: (START + timedelta(hours=b[0]), START + timedelta(hours=b[0] + b[1]))
)


@settings(max_examples=100)
@given(
    ranges=st.dictionaries(st.sampled_from(ACCOUNTS), st.sampled_from([0, 1, 2]), max_size=5),
    shapes=st.lists(bounds, min_size=3, max_size=3),
    rows=st.lists(st.tuples(st.sampled_from(ACCOUNTS), hours), max_size=30),
)
def test_the_filter_picks_the_rows_of_each_account_inside_its_range(
    ranges: dict[str, int], shapes: list[tuple[datetime, datetime]], rows: list[tuple[str, int]]
) -> None:
    planned = {name: shapes[shape] for name, shape in ranges.items()}  # shared ranges too
    with ENGINE.begin() as connection:
        connection.execute(delete(TABLE))
        if rows:
            connection.execute(
                insert(TABLE),
                [{"account": account, "slot_at": START + timedelta(hours=at), "reason": "r"}
                 for account, at in rows],
            )  # fmt: skip
        if not planned:
            return
        found = connection.execute(
            select(TABLE.c.account, TABLE.c.slot_at).where(
                in_ranges(EmptySlot.account, EmptySlot.slot_at, planned)
            )
        ).all()
    expected = [
        (account, START + timedelta(hours=at))
        for account, at in rows
        if account in planned
        and planned[account][0] <= START + timedelta(hours=at) < planned[account][1]
    ]
    assert sorted(found) == sorted(expected)
