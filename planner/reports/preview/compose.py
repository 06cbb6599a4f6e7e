"""One account's preview week composed from what :mod:`planner.reports.preview.read` read.

Pure: no I/O, no clock (``now`` is passed in).

The rules it applies (the running share, the highest window, held items' next fit, the
runway) are described in :mod:`planner.reports.preview.read`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from planner.config.settings import Config
from planner.plan.slots import SlotInstant, expand_week, iso_week_bounds, weeks_from
from planner.reports.preview.model import (
    EMPTY,
    LOOKAHEAD_WEEKS,
    NOT_PLANNED,
    OWN_DOMAIN_PITCH,
    PASSED,
    WEEKDAYS,
    AccountPreview,
    Day,
    HeldItem,
    LeftOut,
    Runway,
    Share,
    SlotRow,
    when_text,
)
from planner.reports.preview.refusals import HeldHere, held_item, pitch_verdict
from planner.reports.preview.rows import LivePost, PostRow, QueueRow, StateRow
from planner.rule.balancer import BalanceSettings, WindowTracker, percents
from planner.rule.windows import Window, WindowCounts, fullest
from planner.store.models import PlanningState


class ScopeWindows:
    """One scope's live posts fed in time order, with the windows ending at any later instant."""

    def __init__(self, settings: BalanceSettings, posts: Sequence[LivePost]) -> None:
        self.settings = settings
        self._counts = WindowCounts(settings.window_posts, settings.window_days)
        self._posts = posts
        self._next = 0
        self.last_pitch: LivePost | None = None

    def feed_before(self, key: tuple[datetime, str, int]) -> None:
        while self._next < len(self._posts) and self._posts[self._next].key < key:
            self._record(self._posts[self._next])
            self._next += 1

    def feed_through(self, key: tuple[datetime, str, int]) -> None:
        self.feed_before(key)
        if self._next < len(self._posts) and self._posts[self._next].key == key:
            self._record(self._posts[self._next])
            self._next += 1

    def _record(self, post: LivePost) -> None:
        self._counts.append(post.at, post.is_pitch, post.forced)
        if post.is_pitch:
            self.last_pitch = post

    def windows(self, at: datetime) -> list[Window]:
        """Each configured window ending at ``at`` (posts fed so far), count window first."""
        return self._counts.windows(at)

    def held_here(self, at: datetime, why: str) -> HeldHere | None:
        """The pitch the planner noted as held at ``at`` (in ``why``), with what the rule says
        of a pitch there given the posts fed so far; None when no refusal was noted."""
        item = held_item(why)
        if item is None:
            return None
        last = self.last_pitch
        verdict = pitch_verdict(
            self._counts.windows(at, candidate=True),
            self.settings.max_pitch_share,
            at - last.at if last is not None else None,
            self.settings.min_pitch_gap_hours,
        )
        return HeldHere(item, verdict, why.removeprefix("empty: "))

    def share_now(self, at: datetime) -> Share:
        """The fullest window ending at ``at``; the count window on a tie."""
        return Share.of(fullest(self._counts.windows(at)))

    def tracker(self) -> WindowTracker:
        """A tracker of the posts fed so far, for trial placements."""
        fed = self._posts[: self._next]
        return WindowTracker(self.settings, [(post.at, post.is_pitch) for post in fed])


