"""The database tables, as SQLAlchemy 2 typed ORM models.

The main tables: ``items`` (the content queue), ``posts`` (an item placed on one account's
slot at one instant: the unit that is balanced, rendered and published), ``publish_attempts``
(every call to a network, with its outcome), ``item_media`` and ``post_media`` (an item's
images, and what a network took of them for a post) and ``item_account_states`` (what the
last plan decided for an item on one account when it did not place it, and holds or forced
releases made by hand for one account); ``feeds`` keeps each feed's fetch state, and
``own_domain_flags`` the own domains the items' ``mentions_own_domain`` flags were computed
for. Times are stored as UTC everywhere; the :class:`UTCDateTime` type makes SQLite (which
has no time zones) and PostgreSQL return the same aware ``datetime``.

The schema is created by the Alembic migrations in ``planner/store/migrations``; a test checks
that these models and the migrations agree.

Why this module is long: it is the whole schema, every table with its indexes, which is what
that test compares with the migrations and what a reader of a query looks up.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from typing import cast as type_cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    cast,
    null,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Lengths of the columns that hold what people write; the queue file and config validation
# refuse longer values with these limits named (PostgreSQL would refuse them mid-write).
KIND_LENGTH = 64  # kinds and slot labels (planner.config.settings.MAX_KIND_NAME)
ACCOUNT_LENGTH = 128  # account names (planner.config.settings.MAX_ACCOUNT_NAME)
URL_LENGTH = 2048
CREDIT_LENGTH = 500
SOURCE_LENGTH = 1024  # a queue file's path, relative to the config when inside its folder


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in Python, a UTC timestamp in the database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the planner stores aware UTC times")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store the UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The text SQLite's own DateTime type stores (its default storage format), written by
        # isoformat in one call rather than field by field through a dict: a week's plan
        # binds some 10,000 times, and this is a third of the cost.
        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: the planner stores aware UTC times")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return to_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        # The stored text parsed and made aware in one call, rather than by SQLAlchemy's
        # parser and then process_result_value: a plan reads thousands of times.
        def from_text(value: str | None) -> datetime | None:
            if value is None:
                return None
            at = parse(value)
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

        return from_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ItemStatus(enum.StrEnum):
    QUEUED = "queued"
    PLANNED = "planned"
    PUBLISHED = "published"
    HELD = "held"
    EXPIRED = "expired"
    ARCHIVED = "archived"
    # The etiquette lint in mode "hold" keeps it out of planning (status_reason says why)
    # until its text is fixed or the lint no longer holds.
    FLAGGED = "flagged"


class PostStatus(enum.StrEnum):
    PLANNED = "planned"
    CLAIMED = "claimed"
    PUBLISHED = "published"
    HELD = "held"
    RETRY = "retry"
    FAILED = "failed"
    MISSED = "missed"
    UNKNOWN = "unknown"


# Posts that went out, are going out, or will: they count in the windows and use their item.
LIVE_STATUSES = (
    PostStatus.PLANNED,
    PostStatus.CLAIMED,
    PostStatus.PUBLISHED,
    PostStatus.RETRY,
    PostStatus.UNKNOWN,
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class Item(Base):
    """One piece of content in the queue."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    text: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    credit: Mapped[str | None] = mapped_column(String(CREDIT_LENGTH))
    # Extra template variables ([item.fields]) and per-network text ([item.variants.x]).
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    variants: Mapped[dict[str, Any]] = mapped_column(default=dict)
    accounts: Mapped[list[str]] = mapped_column(default=list)  # empty: every account
    tags: Mapped[list[str]] = mapped_column(default=list)
    not_before: Mapped[datetime | None]
    not_after: Mapped[datetime | None]
    evergreen: Mapped[bool] = mapped_column(Boolean, default=False)
    cooldown_days: Mapped[int | None] = mapped_column(Integer)
    # Evergreen items: how many times the item may go out again on an account (None: no limit).
    max_reposts: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.QUEUED)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Set by `planner hold`: the planner leaves the item alone until `planner release`.
    manual_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by `planner release --force`: placed at its next slot whatever the ratio says,
    # recorded on the post as an override (and still counted in the window).
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the item came from ("queue/shares.toml" or "cli") and a hash of its content,
    # so a sync can tell unchanged, edited and removed items apart.
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_published_at: Mapped[datetime | None]
    # Whether url, text, title or variants mention one of the own domains recorded in
    # own_domain_flags (the cheap superset test that picks the gives whose links a plan
    # checks); None: not known yet. Every UPDATE that does not set it resets it, so it is never
    # stale after an edit; a plan computes the unknown ones (planner.plan.own_domains).
    mentions_own_domain: Mapped[bool | None] = mapped_column(Boolean, onupdate=null())

    posts: Mapped[list[Post]] = relationship(back_populates="item")

    __table_args__ = (
        Index(None, "status", "kind", "priority"),
        Index(None, "source"),
        Index(None, "url"),
    )


