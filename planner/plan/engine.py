"""Fill slots with queue items under the give-to-pitch rule (the pure planning engine).

Input: the slots to fill (every account, in time order), the posts that stay where they are
(published, claimed, or outside the weeks being planned; those before the first slot are the
balancer's history), and the candidate items. Output: one decision per slot (an item, or
empty with the reason), the promos held and why, and the items that expired. No database,
no clock: the I/O lives in :mod:`planner.plan.store`.

How a slot is filled:
1. A force-released item for the account goes first, whatever the ratio says (an override,
   marked on the post and still counted).
2. A typed slot takes its kind (``tue 14:00 promo``) or class (``wed 12:00 give``); an open
   slot follows the target mix (:mod:`planner.plan.mix`).
3. Within a kind: priority, then age (older first), then id. An item is skipped until its
   ``not_before``; it expires at ``not_after``; the same URL is not shared twice on one
   account within ``duplicate_url_days``; an item goes to each of its accounts once
   (evergreen items again after their cooldown).
4. A pitch (a pitch kind, or anything linking to an own domain) must pass the balancer. If it
   does not, it is **held** with the balancer's reason, stays a candidate at every later
   slot, and this slot goes to the most under-served give kind, or stays empty with a warning
   when no give item is left.

Every choice is deterministic, so planning the same week twice gives the same plan.
Cost: O(slots + items) amortized; each slot asks the balancer O(1) times.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from planner.plan.mix import Mix
from planner.plan.model import (
    GIVE,
    PITCH,
    Candidate,
    FixedPost,
    Placement,
    PlanResult,
    PlanRules,
    Renderer,
    RenderFailed,
    Slot,
)
from planner.rule.balancer import WindowTracker


class _Expired:
    def __repr__(self) -> str:
        return "EXPIRED"


EXPIRED = _Expired()
# What a pool asks of each candidate: True (use it), False (never on this account),
# EXPIRED (past its not_after), or the time from which it may be usable.
Usable = Callable[[Candidate], "datetime | bool | _Expired"]


class _Pool:
    """One account's candidates of one kind, best first, with the ones not ready yet parked.

    Items for every account sit in one ranked list shared by all accounts' pools (each pool
    keeps its own position in it), so a 50-account brand does not copy its queue 50 times.
    """

    def __init__(
        self,
        shared: Sequence[Candidate],
        own: Sequence[Candidate],
        notable: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> None:
        self._lists = (shared, own)
        # Positions in each list of the pitches and the items that can expire: the only
        # leftovers the end of a plan has to look at (shared lists are long).
        self._notable = notable
        self._next = [0, 0]
        self._ready: list[tuple[tuple[int, str], Candidate]] = []
        self._parked: list[tuple[datetime, str, Candidate]] = []
        self.expired: list[Candidate] = []

    def _head(self) -> Candidate | None:
        best: Candidate | None = None
        for which in (0, 1):
            ranked, index = self._lists[which], self._next[which]
            if index < len(ranked) and (best is None or ranked[index].sort_key < best.sort_key):
                best = ranked[index]
        if self._ready and (best is None or self._ready[0][0] < best.sort_key):
            return self._ready[0][1]
        return best

    def _pop(self, candidate: Candidate) -> None:
        if self._ready and self._ready[0][1] is candidate:
            heapq.heappop(self._ready)
            return
        for which in (0, 1):
            ranked, index = self._lists[which], self._next[which]
            if index < len(ranked) and ranked[index] is candidate:
                self._next[which] += 1
                return
        raise AssertionError(f"{candidate.id} is not at the head of its pool")

    def push(self, candidate: Candidate) -> None:
        heapq.heappush(self._ready, (candidate.sort_key, candidate))

    def park(self, candidate: Candidate, until: datetime) -> None:
        heapq.heappush(self._parked, (until, candidate.id, candidate))

    def unpark(self, at: datetime) -> None:
        while self._parked and self._parked[0][0] <= at:
            self.push(heapq.heappop(self._parked)[2])

    def first(self, at: datetime, usable: Usable) -> Candidate | None:
        """The best candidate usable at ``at``, left in the pool. Unusable ones are dropped
        (``False``, or ``EXPIRED``: remembered in :attr:`expired`) or parked until the time
        ``usable`` returns."""
        self.unpark(at)
        while (candidate := self._head()) is not None:
            verdict = usable(candidate)
            if verdict is True:
                return candidate
            self._pop(candidate)
            if verdict is EXPIRED:
                self.expired.append(candidate)
            elif isinstance(verdict, datetime):
                self.park(candidate, verdict)
        return None

    def take(self, candidate: Candidate) -> None:
        self._pop(candidate)

    def notable_leftovers(self) -> list[Candidate]:
        """The pitches and expiring items not taken from this pool."""
        rest = [
            self._lists[which][index]
            for which in (0, 1)
            for index in self._notable[which][
                bisect_left(self._notable[which], self._next[which]) :
            ]
        ]
        rest += [c for _, c in self._ready] + [c for _, _, c in self._parked]
        return [c for c in rest if c.is_pitch or c.not_after is not None]


class _Account:
    """Per-account planning state: pools, mix, what it has used, URLs it has shared."""

    def __init__(self, name: str, pools: dict[str, _Pool], rules: PlanRules) -> None:
        self.name = name
        self.pools = pools
        self.mix = Mix({kind: weight for kind, (_, weight) in rules.kinds.items()})
        self.used: dict[str, datetime] = {}  # item id -> latest time on this account
        self.url_times: dict[str, list[datetime]] = {}
        self.forced: list[Candidate] = []
        self.refusal: str | None = None  # the latest reason a pitch was held here
        self.url_gap = timedelta(days=rules.duplicate_url_days)

    def use(self, item_id: str, url: str | None, at: datetime) -> None:
        self.used[item_id] = max(at, self.used.get(item_id, at))
        if url:
            times = self.url_times.setdefault(url, [])
            times.insert(bisect_left(times, at), at)

    def usable_at(self, at: datetime) -> Usable:
        def usable(candidate: Candidate) -> datetime | bool | _Expired:
            if candidate.not_after is not None and candidate.not_after <= at:
                return EXPIRED
            if candidate.not_before is not None and candidate.not_before > at:
                return candidate.not_before
            last = self.used.get(candidate.id)
            if last is not None:
                if not candidate.evergreen or candidate.cooldown is None:
                    return False
                if last + candidate.cooldown > at:
                    return last + candidate.cooldown
            if candidate.url and self.url_gap:
                clash = self._url_clash(candidate.url, at)
                if clash is not None:
                    return clash
            return True

        return usable

    def _url_clash(self, url: str, at: datetime) -> datetime | None:
        """When the URL may be shared again, if it was shared too close to ``at``."""
        times = self.url_times.get(url)
        if not times:
            return None
        index = bisect_left(times, at - self.url_gap + timedelta(microseconds=1))
        if index < len(times) and times[index] < at + self.url_gap:
            return times[index] + self.url_gap if times[index] <= at else None
        return None


def plan(
    slots: Sequence[Slot],
    fixed: Sequence[FixedPost],
    candidates: Sequence[Candidate],
    rules: PlanRules,
    render: Renderer,
) -> PlanResult:
    """Decide every slot; see the module docstring. ``slots`` and ``fixed`` may come in any
    order; fixed posts before the first slot are the balancer's history."""
    result = PlanResult()
    trackers = {scope: WindowTracker(settings) for scope, settings in rules.balance.items()}
    accounts = _build_accounts({slot.account for slot in slots}, candidates, rules)
    for post in fixed:
        if post.account in accounts:
            accounts[post.account].use(post.item_id, post.url, post.at)

    # Fixed posts and slots in one time line; a fixed post at a slot's instant goes first.
    timeline: list[tuple[datetime, int, str, Slot | FixedPost]] = [
        (post.at, 0, post.account, post) for post in fixed
    ]
    timeline += [(slot.at, 1, slot.account, slot) for slot in slots]
    timeline.sort(key=lambda entry: entry[:3])
    taken = {(post.account, post.at) for post in fixed}

    for at, _, account_name, entry in timeline:
        tracker = trackers[rules.scope_of[account_name]]
        if isinstance(entry, FixedPost):
            tracker.record(at, entry.is_pitch)
            continue
        if (account_name, at) in taken:
            continue
        account = accounts[account_name]
        placement = _fill(entry, account, tracker, rules, render, result)
        result.placements.append(placement)
        if placement.item is not None:
            tracker.record(at, placement.item.is_pitch)
            account.use(placement.item.id, placement.item.url, at)
            result.held.pop(placement.item.id, None)

    _settle_leftovers(accounts, slots, result)
    return result


