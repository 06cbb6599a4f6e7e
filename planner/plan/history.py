"""The posts a plan finds in place: those it replaces (locked), and those that stay and count.

A plan feels a post before its weeks only through the rule's windows, the pitch gap, the
duplicate-URL guard and the uses of items it may still place: :func:`existing_posts` reads
those (:func:`history_reach`), not a brand's whole history. Reads only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, text
from sqlalchemy.orm import Session

from planner.plan.model import FixedPost, PlanRules
from planner.plan.ranges import in_ranges
from planner.store.models import (
    ITEMS,
    LIVE_STATUSES,
    POSTS,
    ItemStatus,
    PostStatus,
    open_items_condition,
    republishable_condition,
)


@dataclass
class ExistingPosts:
    """The posts already in the planned ranges and before them, as the plan finds them."""

    replaced_ids: list[int]  # planned posts this plan replaces, locked until it commits
    fixed: list[FixedPost]  # posts that stay: they count in the windows and use their items
    kept_item_ids: set[str]
    in_flight: int  # posts in the ranges a runner is claiming or has claimed: kept
    # Of kept_item_ids, those a plan may still place (open, not held by hand): the only
    # ones it can read again as candidates.
    open_item_ids: set[str] = field(default_factory=set)


def existing_posts(
    session: Session,
    names: Sequence[str],
    scope_accounts: Sequence[str],
    ranges: dict[str, tuple[datetime, datetime]],
    rules: PlanRules | None = None,
) -> ExistingPosts:
    """Posts to replace, posts that stay, and the items they use.

    A plan replaces only posts still ``planned``, and locks them as it reads them, so a runner
    cannot claim one the plan is about to delete (PostgreSQL: row locks; a claim in progress
    holds its row, and ``SKIP LOCKED`` leaves that post where it is, counted as in flight;
    SQLite: the plan's transaction holds the write lock from its start).

    Of the posts before the planned ranges, only those the plan can feel are read (given
    ``rules``; every post without): see :func:`history_reach`.
    """
    replaced_ids = list(
        session.scalars(
            select(POSTS.c.id)
            .where(
                POSTS.c.status == PostStatus.PLANNED,
                in_ranges(POSTS.c.account, POSTS.c.slot_at, ranges),
            )
            .order_by(POSTS.c.id)
            .with_for_update(skip_locked=True)
        )
    )
    replaced = set(replaced_ids)
    # Core, not the ORM: these are column reads, and the ORM's per-statement work adds up
    # over one query per scope.
    connection = session.connection()
    still_open = and_(ITEMS.c.manual_hold.is_(False), text(open_items_condition("items.")))
    columns = (
        POSTS.c.id, POSTS.c.account, POSTS.c.slot_at, POSTS.c.item_id, POSTS.c.is_pitch,
        POSTS.c.status, ITEMS.c.url, still_open.label("item_open"),
    )  # fmt: skip
    live = (POSTS.c.account.in_(scope_accounts), POSTS.c.status.in_(LIVE_STATUSES))
    first = min((start for start, _ in ranges.values()), default=None)
    queries: list[tuple[Any, dict[str, Any]]]
    if rules is None or first is None:
        queries = [(select(*columns).join(ITEMS, ITEMS.c.id == POSTS.c.item_id).where(*live), {})]
    else:
        queries = _history_queries(session, columns, live, scope_accounts, rules, first)
    # Plain tuples, unpacked once: a year of history is thousands of rows, and attribute
    # access on each row, several times over, cost more than reading them.
    by_id: dict[int, tuple[Any, ...]] = {}
    for query, params in queries:
        for row in connection.execute(query, params):
            if row[0] not in replaced:
                by_id[row[0]] = tuple(row)
    rows = sorted(by_id.values(), key=_TIME_ORDER)
    fixed = [
        FixedPost(account, at, item_id, pitch, url)
        for _, account, at, item_id, pitch, _, url, _ in rows
    ]
    in_flight = sum(
        1
        for _, account, at, _, _, status, _, _ in rows
        if account in ranges
        and ranges[account][0] <= at < ranges[account][1]
        and status in (PostStatus.PLANNED, PostStatus.CLAIMED)
    )
    open_items = {item_id for _, _, _, item_id, _, _, _, item_open in rows if item_open}
    return ExistingPosts(
        replaced_ids, fixed, {post.item_id for post in fixed}, in_flight, open_items
    )


# The columns' order above: id, account, slot_at. Posts in time order, then by account and id.
_TIME_ORDER = itemgetter(2, 1, 0)


def history_reach(rules: PlanRules) -> timedelta:
    """How far before the first planned slot a post can still change a plan: the longest of
    the rule's reach (:func:`rule_reach`) and the duplicate-URL guard. Older posts matter only
    as the last ``window_posts`` of a count window, or as a use of an item that can still be
    placed (evergreen cooldowns and repost limits, an item already on an account)."""
    return max(rule_reach(rules), timedelta(days=rules.duplicate_url_days))


def rule_reach(rules: PlanRules) -> timedelta:
    """How far back the rule looks: the longest days window and pitch gap. A post older than
    that but within the duplicate-URL guard matters only if it has a URL."""
    days = [0.0]
    for settings in rules.balance.values():
        days.append(settings.window_days or 0.0)
        days.append((settings.min_pitch_gap_hours or 0.0) / 24)
    return timedelta(days=max(days))


# Live posts that have not gone out: their item may still be open without having been
# published (a post that went out sets its item's last_published_at).
_NOT_OUT_YET = [status for status in LIVE_STATUSES if status != PostStatus.PUBLISHED]


def _history_queries(
    session: Session,
    columns: tuple[Any, ...],
    live: tuple[Any, ...],
    scope_accounts: Sequence[str],
    rules: PlanRules,
    first: datetime,
) -> list[tuple[Any, dict[str, Any]]]:
    """The posts a plan from ``first`` on can feel: everything within the rule's reach, the
    posts with a URL within the duplicate-URL guard's, each scope's last ``window_posts``
    before the rule's reach, and the older uses of items that are still candidates. The same
    windows, gaps, guards and uses as reading every post, at the cost of the weeks the rule
    looks back over rather than the whole history."""
    since = first - rule_reach(rules)
    url_since = first - history_reach(rules)
    base = select(*columns).join(ITEMS, ITEMS.c.id == POSTS.c.item_id)
    queries: list[tuple[Any, dict[str, Any]]] = [(base.where(*live, POSTS.c.slot_at >= since), {})]
    if url_since < since:
        # Older than the rule looks, a post still keeps its URL from being shared again too
        # soon; one without a URL (a plain help post, a third of a brand's) changes nothing.
        queries.append((
            base.where(*live, POSTS.c.slot_at >= url_since, POSTS.c.slot_at < since)
            .where(ITEMS.c.url.is_not(None)), {}
        ))  # fmt: skip
    # A brand with no post before the reach (a new one) has neither older uses nor posts
    # a count window reaches back to.
    if not session.scalar(select(exists().where(*live, POSTS.c.slot_at < since))):
        return queries
    # Uses of items that can still be placed: not published (or archived) unless evergreen.
    # Found from the items' side: those that went out before and may go out again (a
    # partial index holds them), then their posts by item; and the few live posts that have
    # not gone out. A brand's history grows without end, and so may its open queue; these
    # do not. (Joining each older post to its item took 0.36 s for a year of 50 accounts;
    # asking each open item for an older post, 50 ms for 100,000 open items.)
    placeable = or_(
        ITEMS.c.evergreen.is_(True),
        ITEMS.c.status.not_in([ItemStatus.PUBLISHED, ItemStatus.ARCHIVED]),
    )
    republishable = select(ITEMS.c.id).where(text(republishable_condition("items.")))
    older = (*live, POSTS.c.slot_at < since)
    queries.append((base.where(*older, POSTS.c.item_id.in_(republishable)), {}))
    queries.append((base.where(*older, POSTS.c.status.in_(_NOT_OUT_YET), placeable), {}))
    # A count window reaches back a number of posts, however old: each scope's last ones.
    scopes: dict[str, list[str]] = {}
    for account in scope_accounts:
        scopes.setdefault(rules.scope_of.get(account, account), []).append(account)
    # One statement, built once, run for each scope (a brand of 50 accounts has 50).
    last_posts = (
        base.where(POSTS.c.account.in_(bindparam("members", expanding=True)))
        .where(POSTS.c.status.in_(LIVE_STATUSES), POSTS.c.slot_at < since)
        .order_by(POSTS.c.slot_at.desc())
        .limit(bindparam("window_posts"))
    )
    for scope, members in scopes.items():
        settings = rules.balance.get(scope)
        if settings is None or settings.window_posts is None:
            continue
        queries.append((last_posts, {"members": members, "window_posts": settings.window_posts}))
    return queries
