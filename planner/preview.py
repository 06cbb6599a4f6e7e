"""``planner preview``: one ISO week per account, read back from the database as plain data.

For every account, every slot of the week (from its config, so slots never planned show too)
with the post on it or why it is empty, the running pitch share, and a summary:

- **Running pitch share**: the scope's live posts (``plan_store.LIVE_STATUSES``: the account's,
  or every account's when ``balance.scope = "brand"``) are fed in time order, history before
  the week first; after each slot the fullest configured window ending there is reported as
  ``p/n`` (p pitches among the n posts of that window, the count window on a tie). Its value
  is ``WindowTracker.pitch_share_now`` at that instant.
- **Highest window**: the same fullest window, measured at each live pitch of the account in
  this week, history included: ``balancer.max_window_share`` restricted to windows ending at
  this week's pitches. The week is **within the rule** when no window ending at one of its
  pitches is above ``max_pitch_share`` and no pitch comes closer than ``min_pitch_gap_hours``
  after the previous one, except where a forced post is the cause: a window that would be
  within the limit with its forced pitches counted as gives, or a gap next to a forced pitch,
  is allowed and noted.
- **Held items** (status held, for this account or every account) with the first slot each
  would fit, tried alone: the first of the account's slots after the last recorded post (and
  after ``now``) in this week and the next :data:`LOOKAHEAD_WEEKS` weeks where
  ``WindowTracker.decide`` allows a pitch, every slot before it counted as a give. Slots the
  item cannot take (typed for another kind or class, before its ``not_before``) count as gives
  too; the search stops at its ``not_after``. Items held by hand (``planner hold``) are not tried.
- **Runway** per kind: ``available`` = items still usable by the account (status queued or
  held, not held by hand, ``not_after`` after ``now``, no target accounts or this one);
  ``planned_this_week`` = the account's live posts of that kind this week. The queue lasts
  ``lasts_days = available * 7 // planned_this_week`` days at this week's pace (None when the
  kind is unused). When ``available < planned_this_week`` it does not last a week like this
  one: ``runs_dry_on`` is the local weekday of this week's post number ``available + 1`` of
  the kind, the first that would find no item.

Queries: per account, one indexed range query for the week's posts (every status) and one for
its ``empty_slots``; per account in the balance scope (once for a brand-wide scope), one range
query for its live posts from the start of the windows' look-back to the week's end, and a
``LIMIT window_posts`` query that finds where that look-back starts; one query for the queue
(held and queued items). The composition is pure: ``now`` is passed in, nothing reads the
clock.

The data classes and the ``--check`` verdict are in :mod:`planner.preview_model`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.balancer import BalanceSettings, WindowTracker, percents
from planner.config import Config
from planner.models import EmptySlot, Item, ItemStatus, Post
from planner.plan_store import LIVE_STATUSES
from planner.preview_model import (
    EMPTY,
    LOOKAHEAD_WEEKS,
    NOT_PLANNED,
    OWN_DOMAIN_PITCH,
    PASSED,
    WEEKDAYS,
    AccountPreview,
    Day,
    HeldItem,
    Preview,
    Runway,
    Share,
    SlotRow,
    when_text,
)
from planner.slots import SlotInstant, expand_week, iso_week_bounds, weeks_from
from planner.windows import Window, WindowCounts, fullest

# --- reading the database -------------------------------------------------------------------


@dataclass(frozen=True)
class _PostRow:
    id: int
    item_id: str
    at: datetime
    label: str | None
    kind: str
    is_pitch: bool
    forced: bool
    text: str | None
    status: str
    reason: str | None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class _Live:
    """A live post of the balance scope: what the windows count."""

    at: datetime
    account: str
    id: int
    is_pitch: bool
    forced: bool

    @property
    def key(self) -> tuple[datetime, str, int]:
        return (self.at, self.account, self.id)


@dataclass(frozen=True)
class _QueueRow:
    id: str
    kind: str
    accounts: list[str]
    status: str
    status_reason: str | None
    manual_hold: bool
    not_before: datetime | None
    not_after: datetime | None

    def goes_to(self, account: str) -> bool:
        return not self.accounts or account in self.accounts


def build_preview(
    session: Session,
    config: Config,
    year: int,
    week: int,
    now: datetime,
    *,
    accounts: Sequence[str] | None = None,
) -> Preview:
    """The preview of ISO week (year, week) for ``accounts`` (default: all), as of ``now``.

    Reads only; see the module docstring for what each figure means.
    """
    names = list(accounts or config.settings.accounts)
    queue = _queue_rows(session)
    bounds = {name: iso_week_bounds(year, week, config.account_timezone(name)) for name in names}
    brand = config.settings.balance.scope == "brand"
    if brand and names:
        # One time line for the whole brand, from the earliest week start to the latest end.
        brand_settings = config.balance_for_brand()
        brand_posts = _scope_posts(
            session,
            list(config.settings.accounts),
            min(start for start, _ in bounds.values()),
            max(end for _, end in bounds.values()),
            brand_settings,
        )
    previews = []
    for account in names:
        start, end = bounds[account]
        if brand:
            settings, scope_posts = brand_settings, brand_posts
        else:
            settings = config.balance_for(account)
            scope_posts = _scope_posts(session, [account], start, end, settings)
        previews.append(
            _compose_account(
                config,
                account,
                year,
                week,
                now,
                settings=settings,
                posts=_week_posts(session, account, start, end),
                empty_reasons=_empty_reasons(session, account, start, end),
                scope_posts=scope_posts,
                queue=queue,
            )
        )
    return Preview(year, week, now, previews)


def _week_posts(session: Session, account: str, start: datetime, end: datetime) -> list[_PostRow]:
    query = (
        select(
            Post.id,
            Post.item_id,
            Post.slot_at.label("at"),
            Post.slot_label.label("label"),
            Post.kind,
            Post.is_pitch,
            Post.forced,
            Post.text,
            Post.status,
            Post.reason,
        )
        .where(Post.account == account, Post.slot_at >= start, Post.slot_at < end)
        .order_by(Post.slot_at, Post.id)
    )
    return [_PostRow(**row._asdict()) for row in session.execute(query)]


def _empty_reasons(
    session: Session, account: str, start: datetime, end: datetime
) -> dict[datetime, str]:
    query = (
        select(EmptySlot.slot_at, EmptySlot.reason)
        .where(EmptySlot.account == account, EmptySlot.slot_at >= start, EmptySlot.slot_at < end)
        .order_by(EmptySlot.id)
    )
    return {row.slot_at: row.reason for row in session.execute(query)}


def _look_back(
    session: Session, accounts: Sequence[str], start: datetime, settings: BalanceSettings
) -> datetime:
    """The earliest instant whose posts can still matter to a window or the gap in the week."""
    reach = max(
        timedelta(days=settings.window_days or 0),
        timedelta(hours=settings.min_pitch_gap_hours or 0),
    )
    since = start - reach
    size = settings.window_posts
    if size is not None:
        times: list[datetime] = []
        for account in accounts:
            times += session.scalars(
                select(Post.slot_at)
                .where(
                    Post.account == account,
                    Post.status.in_(LIVE_STATUSES),
                    Post.slot_at < start,
                )
                .order_by(Post.slot_at.desc())
                .limit(size)
            )
        times.sort(reverse=True)
        if times:
            since = min(since, times[min(size, len(times)) - 1])
    return since


def _scope_posts(
    session: Session,
    accounts: Sequence[str],
    start: datetime,
    end: datetime,
    settings: BalanceSettings,
) -> list[_Live]:
    """The live posts of ``accounts`` the windows need, up to ``end``, in time-line order."""
    since = _look_back(session, accounts, start, settings)
    found = []
    for account in accounts:
        query = select(Post.slot_at, Post.id, Post.is_pitch, Post.forced).where(
            Post.account == account,
            Post.status.in_(LIVE_STATUSES),
            Post.slot_at >= since,
            Post.slot_at < end,
        )
        found += [
            _Live(at, account, id_, pitch, forced)
            for at, id_, pitch, forced in session.execute(query)
        ]
    return sorted(found, key=lambda post: post.key)


def _queue_rows(session: Session) -> list[_QueueRow]:
    query = (
        select(
            Item.id,
            Item.kind,
            Item.accounts,
            Item.status,
            Item.status_reason,
            Item.manual_hold,
            Item.not_before,
            Item.not_after,
        )
        .where(Item.status.in_([ItemStatus.QUEUED, ItemStatus.HELD]))
        .order_by(Item.priority.desc(), Item.created_at, Item.id)
    )
    return [_QueueRow(**row._asdict()) for row in session.execute(query)]


# --- composing one account's week (pure) ----------------------------------------------------


class _Windows:
    """One scope's live posts fed in time order, with the windows ending at any later instant."""

    def __init__(self, settings: BalanceSettings, posts: Sequence[_Live]) -> None:
        self.settings = settings
        self._counts = WindowCounts(settings.window_posts, settings.window_days)
        self._posts = posts
        self._next = 0
        self.last_pitch: _Live | None = None

    def feed_before(self, key: tuple[datetime, str, int]) -> None:
        while self._next < len(self._posts) and self._posts[self._next].key < key:
            self._record(self._posts[self._next])
            self._next += 1

    def feed_through(self, key: tuple[datetime, str, int]) -> None:
        self.feed_before(key)
        if self._next < len(self._posts) and self._posts[self._next].key == key:
            self._record(self._posts[self._next])
            self._next += 1

    def _record(self, post: _Live) -> None:
        self._counts.append(post.at, post.is_pitch, post.forced)
        if post.is_pitch:
            self.last_pitch = post

    def windows(self, at: datetime) -> list[Window]:
        """Each configured window ending at ``at`` (posts fed so far), count window first."""
        return self._counts.windows(at)

    def share_now(self, at: datetime) -> Share:
        """The fullest window ending at ``at``; the count window on a tie."""
        return Share.of(fullest(self._counts.windows(at)))

    def tracker(self) -> WindowTracker:
        """A tracker of the posts fed so far, for trial placements."""
        fed = self._posts[: self._next]
        return WindowTracker(self.settings, [(post.at, post.is_pitch) for post in fed])