def _settle_leftovers(
    accounts: Mapping[str, _Account], slots: Sequence[Slot], result: PlanResult
) -> None:
    """Expired items are reported; pitches still waiting when the week ends are held."""
    placed = {p.item.id for p in result.placements if p.item is not None}
    last = max((slot.at for slot in slots), default=None)
    for account in accounts.values():
        for pool in account.pools.values():
            result.expired.update(c.id for c in pool.expired if c.id not in account.used)
            for candidate in pool.notable_leftovers():
                if candidate.id in placed or candidate.id in account.used:
                    continue
                if (
                    last is not None
                    and candidate.not_after is not None
                    and candidate.not_after <= last
                ):
                    result.expired.add(candidate.id)
                elif candidate.is_pitch and account.refusal is not None:
                    result.held.setdefault(
                        candidate.id,
                        f"waiting behind other pitches on {account.name}: {account.refusal}",
                    )
    result.expired -= placed
    for item_id in result.expired | placed:
        result.held.pop(item_id, None)


def _build_accounts(
    names: set[str], candidates: Sequence[Candidate], rules: PlanRules
) -> dict[str, _Account]:
    ranked = sorted((c for c in candidates if c.kind in rules.kinds), key=lambda c: c.sort_key)
    shared: dict[str, list[Candidate]] = {kind: [] for kind in rules.kinds}
    own = {name: {kind: list[Candidate]() for kind in rules.kinds} for name in names}
    forced: dict[str, list[Candidate]] = {name: [] for name in names}
    for candidate in ranked:
        if candidate.forced:
            targets = (
                names if candidate.accounts is None else names.intersection(candidate.accounts)
            )
            for name in sorted(targets):
                forced[name].append(candidate)
        elif candidate.accounts is None:
            shared[candidate.kind].append(candidate)
        else:
            for name in names.intersection(candidate.accounts):
                own[name][candidate.kind].append(candidate)

    def notable(ranked: list[Candidate]) -> list[int]:
        return [i for i, c in enumerate(ranked) if c.is_pitch or c.not_after is not None]

    shared_notable = {kind: notable(items) for kind, items in shared.items()}
    accounts = {}
    for name in names:
        pools = {
            kind: _Pool(
                shared[kind],
                own[name][kind],
                (shared_notable[kind], notable(own[name][kind])),
            )
            for kind in rules.kinds
        }
        accounts[name] = _Account(name, pools, rules)
        accounts[name].forced = forced[name]
    return accounts


