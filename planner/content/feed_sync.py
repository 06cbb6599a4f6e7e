"""``planner feeds sync``: fetch each configured feed and store its entries as queue items.

Per feed: its state is read (the last ETag and Last-Modified, and ``since``, the first
sync's cut-off, fixed when the feed was first synced or its URL changed), the document is
fetched (:mod:`~planner.content.feed_fetch`, outside any transaction) and parsed
(:mod:`~planner.content.feed_entries`), its entries become items
(:mod:`~planner.content.feed_items`), and one write transaction stores them with the
feed's new state. A re-sync updates an entry's item in place (same id) and leaves an
unchanged one alone; entries that dropped out of the feed keep their items (a feed is a
window onto the newest entries, not a list to mirror), and an entry whose item was removed
by hand (``queue remove``) is not brought back.

A feed that cannot be fetched or is no feed is recorded as failed (``feeds list``,
``planner status``) and its items are left as they were; the other feeds are synced all
the same. A 304 Not Modified changes nothing but the time of the last fetch.

New and edited items may be checked by the caller (``check``: the reasons an item could not
be planned, from rendering it for its accounts); an item with reasons is left out and
reported, not stored, so one odd entry does not stop its feed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.content.feed_entries import FeedParseError, ParsedFeed, one_line, parse_feed
from planner.content.feed_fetch import FeedFetchError, Fetched, fetch_feed
from planner.content.feed_items import (
    OWN_DOMAIN_TAG,
    entry_images,
    feed_items,
    feed_source,
    week_of,
)
from planner.content.files import QueueItem
from planner.content.lint_state import apply_lint
from planner.content.media_files import MediaFile
from planner.content.store import sync_items
from planner.store.database import Database
from planner.store.models import FeedState, Item, ItemStatus

ItemProblems = Callable[[QueueItem], list[str]]
OK, NOT_MODIFIED, ERROR = "ok", "not modified", "error"


@dataclass(frozen=True)
class FeedResult:
    """What one feed's sync did."""

    name: str
    result: str  # ok, not modified, error
    error: str | None = None
    entries: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    pitches: int = 0  # items linking to an own domain, stored as pitches
    left_out: list[str] = field(default_factory=list)  # entries that make no valid item
    recovered: str | None = None  # what feedparser recovered from, if anything
    lint: list[str] = field(default_factory=list)  # the etiquette lint's findings, "ITEM: why"
    flagged: int = 0  # items the lint holds back (mode hold)


@dataclass(frozen=True)
class _State:
    url: str
    etag: str | None
    last_modified: str | None
    since: datetime


