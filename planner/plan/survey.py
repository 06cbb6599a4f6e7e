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

from sqlalchemy import ColumnElement, Text, and_, case, cast, false, func, or_, select, true

from planner.store.batches import BATCH
from planner.store.models import Item


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
            mention = and_(Item.kind.in_(self.gives), self.mentions_own)
        else:
            mention = self.mentions_own if kind in self.gives else false()
        dated = and_(Item.not_after.is_not(None), Item.not_after <= self.horizon)
        return or_(Item.force.is_(True), dated, mention)

    def never_due(self, kind: str | None = None) -> ColumnElement[bool]:
        if self.horizon is None or (kind is not None and kind not in self.pitches):
            return false()
        return and_(
            Item.kind.in_(self.pitches) if kind is None else true(),
            Item.not_before.is_not(None),  # NULL-safe: the streams' filter negates it
            Item.not_before > self.horizon,
            ~self.unplain(kind),
        )


# Far above any count of plain items of one kind and account list (SQLite's and PostgreSQL's
# sums are 64-bit or wider).
_UNPLAIN_UNIT = 1 << 32


class Survey:
    """One pass over the lazily read kinds' items: per kind and account, how many plain items
    the lazy streams will bring (so an account with none does not read a whole stream
    looking; a pitch kind's leftovers are counted from it), and the ids of the items that
    must be read now instead."""

    def __init__(
        self,
        connection: Any,
        not_done: tuple[Any, ...],
        kinds: Sequence[str],
        exceptions: Exceptions,
        gone: Any,
        by_hand: Collection[str],
    ) -> None:
        targets = cast(Item.accounts, Text)
        self.counts: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        self.shared: dict[str, int] = dict.fromkeys(kinds, 0)  # plain items for every account
        self.unplain: dict[str, int] = dict.fromkeys(kinds, 0)  # items to read now, per kind
        self._not_done, self._exceptions = not_done, exceptions
        for kind in kinds:
            left_out = or_(gone, exceptions.never_due(kind))
            if by_hand:
                left_out = or_(left_out, Item.id.in_(sorted(by_hand)))
            # Both counts in one sum, so SQLite tests each row once: an item to read now
            # counts _UNPLAIN_UNIT, a plain one 1.
            packed = case((exceptions.unplain(kind), _UNPLAIN_UNIT), (left_out, 0), else_=1)
            # One kind at a time, grouped as the survey index orders it: no sort, no row read
            # (but for an item whose own-domain flag is not known yet).
            query = (
                select(targets, func.sum(packed))
                .where(*not_done, Item.kind == kind)
                .group_by(Item.kind, targets)
            )
            for accounts_json, total in connection.execute(query):
                unplain_here, plain = divmod(int(total or 0), _UNPLAIN_UNIT)
                self.unplain[kind] += unplain_here
                if accounts_json == "[]":
                    self.shared[kind] += plain
                    continue
                for name in set(json.loads(accounts_json)):
                    self.counts[kind][name] = self.counts[kind].get(name, 0) + plain
        self.special: set[str] = set()
        self.mentioning: set[str] = set()

    def few_exceptions(self, kind: str) -> bool:
        """Whether the kind's items to read now are few enough to read by id."""
        return self.unplain[kind] <= BATCH

    def read_exceptions(self, connection: Any, kinds: Sequence[str]) -> None:
        """The ids of the items of ``kinds`` to read now (:attr:`special`), and of those
        that mention an own domain (:attr:`mentioning`)."""
        if not any(self.unplain[kind] for kind in kinds):
            return
        unplain_items = select(Item.id, self._exceptions.mentions_own).where(
            *self._not_done, Item.kind.in_(kinds), self._exceptions.unplain()
        )
        for item_id, mentioning in connection.execute(unplain_items):
            self.special.add(item_id)
            if mentioning:
                self.mentioning.add(item_id)
