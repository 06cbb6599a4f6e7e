"""``planner history``: what was published, and whether the give:pitch rule held, over time.

Reads published posts (status ``published``, ordered by ``published_at``) of a date range and
reports, per account and per ISO week (or day) of the account's timezone:

- **give** and **pitch**: the account's published posts in the period, by ``posts.is_pitch``
  (the class the post was balanced as, so an own-domain link counts as the pitch it was);
- **pitch share**: ``pitch/(give + pitch)`` of the period, as counts;
- **highest window**: the fullest window ending at one of the period's published pitches,
  counted exactly as :func:`planner.rule.balancer.max_window_share` counts it (the last
  ``window_posts`` posts and the posts of the last ``window_days`` days, the pitch included;
  published history before the period, and before the range, counts; the whole brand's posts
  with ``balance.scope = "brand"``), kept as ``p/n`` counts (the count window on a tie);
- **within rule**: that highest window is at or under ``max_pitch_share``. Forced posts still
  count (an override is recorded, not excused) and are counted per period.

The range is a pair of local dates, ``since`` and ``until`` inclusive, each read in the
account's own timezone; by default the 28 days up to ``now``'s date in the config's timezone.
Periods are clipped to the range (a range starting on a Sunday starts with a one-day week).

Queries: per account, one range query for the listing and, for its balance scope, one
``LIMIT window_posts`` query that finds where the windows' look-back starts and one range
query for the published posts from there. The formatting functions are pure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.errors import InputError
from planner.reports.preview.model import Share
from planner.rule.balancer import BalanceSettings
from planner.rule.windows import WindowCounts, fullest
from planner.store.models import Post, PostStatus

PERIODS = ("week", "day")
DEFAULT_DAYS = 28


@dataclass(frozen=True)
class PublishedPost:
    """One published post, as the listing shows it."""

    id: int
    account: str
    published_at: datetime  # UTC
    local: datetime  # the same instant in the account's timezone
    kind: str
    class_: str  # "give" or "pitch" (posts.is_pitch)
    forced: bool
    item: str
    remote_id: str | None
    remote_url: str | None
    text: str | None


@dataclass(frozen=True)
class Period:
    """One ISO week or day of an account (clipped to the range), or the whole range."""

    label: str  # "2026-W45", "2026-11-02", or "total"
    first: date  # local dates, inclusive
    last: date
    give: int
    pitch: int
    forced: int  # forced posts among them
    max_window: Share  # the fullest window ending at one of its pitches; 0/0 without pitches
    max_window_at: datetime | None
    within_rule: bool

    @property
    def share(self) -> Share:
        return Share(self.pitch, self.give + self.pitch)


@dataclass(frozen=True)
class AccountHistory:
    account: str
    network: str
    timezone: str
    settings: BalanceSettings
    periods: list[Period]
    total: Period

    @property
    def target(self) -> tuple[int, int]:
        return self.settings.give_to_pitch


@dataclass(frozen=True)
class History:
    since: date
    until: date
    by: str
    generated_at: datetime
    posts: list[PublishedPost]  # every selected account's, by published_at
    accounts: list[AccountHistory]

    @property
    def ok(self) -> bool:
        return all(account.total.within_rule for account in self.accounts)


def default_range(config: Config, now: datetime) -> tuple[date, date]:
    """The 28 days up to and including ``now``'s date in the config's timezone."""
    today = now.astimezone(ZoneInfo(config.settings.timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def build_history(
    session: Session,
    config: Config,
    now: datetime,
    *,
    accounts: Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    by: str = "week",
) -> History:
    """Published posts and per-period ratios of ``accounts`` (default: all). Reads only.

    ``since`` defaults to 27 days before ``until``, ``until`` to ``now``'s date in the config's
    timezone (so by default: :func:`default_range`). Raises :class:`InputError` when ``since``
    is after ``until`` or ``by`` is neither "week" nor "day".
    """
    if by not in PERIODS:
        raise InputError(f'--by must be "week" or "day", got "{by}"')
    first_default, today = default_range(config, now)
    if since is None:
        since = first_default if until is None else until - timedelta(days=DEFAULT_DAYS - 1)
    if until is None:
        until = today
    if since > until:
        raise InputError(f"the range starts on {since}, after its end on {until}: nothing to show")
    names = list(accounts or config.settings.accounts)
    brand = config.settings.balance.scope == "brand"
    posts: list[PublishedPost] = []
    reports = []
    for account in names:
        tz = config.account_timezone(account)
        start, end = _midnight(since, tz), _midnight(until + timedelta(days=1), tz)
        posts += _published(session, account, tz, start, end)
        scope = list(config.settings.accounts) if brand else [account]
        settings = config.balance_for_brand() if brand else config.balance_for(account)
        timeline = _timeline(session, scope, start, end, settings)
        periods = _periods(since, until, by)
        reports.append(
            AccountHistory(
                account=account,
                network=config.settings.accounts[account].network,
                timezone=tz.key,
                settings=settings,
                periods=[_measure(p, account, timeline, settings, tz) for p in periods],
                total=_measure(("total", since, until), account, timeline, settings, tz),
            )
        )
    posts.sort(key=lambda post: (post.published_at, post.id))
    return History(since, until, by, now, posts, reports)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _published(
    session: Session, account: str, tz: ZoneInfo, start: datetime, end: datetime
) -> list[PublishedPost]:
    query = (
        select(
            Post.id,
            Post.published_at,
            Post.kind,
            Post.is_pitch,
            Post.forced,
            Post.item_id,
            Post.remote_id,
            Post.remote_url,
            Post.text,
        )
        .where(
            Post.account == account,
            Post.status == PostStatus.PUBLISHED,
            Post.published_at >= start,
            Post.published_at < end,
        )
        .order_by(Post.published_at, Post.id)
    )
    return [
        PublishedPost(
            id=row.id,
            account=account,
            published_at=row.published_at,
            local=row.published_at.astimezone(tz),
            kind=row.kind,
            class_="pitch" if row.is_pitch else "give",
            forced=row.forced,
            item=row.item_id,
            remote_id=row.remote_id,
            remote_url=row.remote_url,
            text=row.text,
        )
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class _Timeline:
    """A balance scope's published posts in time order, with their windows."""

    windows: WindowCounts
    accounts: list[str]
    pitch: list[bool]
    forced: list[bool]