def _fill(
    slot: Slot,
    account: _Account,
    tracker: WindowTracker,
    rules: PlanRules,
    render: Renderer,
    result: PlanResult,
) -> Placement:
    usable = account.usable_at(slot.at)

    # 1. A forced release takes the first slot it can use.
    for index, forced in enumerate(account.forced):
        if usable(forced) is True:
            text = _render(forced, account.name, render, result)
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

    # 2. Which kinds this slot may take, best first.
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
                if not decision.allowed:
                    result.held[candidate.id] = decision.reason
                    account.refusal = decision.reason
                    note = f"{candidate.id} held: {decision.reason}"
                    if rules.kinds[kind][0] == PITCH:
                        # The kind's best pitch cannot go now: nor can the others of the kind.
                        break
                    # A give-kind item linking to an own domain: hold it, try its next item.
                    account.pools[kind].take(candidate)
                    account.pools[kind].park(candidate, slot.at + timedelta(microseconds=1))
                    continue
            text = _render(candidate, account.name, render, result)
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
    if note:
        return Placement(slot, None, f"empty: {note}, and no give item is left to take the slot")
    return Placement(slot, None, "empty: the queue has no item for this account")


def _render(candidate: Candidate, account: str, render: Renderer, result: PlanResult) -> str | None:
    try:
        return render(candidate, account)
    except RenderFailed as problem:
        result.render_problems.append(str(problem))
        return None
