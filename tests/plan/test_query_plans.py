"""How the database answers a plan's reads: a week's cursors walk the open items of a kind in
planning order through the partial index, past no published item and with no sort, on
SQLite and PostgreSQL (which must both be able to use the index for the query as written)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from planner.config.settings import load_config
from planner.plan.load import candidates

from support.example_queue import synced_database

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
INDEX = "ix_items_open_planning_order"


def test_a_weeks_cursors_walk_the_open_items_index_without_sorting(workspace: Path) -> None:
    config = load_config(workspace / "planner.toml")
    db = synced_database(config, NOW)
    cursors: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "ORDER BY items.priority DESC" in statement:
            cursors.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        with db.transaction() as session:
            first = datetime(2026, 11, 30, tzinfo=UTC)
            candidates(session, config, first, first + timedelta(days=7)).close()
            assert cursors, "a week's plan read no kind through a cursor"
            connection = session.connection()
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                # The example queue is small enough for a scan and a sort: ask whether the
                # index can answer the query at all, in its order.
                connection.execute(text("SET LOCAL enable_seqscan = off"))
                connection.execute(text("SET LOCAL enable_sort = off"))
            for statement, params in cursors:
                raw = connection.connection.dbapi_connection
                assert raw is not None
                explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                rows = raw.cursor().execute(explain + statement, params)
                plan = " ".join(str(row) for row in rows)
                assert INDEX in plan, plan
                assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        db.dispose()