def compose_account(
    config: Config,
    account: str,
    year: int,
    week: int,
    now: datetime,
    *,
    settings: BalanceSettings,
    posts: Sequence[PostRow],
    empty_reasons: dict[datetime, str],
    scope_posts: Sequence[LivePost],
    queue: Sequence[QueueRow],
    states: Sequence[StateRow] = (),
    unlisted: int = 0,
) -> AccountPreview:
    """One account's week from what :func:`build_preview` read. Pure: no I/O, no clock.

    ``states``: this account's own verdicts and holds; no other account's reason shows here.
    """
    tz = config.account_timezone(account)
    start, end = iso_week_bounds(year, week, tz)
    weekly = config.account_slots(account)
    instants = expand_week(weekly, year, week, tz)
    limit = settings.max_pitch_share
    windows = ScopeWindows(settings, scope_posts)

    posts_at: dict[datetime, list[PostRow]] = {}
    for post in posts:
        posts_at.setdefault(post.at, []).append(post)
    labels = {instant.at: instant.slot.label for instant in instants}
    rows: list[SlotRow] = []
    problems: list[str] = []
    notes: list[str] = []
    best, best_at = Share(0, 0), None
    windows.feed_before((start, "", -1))
    opening = windows.share_now(start)

    for at in sorted(labels.keys() | posts_at.keys()):
        local = at.astimezone(tz)
        if at not in posts_at:
            windows.feed_before((at, account, -1))
            why = empty_reasons.get(at) or (NOT_PLANNED if at > now else PASSED)
            share = windows.share_now(at)
            refused = windows.held_here(at, why)
            rows.append(
                SlotRow(
                    at, local, labels[at], EMPTY, None, None, None, False, None, why, share, refused
                )
            )
            continue
        for post in posts_at[at]:
            key = (at, account, post.id)
            windows.feed_before(key)
            refused = windows.held_here(at, post.reason or "")
            if post.live and post.is_pitch:
                _check_gap(windows.last_pitch, post, settings, problems, notes, local)
            if post.live:
                windows.feed_through(key)
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
                    refused,
                    media=post.media,
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
    held_rows = [
        row.as_queue_row() for row in states if row.manual_hold or row.state == PlanningState.HELD
    ]
    fits = next_fits(config, held_rows, tracker, ahead)
    held = [
        HeldItem(row.id, row.kind, row.status_reason or "", fits.get(row.id), row.manual_hold)
        for row in held_rows
    ]

    def left_out(state: str) -> list[LeftOut]:
        return [
            LeftOut(
                row.item_id,
                row.kind,
                row.reason or "",
                row.not_after.astimezone(tz) if row.not_after else None,
            )  # fmt: skip
            for row in states
            if row.state == state and not row.manual_hold
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
        runway=_runway(config, account, now, end, live, queue, tz),
        rule_problems=problems,
        notes=notes,
        waiting=left_out(PlanningState.WAITING),
        expired=left_out(PlanningState.EXPIRED),
        skipped=left_out(PlanningState.SKIPPED),
        unlisted=unlisted,
        opening_share=opening,
    )


def _class_of(config: Config, post: PostRow) -> str:
    if not post.is_pitch:
        return "give"
    known = post.kind in config.kinds
    return OWN_DOMAIN_PITCH if known and config.kind_class(post.kind) == "give" else "pitch"


def _check_gap(
    previous: LivePost | None,
    post: PostRow,
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
    post: PostRow,
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


_NEVER = datetime.max.replace(tzinfo=UTC)


def next_fits(
    config: Config, rows: Sequence[QueueRow], tracker: WindowTracker, ahead: Sequence[SlotInstant]
) -> dict[str, datetime]:
    """Where each held item would go, planning forward: slot by slot, the first waiting item
    that may take it (dated items first, earliest deadline first, then planning order), with
    every earlier fit counted as a pitch and every other slot as a give. So no slot is
    promised to two items, and each fit is a slot the rule allows given the fits before it.
    Items held by hand get none."""
    waiting = sorted(
        (row for row in rows if not row.manual_hold),
        key=lambda row: (row.not_after is None, row.not_after or _NEVER),
    )
    takes = {row.id: _labels_taken(config, row.kind) for row in waiting}
    fits: dict[str, datetime] = {}
    trial = tracker.copy()
    for instant in ahead:
        at = instant.at
        taker = None
        if len(fits) < len(waiting) and trial.decide(at, True).allowed:
            taker = next(
                (
                    row
                    for row in waiting
                    if row.id not in fits
                    and instant.slot.label in takes[row.id]
                    and (row.not_before is None or row.not_before <= at)
                    and (row.not_after is None or at < row.not_after)
                ),
                None,
            )
        if taker is not None:
            fits[taker.id] = at
        trial.record(at, taker is not None)
    return fits


def _labels_taken(config: Config, kind: str) -> set[str | None]:
    """The slot labels an item of ``kind`` may take: open slots, its kind and its class."""
    takes: set[str | None] = {None, kind}
    if kind in config.kinds:
        takes.add(config.kind_class(kind))
    return takes


def _runway(
    config: Config,
    account: str,
    now: datetime,
    end: datetime,
    live: Sequence[PostRow],
    queue: Sequence[QueueRow],
    tz: ZoneInfo,
) -> list[Runway]:
    # What the next week can use: a published evergreen item counts when its cooldown ends
    # by then and it has reposts left on the account.
    by = end + timedelta(days=7)
    available = Counter(
        row.kind
        for row in queue
        if not row.manual_hold
        and (row.not_after is None or row.not_after > now)
        and row.goes_to(account)
        and row.comes_back_on(account, by)
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
