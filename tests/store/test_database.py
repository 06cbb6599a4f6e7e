"""The schema: created by migrations, agreeing with the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from planner.errors import DomainError, InputError, SchemaOutOfDate
from planner.store.database import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    upgrade_database,
)
from planner.store.models import Base, Item, Post, UTCDateTime


def test_new_database_is_created_through_the_migrations(db_url: str) -> None:
    db = open_database(db_url)
    try:
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()


def test_the_schema_head_written_in_db_py_is_the_newest_migration() -> None:
    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_current_revision_reads_what_alembic_recorded(db_url: str) -> None:
    db = open_database(db_url)
    try:
        with db.engine.connect() as connection:
            recorded = MigrationContext.configure(connection).get_current_revision()
        assert current_revision(db.engine) == recorded == head_revision()
    finally:
        db.dispose()


# SQLite's reflection does not read indexes on expressions: compared on PostgreSQL, and on
# SQLite looked up in its schema instead.
EXPRESSION_INDEXES = {"ix_items_survey": "CAST(accounts AS TEXT)"}


def test_models_and_migrations_agree(db_url: str) -> None:
    upgrade_database(db_url)
    db = open_database(db_url)
    sqlite = db.engine.dialect.name == "sqlite"

    def compared(item: object, name: str | None, type_: str, *_: object) -> bool:
        return not (sqlite and type_ == "index" and name in EXPRESSION_INDEXES)

    try:
        with db.engine.connect() as connection, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
            opts = {"compare_type": True, "include_object": compared}
            context = MigrationContext.configure(connection, opts=opts)
            assert compare_metadata(context, Base.metadata) == []
            if sqlite:
                for name, expression in EXPRESSION_INDEXES.items():
                    sql = connection.scalar(
                        text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                        {"n": name},
                    )
                    assert expression in (sql or ""), (name, sql)
    finally:
        db.dispose()


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    assert upgrade_database(db_url) == (None, head_revision())
    assert upgrade_database(db_url) == (head_revision(), head_revision())


def test_an_out_of_date_schema_is_refused_until_upgraded(db_url: str) -> None:
    upgrade_database(db_url)
    db = open_database(db_url)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    db.dispose()
    with pytest.raises(SchemaOutOfDate, match="planner db upgrade"):
        open_database(db_url)


def test_times_come_back_as_aware_utc(db_url: str) -> None:
    db = open_database(db_url)
    berlin_noon = datetime(2026, 12, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    try:
        with db.transaction() as session:
            session.add(
                Item(
                    id="a",
                    kind="help",
                    text="t",
                    source="cli",
                    content_hash="h",
                    not_before=berlin_noon,
                    created_at=berlin_noon,
                    updated_at=berlin_noon,
                )
            )
        with db.transaction() as session:
            stored = session.scalars(select(Item.not_before)).one()
        assert stored == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
        assert stored.tzinfo == UTC
    finally:
        db.dispose()


def test_naive_times_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with pytest.raises(Exception, match="naive datetime"), db.transaction() as session:
            session.add(
                Item(
                    id="a",
                    kind="help",
                    source="cli",
                    content_hash="h",
                    not_before=datetime(2026, 1, 1),
                )
            )
    finally:
        db.dispose()


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = "postgresql+psycopg://planner:hunter2@127.0.0.1:1/planner?connect_timeout=2"
    with pytest.raises(DomainError) as caught:
        open_database(url)
    assert "cannot open database postgresql+psycopg://planner:***@127.0.0.1:1/planner" in str(
        caught.value
    )
    assert "hunter2" not in str(caught.value)


def test_unsupported_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="supports sqlite"):
        open_database("mysql://root@127.0.0.1/test")


@settings(max_examples=300)
@given(at=st.datetimes(timezones=st.timezones()))
def test_sqlite_stores_a_time_as_its_own_datetime_type_would(at: datetime) -> None:
    """The fast SQLite bind writes the very text SQLAlchemy's SQLite DateTime writes (what
    every stored row and every comparison in a query relies on)."""
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stock = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None and stock is not None
    try:
        utc = at.astimezone(UTC)
    except OverflowError:  # an offset that moves it past year 1 or 9999
        with pytest.raises(OverflowError):
            fast(at)
        return
    assert fast(at) == stock(utc.replace(tzinfo=None))
    assert fast(None) is None


@settings(max_examples=300)
@given(at=st.datetimes(timezones=st.timezones()))
def test_sqlite_reads_a_stored_time_as_its_own_datetime_type_would(at: datetime) -> None:
    """The fast SQLite read gives back the aware UTC time SQLAlchemy's SQLite DateTime reads
    from the stored text, made aware (and the very time that was written)."""
    dialect = sqlite.dialect()
    write = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    fast = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    stock = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert write is not None and fast is not None and stock is not None
    try:
        stored = write(at)
    except OverflowError:  # an offset that moves it past year 1 or 9999
        return
    read = fast(stored)
    assert read == stock(stored).replace(tzinfo=UTC) == at.astimezone(UTC)
    assert read is not None and read.tzinfo is UTC
    assert fast(None) is None


def test_the_fast_sqlite_read_keeps_an_offset_written_by_hand() -> None:
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert fast is not None
    assert fast("2026-11-30 10:00:00+01:00") == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert fast("2026-11-30 10:00:00") == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_the_fast_sqlite_bind_refuses_naive_times() -> None:
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None
    with pytest.raises(ValueError, match="naive datetime"):
        fast(datetime(2026, 1, 1))


def test_upgrading_to_0013_dates_the_items_whose_posts_went_out(db_url: str) -> None:
    """Migration 0013 indexes the items that went out and may go out again by their
    last_published_at: an item with a published post but no date (as an older version may
    have left it) gets its latest post's, and keeps its own-domain flag."""
    engine = make_engine(db_url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    command.upgrade(alembic_config(engine), "0012")
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        for item_id in ("went-out", "never"):
            session.add(
                Item(id=item_id, kind="help", text="t", source="cli", content_hash="h",
                     status="queued", evergreen=True, mentions_own_domain=True)
            )  # fmt: skip
        session.flush()
        for n, status in enumerate(("published", "published", "failed")):
            session.add(
                Post(item_id="went-out", account="main", slot_at=at + timedelta(days=n),
                     published_at=at + timedelta(days=n, minutes=1), kind="help",
                     is_pitch=False, text="t", status=status, idempotency_key=f"k{n}")
            )  # fmt: skip
    engine.dispose()
    assert upgrade_database(db_url) == ("0012", head_revision())
    db = open_database(db_url)
    try:
        with db.reading() as session:
            rows = session.execute(
                select(Item.id, Item.last_published_at, Item.mentions_own_domain)
            ).all()
        assert dict((i, (last, flag)) for i, last, flag in rows) == {
            "went-out": (at + timedelta(days=1, minutes=1), True),
            "never": (None, True),
        }
    finally:
        db.dispose()
