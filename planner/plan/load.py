"""What the planning engine needs, read from the config and the database.

- :func:`week_slots`: every slot of the weeks to plan, and each account's planned range;
- :func:`plan_rules`: the kinds, the rule per scope and the duplicate-URL guard;
- :func:`candidates`: every item that may be placed, in planning order (the plain gives of a
  week's plan as cursors read as far as its slots need: :class:`Supply`).

The posts already in place are read by :mod:`planner.plan.history`.

Reads only; :mod:`planner.plan.store` runs the engine and writes what it chose.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Text,
    and_,
    case,
    cast,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.content.item_spec import PRIORITY_MAX
from planner.content.links import item_own_domain_link
from planner.plan.feeds import Later
from planner.plan.model import NO_ACCOUNTS, Candidate, PlanRules, Slot
from planner.plan.own_domains import flags_current, mentions_own_domain
from planner.plan.slots import WeeklySlot, expand_week, iso_week_bounds
from planner.plan.survey import Exceptions, Survey
from planner.store.batches import BATCH, chunks
from planner.store.models import (
    ITEM_ACCOUNT_STATES,
    ITEMS,
    ItemStatus,
    open_items_condition,
)


def plan_rules(config: Config, accounts: Iterable[str]) -> PlanRules:
    scope_of = {name: config.balance_scope(name) for name in accounts}
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
    # Accounts often share a timezone and a schedule: parse each distinct schedule and expand
    # each distinct week once, keyed by the specs as written (50 accounts of one brand parsed
    # and hashed their slots 50 times: a third of this function's time).
    parsed: dict[tuple[str, ...], list[WeeklySlot]] = {}
    expanded: dict[tuple[str, tuple[str, ...], int, int], list[tuple[datetime, str | None]]] = {}
    bounds: dict[tuple[str, tuple[int, int]], tuple[datetime, datetime]] = {}
    for account in accounts:
        tz = config.account_timezone(account)
        specs = tuple(config.settings.accounts[account].slots)
        if specs not in parsed:
            parsed[specs] = config.account_slots(account)
        for edge in (weeks[0], weeks[-1]):
            if (tz.key, edge) not in bounds:
                bounds[tz.key, edge] = iso_week_bounds(*edge, tz)
        start, end = bounds[tz.key, weeks[0]][0], bounds[tz.key, weeks[-1]][1]
        ranges[account] = (max(start, now), end)
        for year, week in weeks:
            key = (tz.key, specs, year, week)
            if key not in expanded:
                expanded[key] = [
                    (instant.at, instant.slot.label)
                    for instant in expand_week(parsed[specs], year, week, tz)
                    if instant.at > now
                ]
            slots += [Slot(account, at, label) for at, label in expanded[key]]
    return slots, ranges


@dataclass
class Supply:
    """The candidates of a plan: those it must see whole (``eager``: pitches, deadlines,
    forced and hand-held items, gives linking to an own domain), and per give kind the plain
    gives as iterators over open database cursors (``later``), read only as far as the
    planned slots need. :meth:`close` ends the cursors once the engine is done."""

    eager: list[Candidate]
    later: dict[str, Later]
    _results: list[Any]

    def close(self) -> None:
        for result in self._results:
            result.close()


_EPOCH = datetime(1, 1, 1, tzinfo=UTC)
# A rank orders by priority (higher first), then age (older first), like the queries; ids
# break ties in Candidate.sort_key.
_PRIORITY_STEP = 10**18  # more microseconds than there are between year 1 and year 9999


def _rank(priority: int, created_at: datetime) -> int:
    age = (created_at - _EPOCH) // timedelta(microseconds=1)
    return (PRIORITY_MAX - priority) * _PRIORITY_STEP + age


def candidates(
    session: Session,
    config: Config,
    first_slot: datetime,
    horizon: datetime | None = None,
    fixed_items: Collection[str] = (),
    *,
    flags_refreshed: bool = False,
) -> Supply:
    """Every item the planner may place, in planning order (the database sorts them).

    Loads only what choosing needs: text and template fields are fetched later, for the
    items actually chosen. Only the items that mention an own domain at all (their stored
    flag, :mod:`planner.plan.own_domains`) get the real link check. An item held by hand on
    some accounts goes only to the others; one released with ``--force`` on some accounts is
    forced there only.

    With a ``horizon`` (the last planned slot), plain gives and plain pitches come lazily
    (:class:`Supply`): a week's plan reads the few thousand it uses, not a queue of hundreds
    of thousands. A plain pitch that may not go out before the horizon is not read at all:
    it can neither be placed nor be left out. ``fixed_items``: the items of the posts that
    stay (those still open are enough: no other is read lazily), for the plan's count of the
    pitches it leaves out unread. ``flags_refreshed``: this transaction computed the
    own-domain flags (:func:`~planner.plan.own_domains.refresh_flags`), so they are current
    without reading their record again.
    """
    own_domains = [domain.lower() for domain in config.settings.own_domains]
    classes = {name: kind.class_ for name, kind in config.kinds.items()}
    current = flags_refreshed or flags_current(session, own_domains)
    mentions_own = mentions_own_domain(session, own_domains, current=current)
    columns = (
        ITEMS.c.id, ITEMS.c.kind, ITEMS.c.url, cast(ITEMS.c.accounts, Text), ITEMS.c.not_before,
        ITEMS.c.not_after, ITEMS.c.evergreen, ITEMS.c.cooldown_days, ITEMS.c.max_reposts,
        ITEMS.c.force, ITEMS.c.status, ITEMS.c.priority, ITEMS.c.created_at,
    )  # fmt: skip
    # In the words of the partial planning-order index, so the database walks only open items.
    not_done = (ITEMS.c.manual_hold.is_(False), text(open_items_condition("items.")))
    placeable = (*not_done, ITEMS.c.kind.in_(list(classes)))
    # Ties by id in code point order, as Python sorts them (PostgreSQL's default collation
    # may follow the locale).
    by_id = (
        ITEMS.c.id.collate("C") if session.get_bind().dialect.name == "postgresql" else ITEMS.c.id
    )
    order = (ITEMS.c.priority.desc(), ITEMS.c.created_at, by_id)
    held_on, forced_on = _by_hand_per_account(session)
    by_hand = held_on.keys() | forced_on.keys()
    connection = session.connection()
    gives = [name for name, class_ in classes.items() if class_ == "give"]
    pitches = [name for name, class_ in classes.items() if class_ == "pitch"]
    gone = and_(
        ITEMS.c.status == ItemStatus.EXPIRED,
        or_(ITEMS.c.not_after.is_(None), ITEMS.c.not_after <= first_slot),
    )
    survey = None
    exceptions = Exceptions(horizon, gives, pitches, mentions_own)
    if horizon is not None and len(by_hand) <= BATCH:
        # With the flags current, the gives to read now are in the partial indexes of dated
        # and marked items: the gives' counts wait until a stream asks (most plans never do).
        indexed = gives if current else []
        survey = Survey(connection, not_done, gives + pitches, exceptions, gone, by_hand, indexed)
    # A kind with many items that must be read now (a plan over years, where every promo's
    # not_after falls inside it) is read whole; the others lazily, their exceptions by id.
    lazy_kinds = [] if survey is None else [k for k in gives + pitches if survey.few_exceptions(k)]
    whole_gives = [kind for kind in gives if kind not in lazy_kinds]
    mentions = set(
        connection.scalars(
            select(ITEMS.c.id).where(*placeable, ITEMS.c.kind.in_(whole_gives), mentions_own)
        )
        if own_domains and whole_gives
        else ()
    )
    special = by_hand | mentions
    if survey is not None:
        survey.read_exceptions(lazy_kinds)
        mentions |= survey.mentioning
        special |= survey.special
    every_account = tuple(config.settings.accounts)
    # Most items share a handful of account lists: parse each distinct one once.
    targets_seen: dict[str, tuple[str, ...] | None] = {"[]": None}

    mentioning: list[Candidate] = []  # gives that may link to an own domain: checked below

    def made(rows: Iterable[Any]) -> Iterator[Candidate]:
        for row in rows:
            (item_id, kind, url, targets, not_before, not_after, evergreen, cooldown_days,
             max_reposts, force, status, priority, created_at) = row  # fmt: skip
            if status == ItemStatus.EXPIRED and (not_after is None or not_after <= first_slot):
                continue
            if targets not in targets_seen:
                targets_seen[targets] = tuple(json.loads(targets)) or None
            accounts = targets_seen[targets]
            if item_id in held_on:
                accounts = tuple(a for a in accounts or every_account if a not in held_on[item_id])
                if not accounts:
                    continue
            candidate = Candidate(
                item_id,
                kind,
                classes[kind] == "pitch",
                rank=_rank(priority, created_at),
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
            if item_id in mentions and not candidate.is_pitch:
                mentioning.append(candidate)
            yield candidate

    # The rest of the kinds, at once (the planning-order index finds a kind's items); the
    # engine sorts them.
    now_kinds = [kind for kind in classes if kind not in lazy_kinds]
    eager = (
        list(made(connection.execute(select(*columns).where(*placeable).where(
            ITEMS.c.kind.in_(now_kinds)))))
        if now_kinds
        else []
    )  # fmt: skip
    seen = {candidate.id for candidate in eager}
    for chunk in chunks(sorted(special - seen)):
        eager += made(connection.execute(select(*columns).where(*placeable, ITEMS.c.id.in_(chunk))))
    _mark_own_domain_links(session, mentioning, own_domains)

    later: dict[str, Later] = {}
    results: list[Any] = []
    if survey is None or not lazy_kinds:
        return Supply(eager, later, results)
    # Not the items read now: by hand, or the lazy kinds' exceptions (at most BATCH each).
    read_now = by_hand | survey.special
    lazy = (*placeable, ~gone, ITEMS.c.id.not_in(sorted(read_now)))
    targets = cast(ITEMS.c.accounts, Text)
    # The plain pitches the posts that stay use: a plan leaving pitches out unread counts
    # them, less those an account used already.
    fixed: dict[str, dict[str, tuple[str, ...] | None]] = {
        kind: {} for kind in pitches if kind in lazy_kinds
    }
    # Found by key alone (the rest is tested in the row): with the kind in the filter too,
    # the database walks a kind's index for each batch.
    in_streams = case((and_(*placeable, ~gone, ~exceptions.never_due()), True), else_=False)
    for chunk in chunks(sorted(set(fixed_items) - special)):
        reused = select(ITEMS.c.id, ITEMS.c.kind, targets, in_streams).where(ITEMS.c.id.in_(chunk))
        for item_id, kind, accounts_json, streamed in connection.execute(reused):
            if streamed and kind in fixed:
                fixed[kind][item_id] = tuple(json.loads(accounts_json)) or None
    for kind in lazy_kinds:
        streams = []
        for for_some in (targets == "[]", targets != "[]"):
            query = (
                select(*columns)
                .where(*lazy, ~exceptions.never_due(kind), ITEMS.c.kind == kind, for_some)
                .order_by(*order)
            )
            # Fetched 100 rows at a time: most streams of a week's plan need fewer than 500.
            result = connection.execute(query.execution_options(yield_per=100))
            results.append(result)
            streams.append(made(result))
        if kind in pitches:  # counted now: the report counts a pitch kind's leftovers
            counts, shared = survey.census(kind)
            later[kind] = Later(streams[0], streams[1], counts, shared, fixed.get(kind, {}))
        else:
            census = functools.partial(survey.census, kind)
            listed = survey.accounts_listed(kind)
            if listed is None:
                counts, _ = census()
                later[kind] = Later(streams[0], streams[1], counts)
            else:
                # Known now: the accounts no item names get none of the kind's own items.
                unnamed = {name: 0 for name in every_account if name not in listed}
                later[kind] = Later(streams[0], streams[1], None, known=unnamed, census=census)
    return Supply(eager, later, results)


def _by_hand_per_account(
    session: Session,
) -> tuple[dict[str, set[str]], dict[str, frozenset[str]]]:
    """Item id -> the accounts it is held on by hand, and -> those it is force-released on."""
    held: dict[str, set[str]] = {}
    forced: dict[str, set[str]] = {}
    query = select(
        ITEM_ACCOUNT_STATES.c.item_id,
        ITEM_ACCOUNT_STATES.c.account,
        ITEM_ACCOUNT_STATES.c.manual_hold,
        ITEM_ACCOUNT_STATES.c.force,
    ).where(or_(ITEM_ACCOUNT_STATES.c.manual_hold.is_(True), ITEM_ACCOUNT_STATES.c.force.is_(True)))
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
    columns = (ITEMS.c.id, ITEMS.c.url, ITEMS.c.text, ITEMS.c.title, ITEMS.c.variants)
    for chunk in chunks(list(item_ids)):
        for row in session.connection().execute(select(*columns).where(ITEMS.c.id.in_(chunk))):
            link = item_own_domain_link(row.url, row.text, row.title, row.variants, own_domains)
            if link is not None:
                found[row.id] = link
    return found
