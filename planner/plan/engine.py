"""Fill slots with queue items under the give-to-pitch rule (the pure planning engine).

Input: the slots to fill (every account, in time order), the posts that stay where they are
(published, claimed, or outside the weeks being planned; those before the first slot are the
balancer's history), and the candidate items. Output: one decision per slot (an item, or
empty with the reason), the pitches held and why, the pitches waiting for a turn of the mix,
and the items that expired. No database, no clock: the I/O lives in
:mod:`planner.plan.store`.

Slots are walked once, in time order. How a slot is filled:
1. An item force-released on the account (or on all) goes first, whatever the ratio says (an
   override, marked on the post and still counted).
2. Deadlines: a pitch whose ``not_after`` falls within the planned weeks takes the slot when
   the rule allows a pitch here, earliest deadline first (:class:`~planner.plan.pools.
   DeadlineQueue`), whether or not the mix would give its kind this turn; in a typed slot
   only a pitch of the slot's kind or class.
3. A typed slot takes its kind (``tue 14:00 promo``) or class (``wed 12:00 give``); an open
   slot follows the target mix (:mod:`planner.plan.mix`).
4. Within a kind: priority, then age (older first), then id. An item is skipped until its
   ``not_before``; it expires at ``not_after``; the same URL is not shared twice on one
   account within ``duplicate_url_days``; an item goes to each of its accounts once
   (evergreen items again after their cooldown).
5. A pitch (a pitch kind, or anything linking to an own domain) must pass the balancer. If it
   does not, it is **held** with the balancer's reason, stays a candidate at every later
   slot, and this slot goes to the most under-served give kind, or stays empty with a warning
   when no give item is left. A pitch the rule allows in an open slot still waits when it
   would make a coming typed pitch slot illegal that could otherwise take an item of its kind
   (:mod:`planner.plan.reserve`), and the slot goes to a give (to the pitch after all when
   no give is left, rather than stay empty); a dated pitch waits so only for typed slots
   before its deadline. The rule itself is never broken, except by forced items.

Pitches left over at the end are held (when the rule refused pitches on their account) or
waiting (the mix gave their kind no more turns), each with its reason. Every choice is
deterministic, so planning the same week twice gives the same plan.
Cost: O(slots + items) amortized; each slot asks the balancer O(1) times, and a pitch near a
typed pitch slot looks ahead over the slots within the rule's reach (bounded by the window).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from operator import itemgetter

from planner.plan.feeds import Feed, Later, feeds_of
from planner.plan.leftovers import note_turn_passed, settle_leftovers
from planner.plan.model import (
    GIVE,
    LISTED,
    PITCH,
    Candidate,
    FixedPost,
    Placement,
    PlanResult,
    PlanRules,
    Renderer,
    RenderFailed,
    Slot,
    planning_order,
)
from planner.plan.pools import Account, Pool
from planner.plan.reserve import Lookahead, Reservations, scope_entries, typed_pitch
from planner.rule.balancer import WindowTracker


def plan(
    slots: Sequence[Slot],
    fixed: Sequence[FixedPost],
    candidates: Sequence[Candidate],
    rules: PlanRules,
    render: Renderer,
    later: Mapping[str, Later] | None = None,
    listed: int = LISTED,
) -> PlanResult:
    """Decide every slot; see the module docstring. ``slots`` and ``fixed`` may come in any
    order; fixed posts before the first slot are the balancer's history.

    ``later``: per kind, the plain items (not forced, no ``not_after`` within the planned
    weeks; gives that are not pitches; pitches due by the last slot) as two iterators in
    planning order, the items for every account and those for some, read only as far as the
    slots need them (a pitch kind's also as far as the report names leftovers: ``listed``
    per account), with how many of them go to each account (:class:`Later`). The plan is
    the same as with them all in ``candidates``.
    """
    result = PlanResult()
    trackers = {scope: WindowTracker(settings) for scope, settings in rules.balance.items()}
    horizon = max((slot.at for slot in slots), default=None)
    names = {slot.account for slot in slots}
    accounts = _build_accounts(names, candidates, rules, horizon, feeds_of(names, later or {}))
    for post in fixed:
        if post.account in accounts:
            accounts[post.account].use(post.item_id, post.url, post.at)

    # Fixed posts and slots in one time line; a fixed post at a slot's instant goes first.
    timeline: list[tuple[datetime, int, str, Slot | FixedPost]] = [
        (post.at, 0, post.account, post) for post in fixed
    ]
    timeline += [(slot.at, 1, slot.account, slot) for slot in slots]
    timeline.sort(key=itemgetter(0, 1, 2))
    taken = {(post.account, post.at) for post in fixed}

    # Typed pitch slots are rare: without one, nothing is reserved and nothing looked ahead.
    reservations: dict[str, Reservations] = {}
    positions: list[int] = []
    pitch_kinds = [kind for kind, (class_, _) in rules.kinds.items() if class_ == PITCH]
    pitch_labels = {PITCH, *pitch_kinds}
    if pitch_labels & {slot.label for slot in slots}:
        entries, positions = scope_entries(
            timeline, rules.scope_of.__getitem__, lambda s: typed_pitch(s, rules), taken
        )
        reservations = {
            scope: Reservations(rules.balance[scope], scope_entries_)
            for scope, scope_entries_ in entries.items()
        }

    # The same windows with a pitch wherever the mix passed over one the rule would take:
    # how many more pitches the rule allowed (what tells waiting pitches from held ones).
    # Until a scope's first slot it has seen only fixed posts, as its tracker has: it starts
    # there as the tracker's copy (a year of history is recorded once, not twice).
    shadows: dict[str, WindowTracker] = {}

    for step, (at, _, account_name, entry) in enumerate(timeline):
        scope = rules.scope_of[account_name]
        tracker = trackers[scope]
        if isinstance(entry, FixedPost):
            tracker.record(at, entry.is_pitch)
            if scope in shadows:
                shadows[scope].record(at, entry.is_pitch)
            continue
        if (account_name, at) in taken:
            continue
        if scope not in shadows:
            shadows[scope] = tracker.copy()
        account = accounts[account_name]
        ahead = Lookahead(reservations[scope], positions[step], accounts) if reservations else None
        placement = _fill(entry, account, tracker, rules, render, result, ahead)
        result.placements.append(placement)
        if placement.item is not None:
            passed = not placement.item.is_pitch and note_turn_passed(
                entry, account, shadows[scope], pitch_kinds
            )
            shadows[scope].record(at, placement.item.is_pitch or passed)
            tracker.record(at, placement.item.is_pitch)
            account.use(placement.item.id, placement.item.url, at)
            result.held.pop((placement.item.id, account_name), None)

    settle_leftovers(accounts, slots, rules, result, listed)
    return result


def _build_accounts(
    names: set[str],
    candidates: Sequence[Candidate],
    rules: PlanRules,
    horizon: datetime | None,
    feeds: Mapping[str, Mapping[str, Sequence[Feed]]],
) -> dict[str, Account]:
    ranked = sorted((c for c in candidates if c.kind in rules.kinds), key=planning_order)
    shared: dict[str, list[Candidate]] = {kind: [] for kind in rules.kinds}
    own = {name: {kind: list[Candidate]() for kind in rules.kinds} for name in names}
    forced: dict[str, list[Candidate]] = {name: [] for name in names}
    dated: list[tuple[Candidate, list[str]]] = []
    for candidate in ranked:
        targets = names if candidate.accounts is None else names.intersection(candidate.accounts)
        forced_here = targets if candidate.forced else targets & candidate.forced_on
        for name in sorted(forced_here):
            forced[name].append(candidate)
        if forced_here == targets:
            continue
        if candidate.accounts is None and not forced_here:
            shared[candidate.kind].append(candidate)
        else:
            for name in targets - forced_here:
                own[name][candidate.kind].append(candidate)
        if (
            candidate.is_pitch
            and candidate.not_after is not None
            and horizon is not None
            and candidate.not_after <= horizon
        ):
            dated.append((candidate, sorted(targets - forced_here)))

    def notable(ranked: list[Candidate]) -> list[int]:
        return [i for i, c in enumerate(ranked) if c.is_pitch or c.not_after is not None]

    shared_notable = {kind: notable(items) for kind, items in shared.items()}
    accounts = {}
    for name in sorted(names):  # leftovers are settled in this order: keep it fixed
        pools = {
            kind: Pool(
                shared[kind],
                own[name][kind],
                (shared_notable[kind], notable(own[name][kind])),
                feeds[kind][name] if kind in feeds else (),
                later_reported=rules.kinds[kind][0] == PITCH,
            )
            for kind in rules.kinds
        }
        accounts[name] = Account(name, pools, rules)
        accounts[name].forced = forced[name]
    for candidate, names_of in dated:
        for name in names_of:
            accounts[name].deadlines.add(candidate)
    return accounts


def _fill(
    slot: Slot,
    account: Account,
    tracker: WindowTracker,
    rules: PlanRules,
    render: Renderer,
    result: PlanResult,
    ahead: Lookahead | None,
) -> Placement:
    usable = account.usable_at(slot.at)

    # 1. A forced release takes the first slot it can use.
    for index, forced in enumerate(account.forced):
        if usable(forced) is True:
            text = _render(forced, account, render, result)
            if text is not None:
                del account.forced[index]
                return Placement(
                    slot, forced, "forced release (override of the ratio rule)", text, True
                )

    def first(kind: str) -> Candidate | None:
        return account.pools[kind].first(slot.at, usable)

    def most_under_served(klass: str) -> list[str]:
        kinds = [k for k, (c, _) in rules.kinds.items() if c == klass and first(k) is not None]
        return sorted(kinds, key=lambda k: -account.mix.credit(k))

    # 3. Which kinds this slot may take, best first.
    label = slot.label
    note = ""  # why the slot did not go to its first choice
    available: list[str] = []
    if label is not None and label in rules.kinds:
        order = [label]
        why = "typed slot"
        open_slot = False
    elif label in (GIVE, PITCH):
        order = most_under_served(label)
        why = f"{label} slot"
        open_slot = False
    else:
        available = [kind for kind in rules.kinds if first(kind) is not None]
        order = account.mix.tick(available)
        why = "mix"
        open_slot = True

    # A pitch kept back for a typed slot still goes if no give is left to take this one.
    kept_back: Candidate | None = None

    # 2. A pitch that would expire within the planned weeks goes first when the rule allows.
    if account.deadlines:
        dated = _place_dated(slot, account, tracker, rules, render, result, ahead)
        if isinstance(dated, Placement):
            if open_slot and dated.item is not None:
                account.mix.served(dated.item.kind, available)
            return dated
        note, kept_back = dated

    def give_fallback() -> list[str]:
        return most_under_served(GIVE)

    tried: set[str] = set()
    queue = list(order)
    fell_back = False
    while queue or not fell_back:
        if not queue:
            # Nothing of the slot's own choice could go: the most under-served give kind may.
            fell_back = True
            if not note and label is not None:
                note = f"no {label} item is available"
            queue.extend(k for k in give_fallback() if k not in tried)
            continue
        kind = queue.pop(0)
        if kind in tried:
            continue
        tried.add(kind)
        while (candidate := first(kind)) is not None:
            decision = None
            if candidate.is_pitch:
                decision = tracker.decide(slot.at, True)
                refusal = None if decision.allowed else decision.reason
                if refusal is not None:
                    result.held[candidate.id, account.name] = refusal
                    account.refusal = refusal
                    note = f"{candidate.id} held: {refusal}"
                elif ahead and (kept := ahead.blocks(tracker, rules, slot, None)):
                    refusal = _kept_for(kept, slot)
                    note = f"{candidate.id} waits: {refusal}"
                    kept_back = kept_back or candidate
                if refusal is not None:
                    if rules.kinds[kind][0] == PITCH:
                        # The kind's best pitch cannot go now: nor can the others of the kind.
                        break
                    # A give-kind item linking to an own domain: let it wait, try the next.
                    account.pools[kind].take(candidate)
                    account.pools[kind].park(candidate, slot.at + timedelta(microseconds=1))
                    continue
            if (
                kept_back is not None
                and not candidate.is_pitch
                and candidate.url is not None
                and candidate.url == kept_back.url
            ):
                # This give would shut the kept-back pitch out of the slot it waits for
                # (the same URL on one account): it waits a slot instead.
                account.pools[kind].take(candidate)
                account.pools[kind].park(candidate, slot.at + timedelta(microseconds=1))
                continue
            text = _render(candidate, account, render, result)
            account.pools[kind].take(candidate)
            if text is None:
                continue
            if candidate.evergreen and candidate.cooldown is not None:
                account.pools[kind].park(candidate, slot.at + candidate.cooldown)
            if open_slot:
                account.mix.served(kind, available)
            reason = f"{note}; the slot went to {kind}" if note else f"{why}: {kind}"
            if decision is not None:
                reason += f" ({decision.reason})"
            return Placement(slot, candidate, reason, text)
    if kept_back is not None and (text := _render(kept_back, account, render, result)):
        if open_slot:
            account.mix.served(kept_back.kind, available)
        # Left where it is in its pool and deadline queue: both drop it once it is used.
        decision = tracker.decide(slot.at, True)
        reason = f"{note}, but no give item is left to take the slot ({decision.reason})"
        return Placement(slot, kept_back, reason, text)
    if note:
        return Placement(slot, None, f"empty: {note}, and no give item is left to take the slot")
    return Placement(slot, None, "empty: the queue has no item for this account")


def _place_dated(
    slot: Slot,
    account: Account,
    tracker: WindowTracker,
    rules: PlanRules,
    render: Renderer,
    result: PlanResult,
    ahead: Lookahead | None,
) -> Placement | tuple[str, Candidate | None]:
    """The dated pitch with the earliest deadline that fits this slot, if the rule allows a
    pitch here; else why not (empty when no dated pitch fits) and the pitch kept back for a
    typed slot, if one was."""
    label = slot.label
    # The slot's own kind or class, if it is typed.
    fits = None if label is None else [k for k, (c, _) in rules.kinds.items() if label in (k, c)]
    usable = account.usable_at(slot.at)
    while (candidate := account.deadlines.first(slot.at, usable, fits)) is not None:
        decision = tracker.decide(slot.at, True)
        if not decision.allowed:
            result.held[candidate.id, account.name] = decision.reason
            account.refusal = decision.reason
            return f"{candidate.id} held: {decision.reason}", None
        if ahead and (kept := ahead.blocks(tracker, rules, slot, candidate.not_after)):
            return f"{candidate.id} waits: {_kept_for(kept, slot)}", candidate
        text = _render(candidate, account, render, result)
        if text is None:
            continue
        reason = f"earliest deadline first: {candidate.kind} ({decision.reason})"
        return Placement(slot, candidate, reason, text)
    return "", None


def _kept_for(typed: Slot, now: Slot) -> str:
    # How far ahead, not a clock time: reasons are read in the account's own zone.
    hours = (typed.at - now.at) / timedelta(hours=1)
    return f"a pitch now would make the typed {typed.label} slot {hours:g} h later illegal"


def _render(
    candidate: Candidate, account: Account, render: Renderer, result: PlanResult
) -> str | None:
    try:
        return render(candidate, account.name)
    except RenderFailed as problem:
        result.render_problems.append(str(problem))
        result.skipped[candidate.id, account.name] = str(problem)
        # Never offered again on this account: the deadline queue and the pools both hold it.
        account.unrenderable.add(candidate.id)
        return None
