"""The plain items a plan reads only as far as it needs them: a week's plan from a queue of
200,000 items reads a few thousand.

- :class:`Later`: a kind's plain items as two iterators in planning order (for every account,
  for some), with how many go to each account, or a census to count them;
- :class:`Stream` and :class:`Feed`: one stream per iterator, shared out in planning order to
  the feeds of the accounts' pools (:func:`feeds_of`); a feed reads its stream on as far as
  its pool asks, and knows how many items it will get, or asks a :class:`Census` once a read
  goes far (:data:`FAR`);
- :func:`read_on`: a feed's items from a position, read on while a report still names them.

Pure: no I/O (the iterators read the database cursors :mod:`planner.plan.load` opened), no
clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from planner.plan.model import Candidate


class Stream:
    """Candidates of one kind in planning order, read one at a time as pools ask, each handed
    to the :class:`Feed` of every account it goes to (``route``: the shared feed, or the
    accounts' own)."""

    def __init__(
        self, source: Iterator[Candidate], route: Callable[[Candidate], Sequence[Feed]]
    ) -> None:
        self._source = source
        self._route = route
        self.done = False
        self.seen: set[str] = set()  # the ids read so far

    def pull(self) -> None:
        candidate = next(self._source, None)
        if candidate is None:
            self.done = True
            return
        self.seen.add(candidate.id)
        for feed in self._route(candidate):
            feed.items.append(candidate)


# How many items one read of a feed pulls from its stream (the items of other accounts) before
# it asks its census how many it will ever get.
FAR = 1000


class Feed:
    """A ranked list that grows from a :class:`Stream` when a pool reads past its end, up to
    the ``expected`` number of items, so that an account with none of a kind's items does not
    read the whole stream looking for one. Known beforehand, or (``census``) counted when a
    read first goes far."""

    def __init__(
        self,
        expected: int | None = None,
        fixed: Collection[str] = (),
        census: Census | None = None,
    ) -> None:
        self.items: list[Candidate] = []
        self.stream: Stream | None = None
        self.expected = expected
        # Ids of this feed's items that posts kept from before the plan use (on some
        # account): those an account used are not its leftovers, read or not.
        self.fixed = fixed
        self.census = census

    def unread(self, used: Collection[str]) -> int:
        """How many of the ``expected`` items the stream has not handed over yet, leaving
        out those in ``used``."""
        if self.expected is None or self.stream is None or self.stream.done:
            return 0
        seen = self.stream.seen
        used_unread = sum(1 for item_id in self.fixed if item_id in used and item_id not in seen)
        return max(0, self.expected - len(self.items) - used_unread)

    def get(self, index: int) -> Candidate | None:
        items, stream = self.items, self.stream
        pulled = 0
        while (
            index >= len(items)
            and stream is not None
            and not stream.done
            and (self.expected is None or len(items) < self.expected)
        ):
            if pulled == FAR and self.census is not None:
                self.census.take()
                continue
            stream.pull()
            pulled += 1
        return items[index] if index < len(items) else None


class Census:
    """A kind's count of the plain items each account's feed will get, taken the first time
    one read pulls :data:`FAR` items past a feed (``count``: per account, and for every
    account); then every feed of the kind stops where its items end."""

    def __init__(self, count: Callable[[], tuple[Mapping[str, int], int]]) -> None:
        self._count = count
        self.feeds: dict[str, Feed] = {}  # each account's own feed

    def take(self) -> None:
        counts, _ = self._count()
        for name, feed in self.feeds.items():
            feed.expected = counts.get(name, 0)
            feed.census = None


def read_on(feed: Feed, start: int, reading: Callable[[], bool]) -> Iterator[Candidate]:
    """A feed's items from ``start``: those read, then more from its stream while
    ``reading()``."""
    index = start
    while True:
        if index < len(feed.items):
            yield feed.items[index]
        elif not reading():
            return
        else:
            candidate = feed.get(index)
            if candidate is None:
                return
            yield candidate
        index += 1


@dataclass
class Later:
    """A kind's plain items, read lazily: those for every account and those for some, each
    in planning order, and how many of the latter go to each account.

    A pitch kind's leftovers are reported, so for one its plain pitches come with how many
    go to every account (``shared``) and which of them the fixed posts use (``fixed``: item
    id -> the accounts it goes to, None for all): what the report counts without reading.
    """

    for_all: Iterator[Candidate]
    for_some: Iterator[Candidate]
    # None: not counted yet (a give kind's): ``census`` counts them if a feed reads far;
    # ``known``, the accounts whose count is known already (none of the kind's items names
    # them).
    counts: Mapping[str, int] | None
    shared: int | None = None
    fixed: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    known: Mapping[str, int] = field(default_factory=dict)
    census: Callable[[], tuple[Mapping[str, int], int]] | None = None


def feeds_of(names: set[str], later: Mapping[str, Later]) -> dict[str, dict[str, list[Feed]]]:
    """Per kind, per account: the feeds its pool reads from (the kind's shared feed and the
    account's own), filled by one stream each for the shared items and the others."""
    feeds: dict[str, dict[str, list[Feed]]] = {}
    for kind, supply in later.items():
        for_all, for_some = supply.for_all, supply.for_some
        fixed = supply.fixed
        shared = Feed(supply.shared, {i for i, accounts in fixed.items() if accounts is None})
        shared.stream = Stream(for_all, _to(shared))
        counts = supply.counts
        census = None if counts is not None or supply.census is None else Census(supply.census)
        own = {
            name: Feed(
                supply.known.get(name) if counts is None else counts.get(name, 0),
                {i for i, accounts in fixed.items() if accounts and name in accounts},
                census,
            )
            for name in names
        }
        if census is not None:
            census.feeds = own

        def route(candidate: Candidate, own: dict[str, Feed] = own) -> list[Feed]:
            # Once per account, even if the item names one twice.
            return [own[name] for name in dict.fromkeys(candidate.accounts or ()) if name in own]

        stream = Stream(for_some, route)
        for feed in own.values():
            feed.stream = stream
        feeds[kind] = {name: [shared, own[name]] for name in names}
    return feeds


def _to(feed: Feed) -> Callable[[Candidate], Sequence[Feed]]:
    return lambda _: (feed,)
