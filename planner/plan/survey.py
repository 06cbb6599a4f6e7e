"""What a week's plan learns of the queue before reading it lazily.

- :class:`Exceptions`: which items a plan must read now rather than from its lazy streams
  (forced ones, those that may expire within the plan, gives that may be pitches), and which
  pitches it need not read at all (not due before the last slot);
- :class:`Survey`: one pass per kind over the survey index counting, per list of accounts,
  the plain items the streams will bring and the items to read now, without reading a row.

Used by :mod:`planner.plan.load`; reads only.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    text,
    true,
)

from planner.store.batches import BATCH
from planner.store.models import ITEMS, open_dated_condition, open_marked_condition


@dataclass
class Exceptions:
    """The items a plan must read now rather than from its lazy streams (:meth:`unplain`:
    forced ones, those that may expire by the ``horizon``, gives that may be pitches as they
    mention an own domain), and the pitches it need not read at all (:meth:`never_due`: not
    before the horizon). For one kind, or for any (``kind=None``): a survey of one kind
    leaves out the tests that cannot hold for it, which SQLite would make at every row."""

    horizon: datetime | None
    gives: Sequence[str]
    pitches: Sequence[str]
    mentions_own: ColumnElement[bool]

    def unplain(self, kind: str | None = None) -> ColumnElement[bool]:
        if self.horizon is None:
            return false()
        if kind is None:
            mention = and_(ITEMS.c.kind.in_(self.gives), self.mentions_own)
        else:
            mention = self.mentions_own if kind in self.gives else false()
        dated = and_(ITEMS.c.not_after.is_not(None), ITEMS.c.not_after <= self.horizon)
        return or_(ITEMS.c.force.is_(True), dated, mention)

    def never_due(self, kind: str | None = None) -> ColumnElement[bool]:
        if self.horizon is None or (kind is not None and kind not in self.pitches):
            return false()
        return and_(
            ITEMS.c.kind.in_(self.pitches) if kind is None else true(),
            ITEMS.c.not_before.is_not(None),  # NULL-safe: the streams' filter negates it
            ITEMS.c.not_before > self.horizon,
            ~self.unplain(kind),
        )


# Far above any count of plain items of one kind and account list (SQLite's and PostgreSQL's
# sums are 64-bit or wider).
_UNPLAIN_UNIT = 1 << 32
# Past this many distinct lists of accounts in a kind, seeking them costs more than counting.
_MOST_LISTS = 200


class Survey:
    """What a week's plan learns of its lazily read kinds before reading them: per kind and
    account, how many plain items the lazy streams will bring (so an account with none does
    not read a whole stream looking; a pitch kind's leftovers are counted from it), and the
    ids of the items that must be read now instead.

    The counts take one pass over the survey index per kind. A pitch kind's are taken at
    once (the report counts its leftovers). A give kind's exceptions can instead come from
    the partial indexes of dated and marked items (``indexed``: when the stored own-domain
    flags are current), and its counts only when a stream has to read far for one account
    (:meth:`census`): most plans never ask, and skip the pass over most of the queue."""

    def __init__(
        self,
        connection: Any,
        not_done: tuple[Any, ...],
        kinds: Sequence[str],
        exceptions: Exceptions,
        gone: Any,
        by_hand: Collection[str],
        indexed: Collection[str] = (),
    ) -> None:
        self.counts: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        self.shared: dict[str, int] = dict.fromkeys(kinds, 0)  # plain items for every account
        self.unplain: dict[str, int] = dict.fromkeys(kinds, 0)  # items to read now, per kind
        self._connection, self._not_done, self._exceptions = connection, not_done, exceptions
        self._gone, self._by_hand = gone, by_hand
        self.special: set[str] = set()
        self.mentioning: set[str] = set()
        self._found: set[str] = set()  # kinds whose exceptions the indexes gave
        self._indexed: dict[str, tuple[str, bool]] = {}  # their ids: (kind, mentioning)
        self._counted: set[str] = set()
        for kind in kinds:
            if kind not in indexed:
                self._count(kind)
        indexed_here = [kind for kind in kinds if kind in indexed]
        if indexed_here:
            self._read_indexed_exceptions(indexed_here)

    def _count(self, kind: str) -> None:
        targets = cast(ITEMS.c.accounts, Text)
        exceptions = self._exceptions
        left_out = or_(self._gone, exceptions.never_due(kind))
        if self._by_hand:
            left_out = or_(left_out, ITEMS.c.id.in_(sorted(self._by_hand)))
        # Both counts in one sum, so SQLite tests each row once: an item to read now counts
        # _UNPLAIN_UNIT, a plain one 1.
        packed = case((exceptions.unplain(kind), _UNPLAIN_UNIT), (left_out, 0), else_=1)
        # One kind at a time, grouped as the survey index orders it: no sort, no row read
        # (but for an item whose own-domain flag is not known yet).
        query = (
            select(targets, func.sum(packed))
            .where(*self._not_done, ITEMS.c.kind == kind)
            .group_by(ITEMS.c.kind, targets)
        )
        unplain = 0
        for accounts_json, total in self._connection.execute(query):
            unplain_here, plain = divmod(int(total or 0), _UNPLAIN_UNIT)
            unplain += unplain_here
            if accounts_json == "[]":
                self.shared[kind] += plain
                continue
            for name in set(json.loads(accounts_json)):
                self.counts[kind][name] = self.counts[kind].get(name, 0) + plain
        if kind not in self._found:
            self.unplain[kind] = unplain
        self._counted.add(kind)

    def _read_indexed_exceptions(self, kinds: Sequence[str]) -> None:
        """The exceptions of ``kinds`` (gives) through the partial indexes of dated and
        marked open items: what :meth:`read_exceptions` would find, without a pass."""
        exceptions = self._exceptions
        found = select(ITEMS.c.id, ITEMS.c.kind, exceptions.mentions_own).where(
            *self._not_done, ITEMS.c.kind.in_(kinds), exceptions.unplain()
        )
        assert exceptions.horizon is not None
        by_index = (
            # Each query repeats its index's condition as written, as SQLite asks.
            found.where(text(open_marked_condition("items."))),
            found.where(
                text(open_dated_condition("items.")), ITEMS.c.not_after <= exceptions.horizon
            ),
        )
        for query in by_index:
            for item_id, kind, mentioning in self._connection.execute(query):
                if item_id not in self._indexed:
                    self._indexed[item_id] = (kind, bool(mentioning))
                    self.unplain[kind] += 1
        self._found.update(kinds)

    def accounts_listed(self, kind: str) -> set[str] | None:
        """The accounts some item of ``kind`` names (in its list of accounts), found by
        seeking the survey index from one distinct list to the next: a few index seeks
        where counting walks every item. An account named by none gets none of the kind's
        own items, and its feed need not read at all. None when the lists are too many to
        seek (then count: :meth:`census`)."""
        targets = cast(ITEMS.c.accounts, Text)
        # A recursive query, one statement: each step seeks the least list after the last.
        least = select(func.min(targets)).where(ITEMS.c.kind == kind)
        lists = select(least.scalar_subquery().label("listed")).cte("lists", recursive=True)
        after = least.where(targets > lists.c.listed).scalar_subquery()
        lists = lists.union_all(select(after).where(lists.c.listed.is_not(None)))
        found = self._connection.execute(
            select(lists.c.listed).where(lists.c.listed.is_not(None)).limit(_MOST_LISTS + 1)
        ).scalars()
        listed = list(found)
        if len(listed) > _MOST_LISTS:
            return None
        return {name for accounts in listed for name in json.loads(accounts)}

    def census(self, kind: str) -> tuple[dict[str, int], int]:
        """Per account, and for every account, the plain items of ``kind`` the lazy streams
        bring: counted now if they were not yet."""
        if kind not in self._counted:
            self._count(kind)
        return self.counts[kind], self.shared[kind]

    def few_exceptions(self, kind: str) -> bool:
        """Whether the kind's items to read now are few enough to read by id."""
        return self.unplain[kind] <= BATCH

    def read_exceptions(self, kinds: Sequence[str]) -> None:
        """The ids of the items of ``kinds`` to read now (:attr:`special`), and of those
        that mention an own domain (:attr:`mentioning`); those of kinds the indexes
        answered are known already. Only ``kinds``: a kind with too many to read by id is
        read whole, and its ids would only swell the streams' ``NOT IN`` list."""
        for item_id, (kind, mentioning) in self._indexed.items():
            if kind in kinds:
                self.special.add(item_id)
                if mentioning:
                    self.mentioning.add(item_id)
        scanned = [kind for kind in kinds if kind not in self._found]
        if not any(self.unplain[kind] for kind in scanned):
            return
        unplain_items = select(ITEMS.c.id, self._exceptions.mentions_own).where(
            *self._not_done, ITEMS.c.kind.in_(scanned), self._exceptions.unplain()
        )
        for item_id, mentioning in self._connection.execute(unplain_items):
            self.special.add(item_id)
            if mentioning:
                self.mentioning.add(item_id)