def _compose_account(
    config: Config,
    account: str,
    year: int,
    week: int,
    now: datetime,
    *,
    settings: BalanceSettings,
    posts: Sequence[_PostRow],
    empty_reasons: dict[datetime, str],
    scope_posts: Sequence[_Live],
    queue: Sequence[_QueueRow],
) -> AccountPreview:
    """One account's week from what :func:`build_preview` read. Pure: no I/O, no clock."""
    tz = config.account_timezone(account)
    start, end = iso_week_bounds(year, week, tz)
    weekly = config.account_slots(account)
    instants = expand_week(weekly, year, week, tz)
    limit = settings.max_pitch_share
    windows = _Windows(settings, scope_posts)

    posts_at: dict[datetime, list[_PostRow]] = {}
    for post in posts:
        posts_at.setdefault(post.at, []).append(post)
    labels = {instant.at: instant.slot.label for instant in instants}
    rows: list[SlotRow] = []
    problems: list[str] = []
    notes: list[str] = []
    best, best_at = Share(0, 0), None

    for at in sorted(labels.keys() | posts_at.keys()):
        local = at.astimezone(tz)
        if at not in posts_at:
            windows.feed_before((at, account, -1))
            why = empty_reasons.get(at) or (NOT_PLANNED if at > now else PASSED)
            share = windows.share_now(at)
            rows.append(
                SlotRow(at, local, labels[at], EMPTY, None, None, None, False, None, why, share)
            )
            continue
        for post in posts_at[at]:
            key = (at, account, post.id)
            if post.live and post.is_pitch:
                windows.feed_before(key)
                _check_gap(windows.last_pitch, post, settings, problems, notes, local)
            if post.live:
                windows.feed_through(key)
            else:
                windows.feed_before(key)
            share = windows.share_now(at)
            if post.live and post.is_pitch:
                _check_windows(windows.windows(at), limit, post, local, problems, notes)
                if share.value > best.value:
                    best, best_at = share, at
            rows.append(
                SlotRow(
                    at,
                    local,
                    post.label,
                    post.status,
                    post.item_id,
                    post.kind,
                    _class_of(config, post),
                    post.forced,
                    post.text,
                    post.reason or "",
                    share,
                )
            )

    windows.feed_before((end, "", -1))
    tracker = windows.tracker()
    live = [post for post in posts if post.live]
    pitches = sum(1 for post in live if post.is_pitch)
    # Held items may take the slots left this week after the last post, and the next weeks'.
    after = max(now, tracker.last_post_at or now)
    ahead = [instant for instant in instants if instant.at > after]
    for later_year, later_week in weeks_from(year, week, LOOKAHEAD_WEEKS + 1)[1:]:
        ahead += [i for i in expand_week(weekly, later_year, later_week, tz) if i.at > after]
    held = [
        _held(config, row, tracker, ahead)
        for row in queue
        if row.status == ItemStatus.HELD and row.goes_to(account)
    ]
    return AccountPreview(
        account=account,
        network=config.settings.accounts[account].network,
        timezone=tz.key,
        scope=config.settings.balance.scope,
        settings=settings,
        start=start,
        end=end,
        days=_by_day(rows),
        give=len(live) - pitches,
        pitch=pitches,
        max_window=best,
        max_window_at=best_at,
        held=held,
        empty=[row for row in rows if row.status == EMPTY],
        runway=_runway(config, account, now, live, queue, tz),
        rule_problems=problems,
        notes=notes,
    )


