"""What each account may still place: its candidates by kind, its deadlines, what it used.

- :class:`Pool`: one account's candidates of one kind, best first (priority, age, id), with the
  ones not usable yet parked until they may be, and the plain ones read later from feeds
  (:mod:`planner.plan.feeds`);
- :class:`DeadlineQueue`: one account's pitches that expire within the planned weeks, earliest
  ``not_after`` first, so the engine can place them before they expire;
- :class:`Account`: the pools, the deadline queue, the mix, and what the account has used
  (items, URLs), which decides whether a candidate is usable at an instant.

An item may sit in its kind's pool and in the deadline queue at once: whichever places it
first wins, and the other drops it when it comes up (it is no longer usable). Pure: no I/O,
no clock.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime, timedelta

from planner.plan.feeds import Feed, read_on
from planner.plan.mix import Mix
from planner.plan.model import Candidate, PlanRules, planning_order


class _Expired:
    def __repr__(self) -> str:
        return "EXPIRED"


EXPIRED = _Expired()


class _Unknown:
    pass


_UNKNOWN = _Unknown()

# What a pool asks of each candidate: True (use it), False (never on this account),
# EXPIRED (past its not_after), or the time from which it may be usable.
Usable = Callable[[Candidate], "datetime | bool | _Expired"]


class Pool:
    """One account's candidates of one kind, best first, with the ones not ready yet parked.

    Items for every account sit in one ranked list shared by all accounts' pools (each pool
    keeps its own position in it), so a 50-account brand does not copy its queue 50 times.
    Plain items can come later, from feeds read as far as the pool asks (``later``): plain
    gives are never leftovers a plan reports on (no pitch, no deadline within the plan);
    plain pitches are (``later_reported``), and are read on for that as far as the report
    names them (:meth:`leftovers`).
    """

    def __init__(
        self,
        shared: Sequence[Candidate],
        own: Sequence[Candidate],
        notable: tuple[Sequence[int], Sequence[int]] = ((), ()),
        later: Sequence[Feed] = (),
        later_reported: bool = False,
    ) -> None:
        self._lists = (shared, own)
        # Positions in each list of the pitches and the items that can expire: the only
        # leftovers the end of a plan has to look at (shared lists are long).
        self._notable = notable
        self._next = [0, 0]
        self._feeds = tuple(later)
        self._feed_next = [0] * len(self._feeds)
        self._later_reported = later_reported
        self._ready: list[tuple[tuple[int, str], Candidate]] = []
        self._parked: list[tuple[datetime, str, Candidate]] = []
        self.expired: list[Candidate] = []
        # The head, until the pool moves (a pop or a push): an account asks each kind's
        # pool at every slot, and most slots take from one kind only. A feed's item at a
        # position never changes once read, nor does "no more" once a feed has said it.
        self._known_head: Candidate | None | _Unknown = _UNKNOWN

    def _head(self) -> Candidate | None:
        head = self._known_head
        if isinstance(head, _Unknown):
            head = self._known_head = self._find_head()
        return head

    def _find_head(self) -> Candidate | None:
        best: Candidate | None = None
        for which in (0, 1):
            ranked, index = self._lists[which], self._next[which]
            if index < len(ranked) and (best is None or ranked[index].sort_key < best.sort_key):
                best = ranked[index]
        for which, feed in enumerate(self._feeds):
            fed = feed.get(self._feed_next[which])
            if fed is not None and (best is None or fed.sort_key < best.sort_key):
                best = fed
        if self._ready and (best is None or self._ready[0][0] < best.sort_key):
            return self._ready[0][1]
        return best

    def _pop(self, candidate: Candidate) -> None:
        self._known_head = _UNKNOWN
        if self._ready and self._ready[0][1] is candidate:
            heapq.heappop(self._ready)
            return
        for which in (0, 1):
            ranked, index = self._lists[which], self._next[which]
            if index < len(ranked) and ranked[index] is candidate:
                self._next[which] += 1
                return
        for which, feed in enumerate(self._feeds):
            if feed.get(self._feed_next[which]) is candidate:
                self._feed_next[which] += 1
                return
        raise AssertionError(f"{candidate.id} is not at the head of its pool")

    def push(self, candidate: Candidate) -> None:
        self._known_head = _UNKNOWN
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

    def leftovers(self, reading: Callable[[], bool]) -> Iterator[Candidate]:
        """The pitches and expiring items not taken from this pool, best first. Items from
        reported feeds come as far as they were read, and further from their streams while
        ``reading()`` says so; :meth:`unread` then counts the rest."""
        rest = [
            self._lists[which][index]
            for which in (0, 1)
            for index in self._notable[which][
                bisect_left(self._notable[which], self._next[which]) :
            ]
        ]
        rest += [c for _, c in self._ready] + [c for _, _, c in self._parked]
        notable = sorted(
            (c for c in rest if c.is_pitch or c.not_after is not None), key=planning_order
        )
        if not self._later_reported:
            return iter(notable)
        starts = zip(self._feeds, self._feed_next, strict=True)
        fed = [read_on(feed, start, reading) for feed, start in starts]
        return heapq.merge(notable, *fed, key=planning_order)

    def unread(self, used: Collection[str]) -> int:
        """How many items of the reported feeds were never read, leaving out ``used`` ones."""
        if not self._later_reported:
            return 0
        return sum(feed.unread(used) for feed in self._feeds)


class Account:
    """Per-account planning state: pools, mix, what it has used, URLs it has shared."""

    def __init__(self, name: str, pools: dict[str, Pool], rules: PlanRules) -> None:
        self.name = name
        self.pools = pools
        self.mix = Mix({kind: weight for kind, (_, weight) in rules.kinds.items()})
        self.used: dict[str, datetime] = {}  # item id -> latest time on this account
        self.uses: dict[str, int] = {}  # item id -> its posts on this account, kept ones too
        self.url_times: dict[str, list[datetime]] = {}
        self.forced: list[Candidate] = []
        self.deadlines = DeadlineQueue()
        self.unrenderable: set[str] = set()  # never offered again on this account
        self.refusal: str | None = None  # the latest reason a pitch was held here
        # Open slots that went to a give though the rule would have taken a waiting pitch.
        self.turns_passed = 0
        self.url_gap = timedelta(days=rules.duplicate_url_days)

    def use(self, item_id: str, url: str | None, at: datetime) -> None:
        self.used[item_id] = max(at, self.used.get(item_id, at))
        self.uses[item_id] = self.uses.get(item_id, 0) + 1
        if url:
            times = self.url_times.setdefault(url, [])
            times.insert(bisect_left(times, at), at)

    def usable_at(self, at: datetime) -> Usable:
        def usable(candidate: Candidate) -> datetime | bool | _Expired:
            if candidate.id in self.unrenderable:
                return False
            if candidate.not_after is not None and candidate.not_after <= at:
                return EXPIRED
            if candidate.not_before is not None and candidate.not_before > at:
                return candidate.not_before
            last = self.used.get(candidate.id)
            if last is not None:
                if not candidate.evergreen or candidate.cooldown is None:
                    return False
                if (
                    candidate.max_posts is not None
                    and self.uses[candidate.id] >= candidate.max_posts
                ):
                    return False  # reposted as often as it may be on this account
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


class DeadlineQueue:
    """One account's pitches with a ``not_after`` inside the planned weeks, earliest first.

    Ties go by planning order (priority, age, id). Ones not usable yet are parked like in a
    :class:`Pool`; ones used elsewhere, or expired, are dropped when they come up. Kept per
    kind, so a typed slot looks only at the kinds it may take: a year's plan with thousands
    of dated pitches asks at every slot, and most slots are typed for gives or another kind.
    """

    def __init__(self) -> None:
        self._ready: dict[str, list[tuple[datetime, tuple[int, str], Candidate]]] = {}
        self._parked: list[tuple[datetime, str, Candidate]] = []

    def __bool__(self) -> bool:
        return bool(self._parked) or any(self._ready.values())

    def add(self, candidate: Candidate) -> None:
        assert candidate.not_after is not None
        entry = (candidate.not_after, candidate.sort_key, candidate)
        heapq.heappush(self._ready.setdefault(candidate.kind, []), entry)

    def first(
        self, at: datetime, usable: Usable, kinds: Collection[str] | None = None
    ) -> Candidate | None:
        """The usable candidate with the earliest deadline, of ``kinds`` (None: any kind)."""
        while self._parked and self._parked[0][0] <= at:
            self.add(heapq.heappop(self._parked)[2])
        best: tuple[datetime, tuple[int, str], Candidate] | None = None
        for kind in self._ready if kinds is None else kinds:
            ready = self._ready.get(kind)
            while ready:
                candidate = ready[0][2]
                verdict = usable(candidate)
                if verdict is True:
                    if best is None or ready[0][:2] < best[:2]:
                        best = ready[0]
                    break
                heapq.heappop(ready)
                if isinstance(verdict, datetime):
                    heapq.heappush(self._parked, (verdict, candidate.id, candidate))
        return None if best is None else best[2]
