"""``planner plan``: load what the planning engine needs, run it, write the plan.

Re-planning is idempotent. For the weeks and accounts planned, posts still ``planned`` in
the future are replaced; published, claimed and every other post stay where they are and
count: in the ratio windows, against re-using their item on that account, and against
sharing their URL again too soon. Items end ``planned``, ``held`` (with the balancer's
reason), ``expired`` or back to ``queued`` when their post was replaced and not placed again.

Rendering happens in a second pass over the chosen items only, fetched in batches: an item
that fails to render is reported and the plan is made again without it (a rare second
pass), so a broken template never leaves a hole in the week.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from planner.balancer import is_own_domain_link
from planner.config import Config
from planner.models import EmptySlot, Item, ItemStatus, Post, PostStatus
from planner.plan import (
    Candidate,
    FixedPost,
    Placement,
    PlanResult,
    PlanRules,
    RenderFailed,
    Slot,
    plan,
)
from planner.render import Renderer, RenderError, RenderInput
from planner.slots import expand_week, iso_week_bounds

BATCH = 500
_POSTS = cast(Table, Post.__table__)
# Posts that went out, are going out, or will: they count in the windows and use their item.
LIVE_STATUSES = (
    PostStatus.PLANNED,
    PostStatus.CLAIMED,
    PostStatus.PUBLISHED,
    PostStatus.RETRY,
    PostStatus.UNKNOWN,
)


@dataclass
class PlanOutcome:
    """What a plan run decided and wrote (or would write, on a dry run)."""

    placements: list[Placement]
    texts: dict[tuple[str, datetime], str]  # (account, slot time) -> rendered text
    held: dict[str, str]
    expired: set[str]
    render_problems: list[str]
    replaced: int
    kept: int
    dry_run: bool
    accounts: list[str] = field(default_factory=list)

    @property
    def empty(self) -> list[Placement]:
        return [p for p in self.placements if p.item is None]


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
    for account in accounts:
        tz = config.account_timezone(account)
        weekly = config.account_slots(account)
        start = iso_week_bounds(*weeks[0], tz)[0]
        end = iso_week_bounds(*weeks[-1], tz)[1]
        ranges[account] = (max(start, now), end)
        for year, week in weeks:
            for instant in expand_week(weekly, year, week, tz):
                if instant.at > now:
                    slots.append(Slot(account, instant.at, instant.slot.label))
    return slots, ranges


def _chunks(values: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def plan_weeks(
    session: Session,
    config: Config,
    weeks: Sequence[tuple[int, int]],
    now: datetime,
    *,
    accounts: Sequence[str] | None = None,
    dry_run: bool = False,
    renderer: Renderer | None = None,
) -> PlanOutcome:
    """Plan ``weeks`` for ``accounts`` (default: all) and write it, unless ``dry_run``."""
    names = list(accounts or config.settings.accounts)
    renderer = renderer or Renderer.from_config(config)
    slots, ranges = week_slots(config, names, weeks, now)
    scope_accounts = (
        list(config.settings.accounts) if config.settings.balance.scope == "brand" else names
    )
    rules = plan_rules(config, scope_accounts)

    replaced_ids, fixed, kept_item_ids = _existing_posts(session, names, scope_accounts, ranges)
    candidates = _candidates(session, config, min((s.at for s in slots), default=now))
    network = {name: config.settings.accounts[name].network for name in names}

    failures: set[tuple[str, str]] = set()
    render_problems: list[str] = []
    while True:
        result = plan(slots, fixed, {}, candidates, rules, _skip_known(failures))
        texts, new_failures, problems = _render_placements(
            session, result.placements, renderer, network
        )
        render_problems.extend(problems)
        if not new_failures:
            break
        failures |= new_failures

    outcome = PlanOutcome(
        placements=result.placements,
        texts=texts,
        held=result.held,
        expired=result.expired,
        render_problems=render_problems,
        replaced=len(replaced_ids),
        kept=sum(1 for post in fixed if post.account in ranges and _in_range(post, ranges)),
        dry_run=dry_run,
        accounts=names,
    )
    if not dry_run:
        _write(session, ranges, outcome, result, replaced_ids, kept_item_ids, now)
    return outcome


def _skip_known(failures: set[tuple[str, str]]) -> Callable[[Candidate, str], str]:
    """The engine's render hook: texts are rendered after choosing, in batches, so here an
    item only fails when an earlier pass found it cannot be rendered for that account."""

    def check(candidate: Candidate, account: str) -> str:
        if (candidate.id, account) in failures:
            raise RenderFailed(f"{candidate.id} on {account}: could not be rendered")
        return ""

    return check


def _in_range(post: FixedPost, ranges: dict[str, tuple[datetime, datetime]]) -> bool:
    start, end = ranges[post.account]
    return start <= post.at < end


def _existing_posts(
    session: Session,
    names: Sequence[str],
    scope_accounts: Sequence[str],
    ranges: dict[str, tuple[datetime, datetime]],
) -> tuple[list[int], list[FixedPost], set[str]]:
    """Posts to replace (ids), posts that stay (as fixed posts), and the items they use."""
    replace_filter = or_(
        *(
            and_(Post.account == name, Post.slot_at >= start, Post.slot_at < end)
            for name, (start, end) in ranges.items()
        )
    )
    replaced_ids = list(
        session.scalars(select(Post.id).where(Post.status == PostStatus.PLANNED, replace_filter))
    )
    replaced = set(replaced_ids)
    rows = session.execute(
        select(Post.id, Post.account, Post.slot_at, Post.item_id, Post.is_pitch, Item.url)
        .join(Item, Item.id == Post.item_id)
        .where(Post.account.in_(scope_accounts), Post.status.in_(LIVE_STATUSES))
        .order_by(Post.slot_at, Post.account)
    )
    fixed = [
        FixedPost(row.account, row.slot_at, row.item_id, row.is_pitch, row.url)
        for row in rows
        if row.id not in replaced
    ]
    kept_items = {post.item_id for post in fixed}
    return replaced_ids, fixed, kept_items


def _candidates(session: Session, config: Config, first_slot: datetime) -> list[Candidate]:
    own_domains = list(config.settings.own_domains)
    kinds = config.kinds
    query = select(
        Item.id,
        Item.kind,
        Item.url,
        Item.text,
        Item.title,
        Item.variants,
        Item.accounts,
        Item.not_before,
        Item.not_after,
        Item.priority,
        Item.created_at,
        Item.evergreen,
        Item.cooldown_days,
        Item.force,
        Item.status,
    ).where(
        Item.manual_hold.is_(False),
        or_(
            Item.status.in_(
                [ItemStatus.QUEUED, ItemStatus.HELD, ItemStatus.PLANNED, ItemStatus.EXPIRED]
            ),
            and_(Item.status == ItemStatus.PUBLISHED, Item.evergreen.is_(True)),
        ),
    )
    candidates = []
    for row in session.execute(query):
        if row.kind not in kinds:
            continue
        if row.status == ItemStatus.EXPIRED and (
            row.not_after is None or row.not_after <= first_slot
        ):
            continue
        is_pitch = kinds[row.kind].class_ == "pitch"
        if not is_pitch and own_domains:
            texts = [row.url or "", row.text or "", row.title or ""]
            texts += [v.get("text", "") for v in (row.variants or {}).values()]
            is_pitch = is_own_domain_link(" ".join(texts), own_domains)
        candidates.append(
            Candidate(
                id=row.id,
                kind=row.kind,
                is_pitch=is_pitch,
                url=row.url,
                accounts=frozenset(row.accounts) if row.accounts else None,
                not_before=row.not_before,
                not_after=row.not_after,
                priority=row.priority,
                created_at=row.created_at,
                evergreen=row.evergreen,
                cooldown=timedelta(days=row.cooldown_days) if row.cooldown_days else None,
                forced=row.force,
            )
        )
    return candidates


def _render_placements(
    session: Session,
    placements: Sequence[Placement],
    renderer: Renderer,
    network: dict[str, str],
) -> tuple[dict[tuple[str, datetime], str], set[tuple[str, str]], list[str]]:
    chosen = [p for p in placements if p.item is not None]
    ids = sorted({p.item.id for p in chosen if p.item is not None})
    inputs: dict[str, RenderInput] = {}
    for chunk in _chunks(ids):
        for item in session.scalars(select(Item).where(Item.id.in_(chunk))):
            inputs[item.id] = RenderInput.from_item(item)
        session.expunge_all()  # keep memory flat on a year of posts
    texts: dict[tuple[str, datetime], str] = {}
    failures: set[tuple[str, str]] = set()
    problems: list[str] = []
    for placement in chosen:
        assert placement.item is not None
        account = placement.slot.account
        try:
            text = renderer.render(inputs[placement.item.id], network[account], account)
        except RenderError as error:
            failures.add((placement.item.id, account))
            problems.append(f"{account}: {error}")
            continue
        texts[(account, placement.slot.at)] = text
    return texts, failures, problems


def idempotency_key(account: str, at: datetime, item_id: str) -> str:
    """Stable per (account, instant, item): re-planning the same choice gives the same key."""
    digest = hashlib.sha256(f"{account}|{at.isoformat()}|{item_id}".encode()).hexdigest()
    return f"p-{digest[:32]}"


def _write(
    session: Session,
    ranges: dict[str, tuple[datetime, datetime]],
    outcome: PlanOutcome,
    result: PlanResult,
    replaced_ids: list[int],
    kept_item_ids: set[str],
    now: datetime,
) -> None:
    replaced_items: set[str] = set()
    for chunk in _chunks(replaced_ids):
        replaced_items.update(session.scalars(select(Post.item_id).where(Post.id.in_(chunk))))
        session.execute(delete(Post).where(Post.id.in_(chunk)))

    rows = []
    placed: set[str] = set()
    for placement in outcome.placements:
        item = placement.item
        if item is None:
            continue
        placed.add(item.id)
        slot = placement.slot
        rows.append(
            {
                "item_id": item.id,
                "account": slot.account,
                "slot_at": slot.at,
                "slot_label": slot.label,
                "kind": item.kind,
                "is_pitch": item.is_pitch,
                "forced": placement.forced,
                "text": outcome.texts[(slot.account, slot.at)],
                "status": PostStatus.PLANNED,
                "reason": placement.reason,
                "idempotency_key": idempotency_key(slot.account, slot.at, item.id),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    for chunk in _chunks(rows, 2000):
        session.execute(insert(_POSTS), chunk)

    for account, (start, end) in ranges.items():
        session.execute(
            delete(EmptySlot).where(
                EmptySlot.account == account, EmptySlot.slot_at >= start, EmptySlot.slot_at < end
            )
        )
    empty = [
        {
            "account": p.slot.account,
            "slot_at": p.slot.at,
            "slot_label": p.slot.label,
            "reason": p.reason,
            "created_at": now,
        }
        for p in outcome.empty
    ]
    if empty:
        session.execute(insert(EmptySlot), empty)

    updates: list[dict[str, Any]] = []
    for item_id in sorted(placed):
        updates.append({"id": item_id, "status": ItemStatus.PLANNED, "status_reason": None})
    for item_id, reason in sorted(result.held.items()):
        if item_id not in placed and item_id not in kept_item_ids:
            updates.append({"id": item_id, "status": ItemStatus.HELD, "status_reason": reason})
    for item_id in sorted(result.expired - placed - kept_item_ids):
        updates.append(
            {"id": item_id, "status": ItemStatus.EXPIRED, "status_reason": "passed its not_after"}
        )
    decided = placed | set(result.held) | result.expired | kept_item_ids
    back_to_queue = sorted(replaced_items - decided)
    held_by_hand: set[str] = set()
    for chunk in _chunks(back_to_queue):
        held_by_hand.update(
            session.scalars(select(Item.id).where(Item.id.in_(chunk), Item.manual_hold.is_(True)))
        )
    for item_id in back_to_queue:
        if item_id in held_by_hand:
            continue
        updates.append({"id": item_id, "status": ItemStatus.QUEUED, "status_reason": None})
    for chunk in _chunks(updates, 2000):
        session.execute(update(Item), [{**row, "updated_at": now} for row in chunk])