# For an UPDATE that writes an item's status alone (a plan's verdicts, publishing, a hold or
# a missed slot): the text did not change, so the own-domain flag stays as it was instead of
# being reset to unknown, which the next plan would compute again.
KEEP_OWN_DOMAIN_FLAG = {"mentions_own_domain": Item.mentions_own_domain}


def keep_own_domain_flag(item: Item) -> None:
    """The same for a change made through the unit of work (a hold, a release, a resolve):
    the flush writes the column as itself, so its ``onupdate`` does not reset it."""
    item.mentions_own_domain = Item.mentions_own_domain


def open_items_condition(table: str = "") -> str:
    """The items a plan may still place, by status: not published (unless evergreen), not
    archived or flagged. As SQL text, because SQLite uses a partial index only for a query
    that repeats the index's condition as written (``table``: a qualifier, "items.")."""
    open_ = ", ".join(
        f"'{status}'"
        for status in (ItemStatus.QUEUED, ItemStatus.HELD, ItemStatus.PLANNED, ItemStatus.EXPIRED)
    )
    return (
        f"({table}status IN ({open_}) OR "
        f"({table}status = '{ItemStatus.PUBLISHED}' AND {table}evergreen))"
    )


def republishable_condition(table: str = "") -> str:
    """The items that went out before and may go out again: evergreen, or back in the queue
    since (as SQL text, for the partial index below; see :func:`open_items_condition`).
    Publishing a post sets its item's ``last_published_at`` (the pipeline, and resolving a
    post whose outcome was unknown); nothing clears it."""
    done = f"'{ItemStatus.PUBLISHED}', '{ItemStatus.ARCHIVED}'"
    return (
        f"({table}last_published_at IS NOT NULL AND "
        f"({table}evergreen OR {table}status NOT IN ({done})))"
    )


def open_dated_condition(table: str = "") -> str:
    """The open items with a ``not_after`` (SQL text, for the partial index below)."""
    return f"({table}not_after IS NOT NULL AND {open_items_condition(table)})"


def open_marked_condition(table: str = "") -> str:
    """The open items forced, or that mention an own domain or may (flag unknown): with the
    dated ones, every give a week's plan must read whole rather than from its cursors (SQL
    text, for the partial index below)."""
    mention = f"{table}mentions_own_domain"
    return f"(({table}force OR {mention} OR {mention} IS NULL) AND {open_items_condition(table)})"


def _partial_index(name: str, *columns: Any, where: str) -> Index:
    """An index of the rows meeting ``where``, with the same condition on both databases
    (written as SQL text: the queries that use it repeat it as written)."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


# A kind's open items in planning order (priority, then age, then id): a week's plan reads
# the plain items of each kind through a cursor in this order, as far as its slots need, with
# no sort of the whole kind first. Partial: the items already published stay out of it, so a
# brand with a long history does not walk past all of them at every plan (the query repeats
# the condition: :func:`open_items_condition`). On PostgreSQL the id is in code point order
# (COLLATE "C", as the plan's ORDER BY asks; migration 0012).
_partial_index(
    "ix_items_open_planning_order",
    Item.kind,
    Item.priority.desc(),
    Item.created_at,
    Item.id,
    where=open_items_condition(),
)
# A week's plan counts, per kind and list of accounts, the items it may read lazily: in this
# order, and with the columns it tests, the count reads no row and sorts nothing (0.1 s
# instead of 0.5 s for 200,000 items).
Index(
    "ix_items_survey",
    Item.kind,
    cast(Item.accounts, Text),
    Item.status,
    Item.manual_hold,
    Item.evergreen,
    Item.force,
    Item.not_after,
    Item.not_before,
    Item.mentions_own_domain,
)
# The items a plan may place again although they went out before: a plan reads the older
# posts of these (few) rather than asking of every open item whether it has one (50 ms for a
# queue of 100,000 open items; migration 0013).
_partial_index("ix_items_republishable", Item.id, where=republishable_condition())
# The gives a week's plan reads whole rather than from its cursors, found without a pass over
# the queue: the dated ones by deadline, and the forced or own-domain ones (migration 0014).
_partial_index("ix_items_open_dated", Item.kind, Item.not_after, where=open_dated_condition())
_partial_index("ix_items_open_marked", Item.kind, Item.id, where=open_marked_condition())
# The items whose own-domain flag is not known: a plan finds the few edited since the last one
# without reading the whole queue.
Index(
    "ix_items_mentions_own_domain_unknown",
    Item.id,
    sqlite_where=Item.mentions_own_domain.is_(None),
    postgresql_where=Item.mentions_own_domain.is_(None),
)


class OwnDomainFlags(Base):
    """The own domains the items' ``mentions_own_domain`` flags were computed for (one row,
    absent until a plan first computes them): when the config names others, every flag is
    computed again."""

    __tablename__ = "own_domain_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    domains: Mapped[list[str]] = mapped_column(default=list)  # lowercase, sorted, no repeats
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemMedia(Base):
    """One image of an item, in its place among the item's images: the bytes checked at sync
    (and published), their type, pixel size, alt text and SHA-256, and where they came from."""

    __tablename__ = "item_media"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(URL_LENGTH))  # the path as written, or the URL
    is_url: Mapped[bool] = mapped_column(Boolean, default=False)
    alt: Mapped[str | None] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PostMedia(Base):
    """An image a network took for a post before the post itself was created: its id there,
    so that a retried post attaches it instead of uploading it again."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes uploaded
    remote_id: Mapped[str] = mapped_column(Text)  # a media id, or a blob reference (JSON)
    uploaded_at: Mapped[datetime]