def _timeline(
    session: Session,
    scope: Sequence[str],
    start: datetime,
    end: datetime,
    settings: BalanceSettings,
) -> _Timeline:
    published = (Post.account.in_(scope), Post.status == PostStatus.PUBLISHED)
    since = start - timedelta(days=settings.window_days or 0)
    if settings.window_posts is not None:
        earlier: list[datetime] = list(
            session.scalars(
                select(Post.published_at)
                .where(*published, Post.published_at.is_not(None), Post.published_at < start)
                .order_by(Post.published_at.desc())
                .limit(settings.window_posts)
            )
        )
        if earlier:
            since = min(since, earlier[-1])
    rows = session.execute(
        select(Post.published_at, Post.account, Post.is_pitch, Post.forced)
        .where(*published, Post.published_at >= since, Post.published_at < end)
        .order_by(Post.published_at, Post.id)
    ).all()
    windows = WindowCounts(settings.window_posts, settings.window_days)
    for row in rows:
        windows.append(row.published_at, row.is_pitch, row.forced)
    return _Timeline(
        windows=windows,
        accounts=[row.account for row in rows],
        pitch=[row.is_pitch for row in rows],
        forced=[row.forced for row in rows],
    )


def _periods(since: date, until: date, by: str) -> list[tuple[str, date, date]]:
    """(label, first, last) of every ISO week (or day) in [since, until], clipped to it."""
    found = []
    day = since
    while day <= until:
        if by == "day":
            found.append((day.isoformat(), day, day))
            day += timedelta(days=1)
            continue
        year, week, weekday = day.isocalendar()
        last = min(day + timedelta(days=7 - weekday), until)
        found.append((f"{year}-W{week:02d}", day, last))
        day = last + timedelta(days=1)
    return found


def _measure(
    period: tuple[str, date, date],
    account: str,
    timeline: _Timeline,
    settings: BalanceSettings,
    tz: ZoneInfo,
) -> Period:
    label, first, last = period
    start, end = _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
    times = timeline.windows.times
    low, high = bisect_left(times, start), bisect_left(times, end)
    give = pitch = forced = 0
    best, best_at = Share(0, 0), None
    for index in range(low, high):
        if timeline.accounts[index] != account:
            continue
        forced += timeline.forced[index]
        if not timeline.pitch[index]:
            give += 1
            continue
        pitch += 1
        # The windows of balancer.max_window_share: ending at the pitch, it included.
        window = fullest(timeline.windows.windows_through(index))
        if best_at is None or window.share > best.value:
            best, best_at = Share.of(window), times[index]
    within = best.value <= settings.max_pitch_share
    return Period(label, first, last, give, pitch, forced, best, best_at, within)
