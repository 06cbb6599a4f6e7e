"""Syncing queue files into the database: idempotent, edit-aware, all-or-nothing, batched."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from planner.config.settings import Config, load_config
from planner.content.files import queue_file_paths, read_queue_files, source_name
from planner.content.store import SyncReport, list_items, sync_items
from planner.errors import QueueFileError
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus

from support.lock_waits import first_then_second

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "planner.toml"
    path.write_text((REPO / "config.example.toml").read_text())
    return load_config(path)


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    database = open_database(db_url)
    yield database
    database.dispose()


def sync(db: Database, config: Config, files: list[Path]):  # type: ignore[no-untyped-def]
    items = read_queue_files(files, config)
    with db.transaction() as session:
        return sync_items(session, items, [source_name(f, config) for f in files], NOW)


def snapshot(db: Database) -> list[tuple[str, str, str, str | None]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Item.id, Item.status, Item.content_hash, Item.text).order_by(Item.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_second_sync_changes_nothing(db: Database, config: Config) -> None:
    files = queue_file_paths([REPO / "queue"])
    first = sync(db, config, files)
    before = snapshot(db)
    second = sync(db, config, files)
    assert first.added == len(before) > 20
    assert (second.added, second.updated, second.unchanged, second.archived) == (
        0,
        0,
        len(before),
        0,
    )
    assert snapshot(db) == before


def test_an_edited_item_is_updated_not_doubled(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "help.toml"
    path.write_text('[[item]]\nid = "tip"\nkind = "help"\ntext = "old"\n')
    sync(db, config, [path])
    path.write_text('[[item]]\nid = "tip"\nkind = "help"\ntext = "new"\n')
    report = sync(db, config, [path])
    assert (report.added, report.updated) == (0, 1)
    assert [(row[0], row[3]) for row in snapshot(db)] == [("tip", "new")]


def test_an_edited_share_keeps_its_derived_id(db: Database, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    item = '[[item]]\nkind = "share"\ntitle = "{t}"\nurl = "https://x.example/a"\ncredit = "Ann"\n'
    path.write_text(item.format(t="One"))
    sync(db, config, [path])
    path.write_text(item.format(t="One, revised"))
    sync(db, config, [path])
    with db.transaction() as session:
        assert session.scalars(select(Item.title)).all() == ["One, revised"]


def test_items_removed_from_a_file_are_archived_and_can_come_back(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "h.toml"
    one = '[[item]]\nid = "a"\nkind = "help"\ntext = "a"\n'
    both = one + '[[item]]\nid = "b"\nkind = "help"\ntext = "b"\n'
    path.write_text(both)
    sync(db, config, [path])
    path.write_text(one)
    assert sync(db, config, [path]).archived == 1
    assert [(r[0], r[1]) for r in snapshot(db)] == [("a", "queued"), ("b", "archived")]
    path.write_text(both)
    assert sync(db, config, [path]).updated == 1
    assert [(r[0], r[1]) for r in snapshot(db)] == [("a", "queued"), ("b", "queued")]


def test_syncing_one_file_leaves_other_files_items_alone(
    db: Database, config: Config, tmp_path: Path
) -> None:
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    one.write_text('[[item]]\nid = "a"\nkind = "help"\ntext = "a"\n')
    two.write_text('[[item]]\nid = "b"\nkind = "help"\ntext = "b"\n')
    sync(db, config, [one, two])
    assert sync(db, config, [one]).archived == 0
    assert {r[1] for r in snapshot(db)} == {"queued"}


def test_a_bad_file_leaves_the_database_unchanged(
    db: Database, config: Config, tmp_path: Path
) -> None:
    sync(db, config, queue_file_paths([REPO / "queue"]))
    before = snapshot(db)
    good = tmp_path / "good.toml"
    good.write_text('[[item]]\nid = "new"\nkind = "help"\ntext = "fine"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('[[item]]\nid = "x"\nkind = "help"\ntext = "ok"\nnot_after = "soon"\n')
    with pytest.raises(QueueFileError):
        sync(db, config, [good, bad])
    assert snapshot(db) == before


def test_a_failure_while_storing_rolls_everything_back(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "h.toml"
    path.write_text(
        "".join(f'[[item]]\nid = "i{n}"\nkind = "help"\ntext = "{n}"\n' for n in range(1200))
    )
    items = read_queue_files([path], config)
    calls = 0

    def explode_on_second_batch(done: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), db.transaction() as session:
        sync_items(session, items, ["h.toml"], NOW, progress=explode_on_second_batch)
    assert snapshot(db) == []


def test_ten_thousand_items_take_batched_round_trips(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "big.toml"
    # Alternate item shapes (different fields left empty), as a real queue does.
    shapes = [
        '[[item]]\nid = "i{n}"\nkind = "help"\ntext = "tip {n}"\n',
        '[[item]]\nid = "i{n}"\nkind = "share"\ntitle = "t"\nurl = "https://x.example/{n}"\n'
        'credit = "Ann"\ntags = ["a"]\n',
        '[[item]]\nid = "i{n}"\nkind = "promo"\ntext = "buy"\nnot_after = 2027-01-01\n',
    ]
    path.write_text("".join(shapes[n % 3].format(n=n) for n in range(10_000)))
    items = read_queue_files([path], config)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.transaction() as session:
            report = sync_items(session, items, ["big.toml"], NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert report.added == 10_000
    # 20 batches of 500: a lookup and an insert each, plus the archive query. Inserts may
    # be split further by the driver's own batching, but never one statement per item.
    assert statements < 200
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 10_000


def test_list_filters_by_kind_status_and_account(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        '[[item]]\nid = "a"\nkind = "help"\ntext = "a"\naccounts = ["main"]\npriority = 1\n'
        '[[item]]\nid = "b"\nkind = "promo"\ntext = "b"\n'
    )
    sync(db, config, [path])
    with db.transaction() as session:
        assert [i.id for i in list_items(session)] == ["a", "b"]
        assert [i.id for i in list_items(session, kinds=["promo"])] == ["b"]
        assert [i.id for i in list_items(session, account="main")] == ["a", "b"]
        assert [i.id for i in list_items(session, account="other")] == ["b"]
        assert list_items(session, statuses=[ItemStatus.HELD]) == []


def test_two_syncs_adding_the_same_new_items_take_turns_on_postgresql(
    postgres_url: str, config: Config
) -> None:
    """Two processes sync the same new queue file at once (a person, and a cron job): the
    second waits for the first and finds its items there, instead of inserting them again
    (a duplicate key error on PostgreSQL, where nothing but the rows themselves is locked)."""
    files = queue_file_paths([REPO / "queue"])
    items = read_queue_files(files, config)
    sources = [source_name(f, config) for f in files]
    report = first_then_second(
        postgres_url,
        lambda session: sync_items(session, items, sources, NOW),
        lambda session: sync_items(session, items, sources, NOW),
    )
    assert isinstance(report, SyncReport), report
    assert report.added == 0
    assert report.unchanged == len(items)
    db = open_database(postgres_url)
    try:
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(Item)) == len(items)
    finally:
        db.dispose()