class Post(Base):
    """One item placed on one slot of one account at one instant."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    account: Mapped[str] = mapped_column(String(128))
    slot_at: Mapped[datetime]
    slot_label: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    is_pitch: Mapped[bool] = mapped_column(Boolean)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)  # a manual override of the rule
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.PLANNED)
    reason: Mapped[str | None] = mapped_column(Text)  # why chosen, or why held / failed
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="posts")
    attempts_log: Mapped[list[PublishAttempt]] = relationship(back_populates="post")

    __table_args__ = (
        # Due posts by time: the scheduler's query.
        Index(None, "status", "slot_at"),
        # An account's recent posts: the balancer's history and the preview.
        Index(None, "account", "slot_at"),
        # An account's first post of a status (the runner's next due post): a seek, where
        # (account, slot_at) walks every published post before it.
        Index(None, "account", "status", "slot_at"),
        Index(None, "item_id"),
    )


class PublishAttempt(Base):
    """One call to a network for a post, and what came of it."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))

    post: Mapped[Post] = relationship(back_populates="attempts_log")

    __table_args__ = (Index(None, "post_id", "started_at"),)


class PlanningState(enum.StrEnum):
    """Why an item is not planned on an account (kept per item and account)."""

    HELD = "held"  # the ratio rule refused it there
    WAITING = "waiting"  # the rule would take it; the mix gave its kind no turn
    EXPIRED = "expired"  # its not_after passed before a slot fitted
    SKIPPED = "skipped"  # it cannot be rendered for the account (template, length)


class ItemAccountState(Base):
    """An item on one account: the last plan's verdict when it did not place the item there,
    and what a person decided for that account alone (``planner hold ITEM --account A``).

    An item that goes to several accounts can be planned on one and held on another; each
    account's reports read only its own row. A row exists only while it says something.
    """

    __tablename__ = "item_account_states"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    account: Mapped[str] = mapped_column(String(ACCOUNT_LENGTH), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(16))  # a PlanningState, or none
    reason: Mapped[str | None] = mapped_column(Text)
    manual_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "account", "state"),)


class AccountPlan(Base):
    """What the last ``planner plan`` of an account could not list item by item.

    Apart from :class:`AccountState`: that row is the runners' claim lock, and a plan must
    never wait for a claim (nor a claim for a plan) to write a count.
    """

    __tablename__ = "account_plans"

    account: Mapped[str] = mapped_column(String(ACCOUNT_LENGTH), primary_key=True)
    # Items the plan left out here past the ones it named (planner.plan.model.LISTED).
    unlisted: Mapped[int] = mapped_column(Integer, default=0)
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmptySlot(Base):
    """A slot the last ``planner plan`` had to leave empty, and why (for the preview)."""

    __tablename__ = "empty_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(128))
    slot_at: Mapped[datetime]
    slot_label: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "account", "slot_at"),)


class AccountState(Base):
    """Per-account publishing state: paused after an auth failure, and the claim lock.

    Claiming a post first locks the account's row (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), so one account's posts are claimed one at a time, in order, by one runner.
    """

    __tablename__ = "account_states"

    account: Mapped[str] = mapped_column(String(128), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None]
    last_published_at: Mapped[datetime | None]


class FeedState(Base):
    """One configured feed: what the next conditional GET sends, the first sync's cut-off
    (entries published before ``since`` are never taken) and the last fetch's outcome."""

    __tablename__ = "feeds"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime]
    last_fetch_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_result: Mapped[str] = mapped_column(String(16))  # ok, not modified, error
    last_error: Mapped[str | None] = mapped_column(Text)
    entries: Mapped[int] = mapped_column(Integer, default=0)  # in the last document fetched
    added: Mapped[int] = mapped_column(Integer, default=0)  # by the last sync
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # filtered, too old, over the cap


class Runner(Base):
    """A live ``planner run`` process; its heartbeat tells others whether its claims are live."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


# The tables as SQLAlchemy Core sees them, for statements that need no ORM objects (bulk
# writes, column reads). A plan's statements all use these, not the mapped classes'
# attributes: `planner plan` then never configures the ORM's mappers (9 ms in every process)
# and its statements compile without the ORM's layer.
ITEMS = type_cast(Table, Item.__table__)
POSTS = type_cast(Table, Post.__table__)
ITEM_ACCOUNT_STATES = type_cast(Table, ItemAccountState.__table__)
ACCOUNT_PLANS = type_cast(Table, AccountPlan.__table__)
EMPTY_SLOTS = type_cast(Table, EmptySlot.__table__)
OWN_DOMAIN_FLAGS = type_cast(Table, OwnDomainFlags.__table__)
