"""What the planning engine needs, read from the config and the database.

- :func:`week_slots`: every slot of the weeks to plan, and each account's planned range;
- :func:`plan_rules`: the kinds, the rule per scope and the duplicate-URL guard;
- :func:`existing_posts`: posts to replace (locked), and posts that stay (they count in the
  windows);
- :func:`candidates`: every item that may be placed, in planning order.

Reads only; :mod:`planner.plan.store` runs the engine and writes what it chose.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, false, func, or_, select
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.content.links import item_own_domain_link
from planner.plan.model import NO_ACCOUNTS, Candidate, FixedPost, PlanRules, Slot
from planner.plan.slots import SlotInstant, WeeklySlot, expand_week, iso_week_bounds
from planner.store.models import (
    LIVE_STATUSES,
    Item,
    ItemAccountState,
    ItemStatus,
    Post,
    PostStatus,
)

BATCH = 500


def scope_key(config: Config, account: str) -> str:
    return "*brand*" if config.settings.balance.scope == "brand" else account


def plan_rules(config: Config, accounts: Iterable[str]) -> PlanRules:
    scope_of = {name: scope_key(config, name) for name in accounts}
    balance = {
        scope: (config.balance_for_brand() if scope == "*brand*" else config.balance_for(scope))
        for scope in set(scope_of.values())
    }
    return PlanRules(
        kinds={name: (kind.class_, kind.weight) for name, kind in config.kinds.items()},
        balance=balance,
        scope_of=scope_of,
        duplicate_url_days=config.settings.plan.duplicate_url_days,
    )


def week_slots(
    config: Config, accounts: Sequence[str], weeks: Sequence[tuple[int, int]], now: datetime
) -> tuple[list[Slot], dict[str, tuple[datetime, datetime]]]:
    """Every slot of ``weeks`` after ``now``, and each account's planned range [start, end)."""
    slots: list[Slot] = []
    ranges: dict[str, tuple[datetime, datetime]] = {}
    # Accounts often share a timezone and a schedule: expand each distinct week once.
    expanded: dict[tuple[str, tuple[WeeklySlot, ...], int, int], list[SlotInstant]] = {}
    for account in accounts:
        tz = config.account_timezone(account)
        weekly = tuple(config.account_slots(account))
        start = iso_week_bounds(*weeks[0], tz)[0]
        end = iso_week_bounds(*weeks[-1], tz)[1]
        ranges[account] = (max(start, now), end)
        for year, week in weeks:
            key = (tz.key, weekly, year, week)
            if key not in expanded:
                expanded[key] = expand_week(weekly, year, week, tz)
            slots += [
                Slot(account, instant.at, instant.slot.label)
                for instant in expanded[key]
                if instant.at > now
            ]
    return slots, ranges


