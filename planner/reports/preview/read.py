"""``planner preview``: one ISO week per account, read back from the database as plain data.

For every account, every slot of the week (from its config, so slots never planned show too)
with the post on it or why it is empty, the running pitch share, and a summary:

- **Running pitch share**: the scope's live posts (``models.LIVE_STATUSES``: the account's,
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
- **Held, waiting, expired and skipped items**: this account's own verdicts from the last
  plan (``item_account_states``; another account's never show), and items held by hand on
  it or on every account. Each held item gets the slot it would take next, planning forward
  (:func:`~planner.reports.preview.compose.next_fits`): the account's slots after the last
  recorded post (and after ``now``) in this week and the next :data:`LOOKAHEAD_WEEKS` weeks,
  each given to the first waiting item that may take it where ``WindowTracker.decide`` allows
  a pitch, so no slot is promised twice. Items held by hand are not tried.
- **Runway** per kind: ``available`` = items still usable by the account (status queued or
  held, not held by hand, ``not_after`` after ``now``, no target accounts or this one), and
  published evergreen items whose cooldown ends before the end of the next week and that
  have reposts left on the account (``max_reposts``);
  ``planned_this_week`` = the account's live posts of that kind this week. The queue lasts
  ``lasts_days = available * 7 // planned_this_week`` days at this week's pace (None when the
  kind is unused). When ``available < planned_this_week`` it does not last a week like this
  one: ``runs_dry_on`` is the local weekday of this week's post number ``available + 1`` of
  the kind, the first that would find no item.

Queries: per account, one indexed range query for the week's posts (every status) and one for
its ``empty_slots``; per account in the balance scope (once for a brand-wide scope), one range
query for its live posts from the start of the windows' look-back to the week's end, and a
``LIMIT window_posts`` query that finds where that look-back starts; one query for the queue
(held and queued items) and one for the previewed accounts' verdicts. The composition is
pure: ``now`` is passed in, nothing reads the clock.

The composition is in :mod:`planner.reports.preview.compose`; the data classes and the ``--check``
verdict are in :mod:`planner.reports.preview.model`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.content.media_store import item_images
from planner.plan.slots import iso_week_bounds
from planner.reports.preview.compose import compose_account
from planner.reports.preview.model import Preview
from planner.reports.preview.rows import LivePost, PostRow, QueueRow, StateRow
from planner.reports.preview.thumbnails import preview_image
from planner.rule.balancer import BalanceSettings
from planner.store.models import (
    LIVE_STATUSES,
    AccountPlan,
    EmptySlot,
    Item,
    ItemAccountState,
    ItemStatus,
    Post,
)

HELD_BY_HAND = "held by hand on this account (planner hold --account)"
HELD_BY_HAND_EVERYWHERE = "held by hand on every account (planner hold)"

# --- reading the database -------------------------------------------------------------------


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
    states = _account_states(session, names, queue)
    unlisted = {
        row.account: row.unlisted
        for row in session.execute(
            select(AccountPlan.account, AccountPlan.unlisted).where(AccountPlan.account.in_(names))
        )
    }
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
            compose_account(
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
                states=states[account],
                unlisted=unlisted.get(account, 0),
            )
        )
    return Preview(year, week, now, previews)


def _week_posts(session: Session, account: str, start: datetime, end: datetime) -> list[PostRow]:
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
    posts = [PostRow(**row._asdict()) for row in session.execute(query)]
    images = item_images(session, [post.item_id for post in posts])
    if not images:
        return posts
    return [
        replace(post, media=tuple(preview_image(image) for image in images[post.item_id]))
        if post.item_id in images
        else post
        for post in posts
    ]


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
) -> list[LivePost]:
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
            LivePost(at, account, id_, pitch, forced)
            for at, id_, pitch, forced in session.execute(query)
        ]
    return sorted(found, key=lambda post: post.key)


def _queue_rows(session: Session) -> list[QueueRow]:
    """Items queued or held, and evergreen items published: they come back after their
    cooldown (``back_at``), and their posts so far on each account (``uses``) count against
    their reposts."""
    evergreen_out = and_(Item.evergreen.is_(True), Item.status == ItemStatus.PUBLISHED)
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
            Item.evergreen,
            Item.cooldown_days,
            Item.max_reposts,
            Item.last_published_at,
        )
        .where(or_(Item.status.in_([ItemStatus.QUEUED, ItemStatus.HELD]), evergreen_out))
        .order_by(Item.priority.desc(), Item.created_at, Item.id)
    )
    rows = session.execute(query).all()
    limited = [row.id for row in rows if row.evergreen and row.max_reposts is not None]
    uses: dict[str, dict[str, int]] = {}
    for start in range(0, len(limited), 500):
        counted = session.execute(
            select(Post.item_id, Post.account, func.count())
            .where(Post.item_id.in_(limited[start : start + 500]), Post.status.in_(LIVE_STATUSES))
            .group_by(Post.item_id, Post.account)
        )
        for item_id, account, count in counted:
            uses.setdefault(item_id, {})[account] = count
    found = []
    for row in rows:
        back_at = None
        if row.status == ItemStatus.PUBLISHED and row.last_published_at and row.cooldown_days:
            back_at = row.last_published_at + timedelta(days=row.cooldown_days)
        found.append(
            QueueRow(
                row.id,
                row.kind,
                row.accounts,
                row.status,
                row.status_reason,
                row.manual_hold,
                row.not_before,
                row.not_after,
                back_at,
                None if row.max_reposts is None else 1 + row.max_reposts,
                uses.get(row.id, {}),
            )  # fmt: skip
        )
    return found


def _account_states(
    session: Session, names: Sequence[str], queue: Sequence[QueueRow]
) -> dict[str, list[StateRow]]:
    """Each account's own verdicts and holds, in planning order."""
    found: dict[str, list[StateRow]] = {name: [] for name in names}
    query = (
        select(
            ItemAccountState.account,
            ItemAccountState.item_id,
            Item.kind,
            ItemAccountState.state,
            ItemAccountState.reason,
            ItemAccountState.manual_hold,
            Item.not_before,
            Item.not_after,
        )
        .join(Item, Item.id == ItemAccountState.item_id)
        .where(
            ItemAccountState.account.in_(names),
            ItemAccountState.state.is_not(None) | ItemAccountState.manual_hold.is_(True),
            Item.manual_hold.is_(False),
            Item.status != ItemStatus.ARCHIVED,
        )
        .order_by(Item.priority.desc(), Item.created_at, Item.id)
    )
    for account, item_id, kind, state, reason, by_hand, not_before, not_after in session.execute(
        query
    ):
        reason = HELD_BY_HAND if by_hand else reason
        found[account].append(
            StateRow(item_id, kind, state, reason, by_hand, not_before, not_after)
        )
    for row in queue:
        if row.manual_hold:
            for account in names:
                if row.goes_to(account):
                    found[account].append(
                        StateRow(
                            row.id,
                            row.kind,
                            None,
                            HELD_BY_HAND_EVERYWHERE,
                            True,
                            row.not_before,
                            row.not_after,
                        )  # fmt: skip
                    )
    return found
