"""``planner plan``: load what the engine needs (:mod:`planner.plan.load`), run it, write the plan.

Re-planning is idempotent. For the weeks and accounts planned, posts still ``planned`` in
the future are replaced; published, claimed and every other post stay where they are and
count: in the ratio windows, against re-using their item on that account, and against
sharing their URL again too soon.

What the plan decided of the items it left out is kept per (item, account): held, waiting,
expired or skipped, each with its reason (:mod:`planner.plan.verdicts`).

Rendering happens in a second pass over the chosen items only, fetched in batches: an item
that fails to render is reported and the plan is made again without it (a rare second
pass), so a broken template never leaves a hole in the week.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from planner.adapters.registry import make_adapter
from planner.config.settings import Config
from planner.heap import older_objects_frozen
from planner.plan.engine import plan
from planner.plan.history import existing_posts
from planner.plan.load import candidates as load_candidates
from planner.plan.load import own_domain_links, plan_rules, week_slots
from planner.plan.model import Candidate, FixedPost, ItemOn, Placement, PlanResult, RenderFailed
from planner.plan.own_domains import refresh_flags
from planner.plan.ranges import in_ranges
from planner.plan.render import Renderer, RenderError, RenderInput, TemplateFileError
from planner.plan.verdicts import write_item_statuses, write_verdicts
from planner.store.batches import chunks
from planner.store.bulk import execute_many
from planner.store.idempotency import idempotency_key as idempotency_key
from planner.store.models import (
    EMPTY_SLOTS,
    ITEMS,
    POSTS,
    PostStatus,
)


@dataclass
class PlanOutcome:
    """What a plan run decided and wrote (or would write, on a dry run)."""

    placements: list[Placement]
    # Per (item, account) the plan left out: the verdict's reason.
    held: dict[ItemOn, str]
    # Pitches the rule would take but the mix gave their kind no turn: why, and the fix.
    waiting: dict[ItemOn, str]
    expired: dict[ItemOn, str]
    skipped: dict[ItemOn, str]  # could not be rendered (or too long) for that account
    unlisted: dict[str, int]  # per account, items left out past the named ones
    render_problems: list[str]
    replaced: int
    kept: int
    dry_run: bool
    in_flight: int = 0  # of the kept posts, those a runner was claiming or had claimed
    accounts: list[str] = field(default_factory=list)

    @property
    def empty(self) -> list[Placement]:
        return [p for p in self.placements if p.item is None]


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
    with older_objects_frozen():
        return _plan_weeks(
            session, config, weeks, now, accounts=accounts, dry_run=dry_run,
            renderer=renderer, validators=validators, progress=progress,
        )  # fmt: skip


def _plan_weeks(
    session: Session,
    config: Config,
    weeks: Sequence[tuple[int, int]],
    now: datetime,
    *,
    accounts: Sequence[str] | None,
    dry_run: bool,
    renderer: Renderer | None,
    validators: Mapping[str, Callable[[str], list[str]]] | None,
    progress: Callable[[str], None] | None,
) -> PlanOutcome:
    step = progress or (lambda _: None)
    names = list(accounts or config.settings.accounts)
    renderer = renderer or Renderer.from_config(config)
    slots, ranges = week_slots(config, names, weeks, now)
    scope_accounts = (
        list(config.settings.accounts) if config.settings.balance.scope == "brand" else names
    )
    rules = plan_rules(config, scope_accounts)

    step("reading the queue")
    existing = existing_posts(session, names, scope_accounts, ranges, rules)
    fixed = existing.fixed
    first, last = min((s.at for s in slots), default=now), max((s.at for s in slots), default=None)
    network = {name: config.settings.accounts[name].network for name in names}
    if validators is None:
        # Built without the environment: validating text never needs the secrets.
        validators = {name: make_adapter(config.account_settings(name), {}).validate
                      for name in names}  # fmt: skip

    if not dry_run:
        # The items edited since the last plan (or all, when own_domains changed) get their
        # flag now: the candidates then read flags, not the whole queue's text. A dry run
        # writes nothing and searches the text of the rows not known instead.
        refresh_flags(session, config.settings.own_domains, now)
    failures: set[ItemOn] = set()
    skipped: dict[ItemOn, str] = {}
    while True:
        # Read again on a second pass: the plain gives come from cursors the first one used.
        supply = load_candidates(
            session, config, first, last, existing.open_item_ids, flags_refreshed=not dry_run
        )
        step(f"choosing {len(slots)} slots")
        try:
            result = plan(slots, fixed, supply.eager, rules, _skip_known(failures), supply.later)
        finally:
            supply.close()
        step(f"rendering {sum(p.item is not None for p in result.placements)} posts")
        new_failures = _render_placements(session, result.placements, renderer, network, validators)
        if not new_failures:
            break
        failures |= new_failures.keys()
        skipped.update(new_failures)
    # The engine knows these only as "could not be rendered": the render pass has the cause.
    result.skipped.update(skipped)

    _name_own_domain_pitches(session, config, result)
    outcome = PlanOutcome(
        placements=result.placements,
        held=result.held,
        waiting=result.waiting,
        expired=result.expired,
        skipped=result.skipped,
        unlisted=result.unlisted,
        render_problems=[f"{account}: {skipped[item, account]}" for item, account in skipped],
        replaced=len(existing.replaced_ids),
        kept=sum(1 for post in fixed if post.account in ranges and _in_range(post, ranges)),
        in_flight=existing.in_flight,
        dry_run=dry_run,
        accounts=names,
    )
    if not dry_run:
        step("writing the plan")
        _write(session, ranges, outcome, result, existing.replaced_ids, existing.kept_item_ids, now)
    return outcome


def _name_own_domain_pitches(session: Session, config: Config, result: PlanResult) -> None:
    """A give-kind item is a pitch because it links to an own domain: its reasons say which
    link, or a person reads "pitch share would be ..." on a share and cannot tell why."""
    classes = {name: kind.class_ for name, kind in config.kinds.items()}
    placed = {p.item.id: p.item for p in result.placements if p.item is not None}
    own = {i for i, item in placed.items() if item.is_pitch and classes.get(item.kind) == "give"}
    gives = [name for name, class_ in classes.items() if class_ == "give"]
    connection = session.connection()
    for chunk in chunks(sorted({item_id for item_id, _ in result.held})):
        # By key alone, the kind tested here: with the kind in the filter too, SQLite walks
        # a kind's index for each batch.
        rows = connection.execute(select(ITEMS.c.id, ITEMS.c.kind).where(ITEMS.c.id.in_(chunk)))
        own.update(item_id for item_id, kind in rows if kind in gives)
    if not own:
        return
    links = own_domain_links(session, sorted(own), config.settings.own_domains)
    for placement in result.placements:
        if placement.item is not None and placement.item.id in links:
            placement.reason += f" (a pitch: it links to {links[placement.item.id]}, an own domain)"
    for (item_id, account), reason in result.held.items():
        if item_id in links:
            result.held[item_id, account] = f"a pitch, as it links to {links[item_id]}: {reason}"


def _skip_known(failures: set[ItemOn]) -> Callable[[Candidate, str], str]:
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


def _render_placements(
    session: Session,
    placements: Sequence[Placement],
    renderer: Renderer,
    network: dict[str, str],
    validators: Mapping[str, Callable[[str], list[str]]],
) -> dict[ItemOn, str]:
    """Render each chosen item's text onto its placement, a batch of items at a time.

    Returns the (item, account) pairs that failed, each with the problem and its fix.
    """
    by_item: dict[str, list[Placement]] = {}
    for placement in placements:
        if placement.item is not None:
            by_item.setdefault(placement.item.id, []).append(placement)
    columns = (ITEMS.c.id, ITEMS.c.kind, ITEMS.c.text, ITEMS.c.title, ITEMS.c.url,
               ITEMS.c.credit, ITEMS.c.fields, ITEMS.c.variants, ITEMS.c.tags)  # fmt: skip
    failures: dict[ItemOn, str] = {}
    for chunk in chunks(sorted(by_item)):
        for row in session.connection().execute(select(*columns).where(ITEMS.c.id.in_(chunk))):
            content = RenderInput.from_item(row)
            texts: dict[str, str] = {}  # per network, a text no account changes
            for placement in by_item[row.id]:
                account = placement.slot.account
                try:
                    text = renderer.render_shared(content, network[account], account, texts)
                except TemplateFileError:
                    raise  # the file, not the item, is wrong: nothing of its kind renders
                except RenderError as error:
                    failures[row.id, account] = str(error)
                    continue
                # The network's own rules (length, ...), so a too-long post shows up now.
                invalid = validators[account](text)
                if invalid:
                    failures[row.id, account] = (
                        f'item "{row.id}": {"; ".join(invalid)} (shorten it for '
                        f"{network[account]}: [item.variants.{network[account]}] text = …)"
                    )
                    continue
                placement.text = text
    return failures


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
    for chunk in chunks(replaced_ids):
        replaced_items.update(session.scalars(select(POSTS.c.item_id).where(POSTS.c.id.in_(chunk))))
        # Only posts still planned: the ids were locked when read, this says so again.
        session.execute(
            delete(POSTS).where(POSTS.c.id.in_(chunk), POSTS.c.status == PostStatus.PLANNED)
        )

    placed = {p.item.id for p in outcome.placements if p.item is not None}
    rows = (_post_row(placement, outcome, now) for placement in outcome.placements)
    connection = session.connection()
    batch: list[dict[str, Any]] = []
    for row in rows:
        if row is not None:
            batch.append(row)
        if len(batch) == 2000:
            execute_many(connection, insert(POSTS), batch)
            batch = []
    execute_many(connection, insert(POSTS), batch)

    if ranges:
        planned = in_ranges(EMPTY_SLOTS.c.account, EMPTY_SLOTS.c.slot_at, ranges)
        session.execute(delete(EMPTY_SLOTS).where(planned))
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
    execute_many(connection, insert(EMPTY_SLOTS), empty)

    placed_on = {(p.item.id, p.slot.account) for p in outcome.placements if p.item is not None}
    write_verdicts(session, list(ranges), outcome, placed_on, now)
    write_item_statuses(session, outcome, placed, replaced_items, kept_item_ids, now)