def _class_of(config: Config, post: _PostRow) -> str:
    if not post.is_pitch:
        return "give"
    known = post.kind in config.kinds
    return OWN_DOMAIN_PITCH if known and config.kind_class(post.kind) == "give" else "pitch"


def _check_gap(
    previous: _Live | None,
    post: _PostRow,
    settings: BalanceSettings,
    problems: list[str],
    notes: list[str],
    local: datetime,
) -> None:
    gap = settings.min_pitch_gap_hours
    if not gap or previous is None or post.at - previous.at >= timedelta(hours=gap):
        return
    hours = (post.at - previous.at) / timedelta(hours=1)
    text = f"pitches {hours:.1f} h apart at {when_text(local)} (minimum gap {gap:g} h)"
    if post.forced or previous.forced:
        notes.append(f"{text}: allowed, a forced post (override) is one of them")
    else:
        problems.append(f"{text}, {post.item_id}")


def _check_windows(
    windows: Sequence[Window],
    limit: Fraction,
    post: _PostRow,
    local: datetime,
    problems: list[str],
    notes: list[str],
) -> None:
    """One problem (or note) per pitch: its fullest window over the limit, if any.

    A window is excused when it would be within the limit with its forced pitches as gives.
    """
    over = [window for window in windows if window.share > limit]
    if not over:
        return
    unexcused = [w for w in over if Fraction(w.pitches - w.forced, w.total) > limit]
    window = fullest(unexcused or over)
    shown, limit_shown = percents(window.share, limit)
    text = (
        f"pitch share {window} = {shown} > {limit_shown} over the last {window.name} "
        f"at {when_text(local)}"
    )
    if unexcused:
        problems.append(f"{text}, {post.item_id}")
    else:
        notes.append(f"{text}: allowed, only because of forced posts (override)")


