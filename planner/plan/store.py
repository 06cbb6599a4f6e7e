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
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from typing import cast as type_cast

from sqlalchemy import (
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from planner.adapters.registry import make_adapter
from planner.config.settings import Config
from planner.content.links import is_own_domain_link
from planner.plan.engine import (
    Candidate,
    FixedPost,
    Placement,
    PlanResult,
    PlanRules,
    RenderFailed,
    Slot,
    plan,
)
from planner.plan.render import Renderer, RenderError, RenderInput
from planner.plan.slots import SlotInstant, WeeklySlot, expand_week, iso_week_bounds
from planner.store.models import EmptySlot, Item, ItemStatus, Post, PostStatus

BATCH = 500
_POSTS = type_cast(Table, Post.__table__)
_ITEMS = type_cast(Table, Item.__table__)
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
    validators: Mapping[str, Callable[[str], list[str]]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Plan ``weeks`` for ``accounts`` (default: all) and write it, unless ``dry_run``.

    ``progress`` is told each step as it starts ("choosing 91000 slots"): a year for many
    accounts takes seconds.
    """
    step = progress or (lambda _: None)
    names = list(accounts or config.settings.accounts)
    renderer = renderer or Renderer.from_config(config)
    slots, ranges = week_slots(config, names, weeks, now)
    scope_accounts = (
        list(config.settings.accounts) if config.settings.balance.scope == "brand" else names
    )
    rules = plan_rules(config, scope_accounts)

    step("reading the queue")
    replaced_ids, fixed, kept_item_ids = _existing_posts(session, names, scope_accounts, ranges)
    candidates = _candidates(session, config, min((s.at for s in slots), default=now))
    network = {name: config.settings.accounts[name].network for name in names}
    if validators is None:
        # Built without the environment: validating text never needs the secrets.
        validators = {name: make_adapter(config.account_settings(name), {}).validate
                      for name in names}  # fmt: skip

    failures: set[tuple[str, str]] = set()
    render_problems: list[str] = []
    while True:
        step(f"choosing {len(slots)} slots from {len(candidates)} items")
        result = plan(slots, fixed, candidates, rules, _skip_known(failures))
        step(f"rendering {sum(p.item is not None for p in result.placements)} posts")
        new_failures, problems = _render_placements(
            session, result.placements, renderer, network, validators
        )
        render_problems.extend(problems)
        if not new_failures:
            break
        failures |= new_failures

    outcome = PlanOutcome(
        placements=result.placements,
        held=result.held,
        expired=result.expired,
        render_problems=render_problems,
        replaced=len(replaced_ids),
        kept=sum(1 for post in fixed if post.account in ranges and _in_range(post, ranges)),
        dry_run=dry_run,
        accounts=names,
    )
    if not dry_run:
        step("writing the plan")
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
    """Every item the planner may place, in planning order (the database sorts them).

    Loads only what choosing needs: text and template fields are fetched later, for the
    items actually chosen. The database flags the items that mention an own domain at all;
    only those get the real link check.
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
    # Most items share a handful of account lists: parse each distinct one once.
    targets_seen: dict[str, tuple[str, ...] | None] = {"[]": None}
    candidates: list[Candidate] = []
    mentioning: list[int] = []
    for rank, row in enumerate(session.connection().execute(query)):
        (item_id, kind, url, targets, not_before, not_after, evergreen, cooldown_days, force,
         status, mentions) = row  # fmt: skip
        if status == ItemStatus.EXPIRED and (not_after is None or not_after <= first_slot):
            continue
        if targets not in targets_seen:
            targets_seen[targets] = tuple(json.loads(targets)) or None
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
                accounts=targets_seen[targets],
                not_before=not_before,
                not_after=not_after,
                evergreen=evergreen,
                cooldown=timedelta(days=cooldown_days) if cooldown_days else None,
                forced=force,
            )
        )
    _mark_own_domain_links(session, [candidates[i] for i in mentioning], own_domains)
    return candidates


def _mark_own_domain_links(
    session: Session, candidates: Sequence[Candidate], own_domains: Sequence[str]
) -> None:
    """Give-kind items that link to an own domain count as pitches: check their links."""
    by_id = {candidate.id: candidate for candidate in candidates}
    columns = (Item.id, Item.url, Item.text, Item.title, Item.variants)
    for chunk in _chunks(list(by_id)):
        for row in session.connection().execute(select(*columns).where(Item.id.in_(chunk))):
            texts = [row.url or "", row.text or "", row.title or ""]
            texts += [str(variant.get("text", "")) for variant in (row.variants or {}).values()]
            by_id[row.id].is_pitch = is_own_domain_link(" ".join(texts), own_domains)