def sync_feeds(
    db: Database,
    config: Config,
    now: datetime,
    names: Sequence[str] = (),
    check: ItemProblems | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[FeedResult]:
    """Sync the feeds named (default: every configured feed), in config order; ``progress``
    is told 1 as each feed is done."""
    feeds = config.settings.feeds.sources
    results = []
    with httpx.Client() as client:
        for name in names or list(feeds):
            results.append(sync_feed(db, config, name, now, check=check, client=client))
            if progress is not None:
                progress(1)
    return results


def due_feeds(db: Database, config: Config, now: datetime) -> list[str]:
    """The feeds a periodic refresh should sync at ``now``: every configured feed whose last
    fetch is older than ``[feeds] refresh_minutes`` (or that was never fetched); none when
    ``refresh_minutes`` is not set. For a long-running process (``planner run``) to call
    apart from its publishing work: a slow feed must not delay a post."""
    minutes = config.settings.feeds.refresh_minutes
    feeds = config.settings.feeds.sources
    if minutes is None or not feeds:
        return []
    with db.reading() as session:
        fetched = {
            row.name: (row.last_fetch_at, row.url)
            for row in session.execute(
                select(FeedState.name, FeedState.last_fetch_at, FeedState.url)
            )
        }
    due = []
    for name, feed in feeds.items():
        last, url = fetched.get(name, (None, None))
        if last is None or url != feed.url or now - last >= timedelta(minutes=minutes):
            due.append(name)
    return due


def sync_feed(
    db: Database,
    config: Config,
    name: str,
    now: datetime,
    check: ItemProblems | None = None,
    client: httpx.Client | None = None,
) -> FeedResult:
    """Fetch feed ``name`` and store its items; see the module docstring."""
    feed = config.settings.feeds.sources[name]
    options = config.settings.feeds
    state = _read_state(db, name, feed.url, now - timedelta(days=feed.first_sync_days))
    try:
        fetched = fetch_feed(
            feed.url,
            base_dir=config.base_dir,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=options.timeout_seconds,
            max_bytes=options.max_bytes,
            max_redirects=options.max_redirects,
            client=client,
        )
        parsed = None
        if fetched.body is not None:
            parsed = parse_feed(fetched.body, fetched.url, fetched.content_type)
    except (FeedFetchError, FeedParseError) as exc:
        error = one_line(str(exc), 500)
        _record(db, name, state, now, ERROR, error=error)
        return FeedResult(name, ERROR, error=error)
    if parsed is None:
        _record(db, name, state, now, NOT_MODIFIED, fetched=fetched)
        return FeedResult(name, NOT_MODIFIED)
    images = entry_images(parsed, config, state.since)  # before the write lock, not under it
    return _store(db, config, name, state, parsed, fetched, now, check, images)


def _read_state(db: Database, name: str, url: str, first_since: datetime) -> _State:
    with db.reading() as session:
        row = session.get(FeedState, name)
        if row is not None and row.url == url:
            return _State(url, row.etag, row.last_modified, row.since)
        exists = row is not None
    if not exists:
        # The row every later write of this feed locks first, so two syncs of one feed
        # (a runner's refresh and a person's `feeds sync`) take turns instead of both
        # inserting the same new items.
        try:
            with db.transaction() as session:
                session.add(_new_row(name, url, first_since))
        except IntegrityError:
            pass  # another sync created it first: the same row
    # New, or pointed elsewhere: a first sync again.
    return _State(url, None, None, first_since)


def _new_row(name: str, url: str, since: datetime) -> FeedState:
    return FeedState(
        name=name, url=url, since=since, last_result="", entries=0, added=0, updated=0,
        skipped=0,
    )  # fmt: skip


def _store(
    db: Database,
    config: Config,
    name: str,
    state: _State,
    parsed: ParsedFeed,
    fetched: Fetched,
    now: datetime,
    check: ItemProblems | None,
    images: Mapping[str, MediaFile],
) -> FeedResult:
    feed = config.settings.feeds.sources[name]
    with db.transaction() as session:
        _lock(session, name)
        columns = (Item.id, Item.content_hash, Item.fields, Item.status)
        rows = session.execute(select(*columns).where(Item.source == feed_source(name))).all()
        hashes = {row.id: row.content_hash for row in rows}
        # Removed by hand (`queue remove`): the entry stays out, unlike a queue file's item.
        removed = {row.id for row in rows if row.status == ItemStatus.ARCHIVED}
        stored = [(row.id, _stored_week(row.fields)) for row in rows]
        made = feed_items(
            name, feed, config, parsed, since=state.since, now=now, stored=stored, images=images
        )
        items: list[QueueItem] = []
        left_out = list(made.invalid)
        for item in made.items:
            if item.id in removed:
                continue
            reasons = check(item) if check and hashes.get(item.id) != item.content_hash else []
            if reasons:
                title = one_line(item.title or item.id, 60)
                left_out.append(f"{title}: {'; '.join(reasons)}")
            else:
                items.append(item)
        report = sync_items(session, items, [], now)
        written = [item.id for item in items if hashes.get(item.id) != item.content_hash]
        lint = apply_lint(session, config, now, written)
        _write_state(
            session, name, state, now, OK, fetched=fetched, counts=(
                len(parsed.entries), report.added, report.updated,
                made.skipped + len(left_out) - len(made.invalid),
            ),
        )  # fmt: skip
    return FeedResult(
        name,
        OK,
        entries=len(parsed.entries),
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=made.skipped + len(left_out) - len(made.invalid),
        pitches=sum(OWN_DOMAIN_TAG in item.tags for item in items),
        left_out=left_out,
        recovered=parsed.recovered,
        lint=lint.lines(),
        flagged=lint.flagged,
    )


def _stored_week(fields: object) -> str | None:
    published = fields.get("published") if isinstance(fields, dict) else None
    if not isinstance(published, str):
        return None
    try:
        return week_of(datetime.fromisoformat(published))
    except ValueError:
        return None


def _record(
    db: Database,
    name: str,
    state: _State,
    now: datetime,
    result: str,
    *,
    error: str | None = None,
    fetched: Fetched | None = None,
) -> None:
    with db.transaction() as session:
        _lock(session, name)
        _write_state(session, name, state, now, result, error=error, fetched=fetched)


def _lock(session: Session, name: str) -> None:
    """Wait for any other sync of feed ``name`` to commit (PostgreSQL: its row, FOR UPDATE;
    SQLite's write transactions take turns anyway)."""
    session.get(FeedState, name, with_for_update=True, populate_existing=True)


def _write_state(
    session: Session,
    name: str,
    state: _State,
    now: datetime,
    result: str,
    *,
    error: str | None = None,
    fetched: Fetched | None = None,
    counts: tuple[int, int, int, int] | None = None,
) -> None:
    row = session.get(FeedState, name)
    if row is None:  # its row was deleted meanwhile
        row = _new_row(name, state.url, state.since)
        session.add(row)
    if row.url != state.url:
        row.url, row.since = state.url, state.since
        row.etag = row.last_modified = None
    row.last_fetch_at, row.last_result, row.last_error = now, result, error
    if fetched is not None:
        row.last_ok_at = now
        row.etag = fetched.etag or row.etag
        row.last_modified = fetched.last_modified or row.last_modified
    if counts is not None:
        row.entries, row.added, row.updated, row.skipped = counts
    elif result == NOT_MODIFIED:
        row.added = row.updated = 0