def chunks(values: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class ExistingPosts:
    """The posts already in the planned ranges and before them, as the plan finds them."""

    replaced_ids: list[int]  # planned posts this plan replaces, locked until it commits
    fixed: list[FixedPost]  # posts that stay: they count in the windows and use their items
    kept_item_ids: set[str]
    in_flight: int  # posts in the ranges a runner is claiming or has claimed: kept


def existing_posts(
    session: Session,
    names: Sequence[str],
    scope_accounts: Sequence[str],
    ranges: dict[str, tuple[datetime, datetime]],
) -> ExistingPosts:
    """Posts to replace, posts that stay, and the items they use.

    A plan replaces only posts still ``planned``, and locks them as it reads them, so a runner
    cannot claim one the plan is about to delete (PostgreSQL: row locks; a claim in progress
    holds its row, and ``SKIP LOCKED`` leaves that post where it is, counted as in flight;
    SQLite: the plan's transaction holds the write lock from its start).
    """
    in_ranges = or_(
        *(
            and_(Post.account == name, Post.slot_at >= start, Post.slot_at < end)
            for name, (start, end) in ranges.items()
        )
    )
    replaced_ids = list(
        session.scalars(
            select(Post.id)
            .where(Post.status == PostStatus.PLANNED, in_ranges)
            .order_by(Post.id)
            .with_for_update(skip_locked=True)
        )
    )
    replaced = set(replaced_ids)
    rows = session.execute(
        select(
            Post.id, Post.account, Post.slot_at, Post.item_id, Post.is_pitch, Post.status, Item.url
        )
        .join(Item, Item.id == Post.item_id)
        .where(Post.account.in_(scope_accounts), Post.status.in_(LIVE_STATUSES))
        .order_by(Post.slot_at, Post.account)
    ).all()
    fixed = [
        FixedPost(row.account, row.slot_at, row.item_id, row.is_pitch, row.url)
        for row in rows
        if row.id not in replaced
    ]
    in_flight = sum(
        1
        for row in rows
        if row.id not in replaced
        and row.account in ranges
        and ranges[row.account][0] <= row.slot_at < ranges[row.account][1]
        and row.status in (PostStatus.PLANNED, PostStatus.CLAIMED)
    )
    return ExistingPosts(replaced_ids, fixed, {post.item_id for post in fixed}, in_flight)


def candidates(session: Session, config: Config, first_slot: datetime) -> list[Candidate]:
    """Every item the planner may place, in planning order (the database sorts them).

    Loads only what choosing needs: text and template fields are fetched later, for the
    items actually chosen. The database flags the items that mention an own domain at all;
    only those get the real link check. An item held by hand on some accounts goes only to
    the others; one released with ``--force`` on some accounts is forced there only.
    """
    own_domains = [domain.lower() for domain in config.settings.own_domains]
    classes = {name: kind.class_ for name, kind in config.kinds.items()}
    content = func.lower(
        func.coalesce(Item.url, "")
        + " "
        + func.coalesce(Item.text, "")
        + " "
        + func.coalesce(Item.title, "")
        + " "
        + cast(Item.variants, Text)
    )
    mentions_own = (
        or_(*(content.contains(domain) for domain in own_domains)) if own_domains else false()
    )
    query = (
        select(
            Item.id,
            Item.kind,
            Item.url,
            cast(Item.accounts, Text),
            Item.not_before,
            Item.not_after,
            Item.evergreen,
            Item.cooldown_days,
            Item.max_reposts,
            Item.force,
            Item.status,
            mentions_own,
        )
        .where(
            Item.manual_hold.is_(False),
            Item.kind.in_(list(classes)),
            or_(
                Item.status.in_(
                    [ItemStatus.QUEUED, ItemStatus.HELD, ItemStatus.PLANNED, ItemStatus.EXPIRED]
                ),
                and_(Item.status == ItemStatus.PUBLISHED, Item.evergreen.is_(True)),
            ),
        )
        .order_by(Item.priority.desc(), Item.created_at, Item.id)
    )
    held_on, forced_on = _by_hand_per_account(session)
    every_account = tuple(config.settings.accounts)
    # Most items share a handful of account lists: parse each distinct one once.
    targets_seen: dict[str, tuple[str, ...] | None] = {"[]": None}
    candidates: list[Candidate] = []
    mentioning: list[int] = []
    for rank, row in enumerate(session.connection().execute(query)):
        (item_id, kind, url, targets, not_before, not_after, evergreen, cooldown_days,
         max_reposts, force, status, mentions) = row  # fmt: skip
        if status == ItemStatus.EXPIRED and (not_after is None or not_after <= first_slot):
            continue
        if targets not in targets_seen:
            targets_seen[targets] = tuple(json.loads(targets)) or None
        accounts = targets_seen[targets]
        if item_id in held_on:
            accounts = tuple(a for a in accounts or every_account if a not in held_on[item_id])
            if not accounts:
                continue
        is_pitch = classes[kind] == "pitch"
        if mentions and not is_pitch:
            mentioning.append(len(candidates))
        candidates.append(
            Candidate(
                item_id,
                kind,
                is_pitch,
                rank=rank,
                url=url,
                accounts=accounts,
                not_before=not_before,
                not_after=not_after,
                evergreen=evergreen,
                cooldown=timedelta(days=cooldown_days) if cooldown_days else None,
                forced=force,
                forced_on=forced_on.get(item_id, NO_ACCOUNTS),
                max_posts=None if max_reposts is None or not evergreen else 1 + max_reposts,
            )
        )
    _mark_own_domain_links(session, [candidates[i] for i in mentioning], own_domains)
    return candidates


def _by_hand_per_account(
    session: Session,
) -> tuple[dict[str, set[str]], dict[str, frozenset[str]]]:
    """Item id -> the accounts it is held on by hand, and -> those it is force-released on."""
    held: dict[str, set[str]] = {}
    forced: dict[str, set[str]] = {}
    query = select(
        ItemAccountState.item_id,
        ItemAccountState.account,
        ItemAccountState.manual_hold,
        ItemAccountState.force,
    ).where(or_(ItemAccountState.manual_hold.is_(True), ItemAccountState.force.is_(True)))
    for item_id, account, manual_hold, force in session.execute(query):
        if manual_hold:
            held.setdefault(item_id, set()).add(account)
        elif force:
            forced.setdefault(item_id, set()).add(account)
    return held, {item_id: frozenset(names) for item_id, names in forced.items()}


def _mark_own_domain_links(
    session: Session, candidates: Sequence[Candidate], own_domains: Sequence[str]
) -> None:
    """Give-kind items that link to an own domain count as pitches: check their links."""
    links = own_domain_links(session, [candidate.id for candidate in candidates], own_domains)
    for candidate in candidates:
        candidate.is_pitch = candidate.id in links


def own_domain_links(
    session: Session, item_ids: Sequence[str], own_domains: Sequence[str]
) -> dict[str, str]:
    """Item id -> the link to an own domain that makes the item a pitch, for the items of
    ``item_ids`` that have one (in their url, text, title or a network variant)."""
    found: dict[str, str] = {}
    columns = (Item.id, Item.url, Item.text, Item.title, Item.variants)
    for chunk in chunks(list(item_ids)):
        for row in session.connection().execute(select(*columns).where(Item.id.in_(chunk))):
            link = item_own_domain_link(row.url, row.text, row.title, row.variants, own_domains)
            if link is not None:
                found[row.id] = link
    return found