def _render_placements(
    session: Session,
    placements: Sequence[Placement],
    renderer: Renderer,
    network: dict[str, str],
    validators: Mapping[str, Callable[[str], list[str]]],
) -> tuple[set[tuple[str, str]], list[str]]:
    """Render each chosen item's text onto its placement, a batch of items at a time.

    Returns the (item, account) pairs that failed and the problems to report.
    """
    by_item: dict[str, list[Placement]] = {}
    for placement in placements:
        if placement.item is not None:
            by_item.setdefault(placement.item.id, []).append(placement)
    columns = (Item.id, Item.kind, Item.text, Item.title, Item.url, Item.credit, Item.fields,
               Item.variants, Item.tags)  # fmt: skip
    failures: set[tuple[str, str]] = set()
    problems: list[str] = []
    for chunk in _chunks(sorted(by_item)):
        for row in session.connection().execute(select(*columns).where(Item.id.in_(chunk))):
            content = RenderInput.from_item(row)
            for placement in by_item[row.id]:
                account = placement.slot.account
                try:
                    text = renderer.render(content, network[account], account)
                except RenderError as error:
                    failures.add((row.id, account))
                    problems.append(f"{account}: {error}")
                    continue
                # The network's own rules (length, ...), so a too-long post shows up now.
                invalid = validators[account](text)
                if invalid:
                    failures.add((row.id, account))
                    problems.append(f'{account}: item "{row.id}": {"; ".join(invalid)}')
                    continue
                placement.text = text
    return failures, problems


def idempotency_key(account: str, at: datetime, item_id: str) -> str:
    """Stable per (account, instant, item): re-planning the same choice gives the same key."""
    seed = f"{account}|{at.timestamp():.0f}|{item_id}".encode()
    return "p-" + hashlib.blake2b(seed, digest_size=16).hexdigest()


def _post_row(placement: Placement, outcome: PlanOutcome, now: datetime) -> dict[str, Any] | None:
    item, slot = placement.item, placement.slot
    if item is None:
        return None
    return {
        "item_id": item.id,
        "account": slot.account,
        "slot_at": slot.at,
        "slot_label": slot.label,
        "kind": item.kind,
        "is_pitch": item.is_pitch,
        "forced": placement.forced,
        "text": placement.text,
        "status": PostStatus.PLANNED,
        "reason": placement.reason,
        "idempotency_key": idempotency_key(slot.account, slot.at, item.id),
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


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

    placed = {p.item.id for p in outcome.placements if p.item is not None}
    rows = (_post_row(placement, outcome, now) for placement in outcome.placements)
    batch: list[dict[str, Any]] = []
    for row in rows:
        if row is not None:
            batch.append(row)
        if len(batch) == 2000:
            session.execute(insert(_POSTS), batch)
            batch = []
    if batch:
        session.execute(insert(_POSTS), batch)

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

    # One UPDATE per batch of ids (an executemany of single-row updates costs several times more).
    for chunk in _chunks(sorted(placed)):
        session.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id.in_(chunk))
            .values(status=ItemStatus.PLANNED, status_reason=None, updated_at=now)
        )
    updates: list[dict[str, Any]] = []
    for item_id, reason in sorted(result.held.items()):
        if item_id not in placed and item_id not in kept_item_ids:
            updates.append({"item_id": item_id, "status": ItemStatus.HELD, "reason": reason})
    for item_id in sorted(result.expired - placed - kept_item_ids):
        updates.append(
            {"item_id": item_id, "status": ItemStatus.EXPIRED, "reason": "passed its not_after"}
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
        updates.append({"item_id": item_id, "status": ItemStatus.QUEUED, "reason": None})
    # Core executemany: the ORM's bulk update by primary key costs about twice as much here.
    set_status = (
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("item_id"))
        .values(status=bindparam("status"), status_reason=bindparam("reason"), updated_at=now)
    )
    for chunk in _chunks(updates, 2000):
        session.connection().execute(set_status, list(chunk))
