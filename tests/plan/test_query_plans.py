"""How the database answers a plan's reads: a week's cursors walk the open items of a kind in
planning order through the partial index, past no published item and with no sort; the
history reads find the older uses of items by item, through the partial index of the items
that may go out again; the gives a week reads whole, through the partial indexes of dated and
marked items. On SQLite and PostgreSQL (which must both be able to use the indexes
for the queries as written)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, false, select, text, update

from planner.config.settings import load_config
from planner.plan.history import existing_posts, history_reach
from planner.plan.load import candidates, plan_rules, week_slots
from planner.plan.own_domains import mentions_own_domain, refresh_flags
from planner.plan.survey import Exceptions, Survey
from planner.store.models import Item, Post, PostStatus, open_items_condition

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


def test_a_plans_history_reads_walk_indexes_and_find_the_older_uses_by_item(
    workspace: Path,
) -> None:
    """With posts before the rule's reach, the plan finds the older uses of items it may
    still place through the partial index of the items that went out and may go out again,
    then their posts by item: no read walks every open item or every older post."""
    config = load_config(workspace / "planner.toml")
    db = synced_database(config, NOW)
    names = list(config.settings.accounts)
    slots, ranges = week_slots(config, names, [(2026, 49)], NOW)
    rules = plan_rules(config, names)
    long_ago = min(slot.at for slot in slots) - history_reach(rules) - timedelta(days=90)
    statements: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    try:
        with db.transaction() as session:
            item = session.scalars(select(Item.id).where(Item.evergreen.is_(True))).first()
            session.execute(update(Item).where(Item.id == item).values(last_published_at=long_ago))
            session.add(
                Post(item_id=item, account=names[0], slot_at=long_ago, kind="share",
                     is_pitch=False, text="t", status=PostStatus.PUBLISHED,
                     idempotency_key="long-ago", created_at=long_ago, updated_at=long_ago)
            )  # fmt: skip
        event.listen(db.engine, "before_cursor_execute", note)
        with db.transaction() as session:
            used = {
                post.item_id for post in existing_posts(session, names, names, ranges, rules).fixed
            }
            assert item in used
            connection = session.connection()
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("SET LOCAL enable_seqscan = off"))
            raw = connection.connection.dbapi_connection
            assert raw is not None
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plans = {
                statement: " ".join(
                    str(row) for row in raw.cursor().execute(explain + statement, params)
                )
                for statement, params in statements
            }
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        db.dispose()
    by_item = [
        plan for statement, plan in plans.items() if "last_published_at IS NOT NULL" in statement
    ]
    assert len(by_item) == 1 and "ix_items_republishable" in by_item[0], by_item
    for statement, plan in plans.items():
        # SQLite: a SCAN walks a whole table or index (but the small partial one); PostgreSQL,
        # told to avoid sequential scans, still makes one only where no index answers.
        scans = re.findall(r"SCAN (?!CONSTANT ROW)(\w+)(?: USING (?:COVERING )?INDEX (\w+))?", plan)
        assert all(index == "ix_items_republishable" for _, index in scans), (statement, plan)
        assert "Seq Scan" not in plan, (statement, plan)


def test_the_accounts_a_kind_names_are_found_by_seeking_the_survey_index(
    workspace: Path,
) -> None:
    """From one distinct list of accounts to the next, each step a seek in the survey index:
    no pass over the kind's items."""
    config = load_config(workspace / "planner.toml")
    db = synced_database(config, NOW)
    statements: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    try:
        with db.transaction() as session:
            connection = session.connection()
            survey = Survey(connection, (), [], Exceptions(None, [], [], false()), false(), ())
            event.listen(db.engine, "before_cursor_execute", note)
            try:
                listed = survey.accounts_listed("share")
            finally:
                event.remove(db.engine, "before_cursor_execute", note)
            assert listed is not None
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("SET LOCAL enable_seqscan = off"))
            raw = connection.connection.dbapi_connection
            assert raw is not None and len(statements) == 1
            statement, params = statements[0]
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " ".join(str(row) for row in raw.cursor().execute(explain + statement, params))
    finally:
        db.dispose()
    assert "ix_items_survey" in plan, plan
    assert "Seq Scan" not in plan and not re.search(r"SCAN items(?! USING)", plan), plan
    if not postgres:
        assert "kind=? AND <expr>>?" in plan, plan  # the step seeks past the last list


def test_the_gives_to_read_now_are_found_through_the_dated_and_marked_indexes(
    workspace: Path,
) -> None:
    """The forced, dated and own-domain gives of a week come from the partial indexes of
    migration 0014, each query repeating its index's condition as written: no pass over the
    kind's items (which SQLite would make, silently, if the two texts drifted apart)."""
    config = load_config(workspace / "planner.toml")
    db = synced_database(config, NOW)
    gives = [name for name, kind in config.kinds.items() if kind.class_ == "give"]
    statements: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    try:
        with db.transaction() as session:
            refresh_flags(session, config.settings.own_domains, NOW)
            mentions = mentions_own_domain(session, config.settings.own_domains)
            exceptions = Exceptions(NOW + timedelta(days=11), gives, ["promo"], mentions)
            not_done = (Item.manual_hold.is_(False), text(open_items_condition("items.")))
            connection = session.connection()
            event.listen(db.engine, "before_cursor_execute", note)
            try:
                Survey(connection, not_done, gives, exceptions, false(), (), gives)
            finally:
                event.remove(db.engine, "before_cursor_execute", note)
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text("SET LOCAL enable_seqscan = off"))
            raw = connection.connection.dbapi_connection
            assert raw is not None
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plans = [
                " ".join(str(row) for row in raw.cursor().execute(explain + statement, params))
                for statement, params in statements
            ]
    finally:
        db.dispose()
    assert len(plans) == 2, statements
    marked, dated = plans
    if not postgres:  # PostgreSQL proves the conditions and may take another index as cheaper
        assert "ix_items_open_marked" in marked, marked
        assert "ix_items_open_dated" in dated, dated
    for plan in plans:
        assert "Seq Scan" not in plan and not re.search(r"SCAN items(?! USING)", plan), plan