def _held(
    config: Config, row: _QueueRow, tracker: WindowTracker, ahead: Iterable[SlotInstant]
) -> HeldItem:
    reason = row.status_reason or ""
    if row.manual_hold:
        return HeldItem(row.id, row.kind, reason, None, True)
    takes = {None, row.kind}
    if row.kind in config.kinds:
        takes.add(config.kind_class(row.kind))
    trial = tracker.copy()
    for instant in ahead:
        at = instant.at
        if row.not_after is not None and at >= row.not_after:
            break
        usable = instant.slot.label in takes and (row.not_before is None or row.not_before <= at)
        if usable and trial.decide(at, True).allowed:
            return HeldItem(row.id, row.kind, reason, at, False)
        trial.record(at, False)
    return HeldItem(row.id, row.kind, reason, None, False)


def _runway(
    config: Config,
    account: str,
    now: datetime,
    live: Sequence[_PostRow],
    queue: Sequence[_QueueRow],
    tz: ZoneInfo,
) -> list[Runway]:
    available = Counter(
        row.kind
        for row in queue
        if not row.manual_hold
        and (row.not_after is None or row.not_after > now)
        and row.goes_to(account)
    )
    result = []
    for kind in config.kinds:
        used = [post for post in live if post.kind == kind]
        left = available[kind]
        lasts = left * 7 // len(used) if used else None
        dry = None
        if left < len(used):
            dry = WEEKDAYS[used[left].at.astimezone(tz).weekday()]
        result.append(Runway(kind, left, len(used), lasts, dry))
    return result


def _by_day(rows: Sequence[SlotRow]) -> list[Day]:
    days: list[Day] = []
    for row in rows:
        if not days or days[-1].date != row.local.date():
            days.append(Day(row.local.date(), []))
        days[-1].rows.append(row)
    return days
