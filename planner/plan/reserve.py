"""Typed pitch slots are kept for their kind: may a pitch go now without costing one later?

A pitch placed in an open slot counts in the windows, and against the gap, of every pitch
after it within the rule's reach. Placed greedily, it can make a later typed pitch slot
(``wed 12:00 promo``) illegal, and that slot then goes to a give while a promo waits. So
before a pitch takes a slot the engine asks (through :class:`Lookahead`, which knows the
accounts' pools) :meth:`Reservations.blocks`: walk the scope's
coming slots within reach, once as if this slot got the pitch and once as if it got a give,
filling every typed pitch slot that has an item of its kind when the rule allows and every
other slot with a give; if a typed slot filled in the second walk is not in the first, the
pitch waits. (Every pitch outside a typed pitch slot asks, so the walk matches what the
engine will do as long as the slots between get gives.)

Reach: a later slot is within reach when it is closer than the gap or the days window, or
when fewer posts than the count window lie between (every slot counted as filled). Beyond
it, this slot cannot change that slot's windows or gap, so nothing further is walked.

Cost: a bisect when no typed pitch slot is within reach (the common case); otherwise a walk
over the slots within reach, bounded by the window, so planning stays linear in slots.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from planner.plan.model import PITCH, FixedPost, PlanRules, Slot
from planner.plan.pools import Account
from planner.rule.balancer import BalanceSettings, WindowTracker


@dataclass(frozen=True, slots=True)
class Entry:
    """One post or slot of a scope's time line: a fixed post (``pitch`` known) or a slot."""

    at: datetime
    slot: Slot | None
    pitch: bool = False  # a fixed post's class
    typed_pitch: bool = False  # a slot labelled with a pitch kind or the pitch class


class Reservations:
    """One scope's time line (its slots still to fill and the posts that stay, in order)."""

    def __init__(self, settings: BalanceSettings, entries: Sequence[Entry]) -> None:
        self._entries = entries
        self._typed = [i for i, entry in enumerate(entries) if entry.typed_pitch]
        hours = settings.min_pitch_gap_hours or 0
        days = settings.window_days or 0
        self._span = max(timedelta(hours=hours), timedelta(days=days))
        # Posts that may lie between two posts of one count window.
        self._between = (settings.window_posts or 1) - 2

    def blocks(
        self,
        position: int,
        tracker: WindowTracker,
        has_item: Callable[[Slot], bool],
        before: datetime | None = None,
    ) -> Slot | None:
        """The first typed pitch slot a pitch at entry ``position`` would cost, or None.

        ``tracker`` holds the scope's posts before that entry (it is copied, not changed);
        ``has_item`` says whether a typed slot has an item of its kind to take it; with
        ``before``, only typed slots before that instant count.
        """
        if not self._typed:
            return None
        at = self._entries[position].at
        start = bisect_right(self._typed, position)
        last = None
        for index in self._typed[start:]:
            entry = self._entries[index]
            if entry.at - at >= self._span and index - position - 1 > self._between:
                break
            if before is not None and entry.at >= before:
                break
            last = index
        if last is None:
            return None
        with_pitch = self._fill(position, last, tracker, has_item, True)
        without = self._fill(position, last, tracker, has_item, False)
        lost = [slot for slot in without if slot not in with_pitch]
        return lost[0] if lost else None

    def _fill(
        self,
        position: int,
        last: int,
        tracker: WindowTracker,
        has_item: Callable[[Slot], bool],
        pitch_now: bool,
    ) -> list[Slot]:
        """The typed pitch slots up to entry ``last`` that get a pitch, if entry ``position``
        is a pitch (``pitch_now``) or a give."""
        future = tracker.copy()
        future.record(self._entries[position].at, pitch_now)
        filled = []
        for entry in self._entries[position + 1 : last + 1]:
            if entry.slot is None:
                future.record(entry.at, entry.pitch)
            elif (
                entry.typed_pitch and has_item(entry.slot) and future.decide(entry.at, True).allowed
            ):
                future.record(entry.at, True)
                filled.append(entry.slot)
            else:
                future.record(entry.at, False)
        return filled


def scope_entries(
    timeline: Sequence[tuple[datetime, int, str, Slot | FixedPost]],
    scope_of: Callable[[str], str],
    typed_pitch: Callable[[Slot], bool],
    taken: set[tuple[str, datetime]],
) -> tuple[dict[str, list[Entry]], list[int]]:
    """Split the planner's time line by scope: each scope's entries, and for each time line
    entry its index in its scope's list (-1 for a slot a post that stays already holds)."""
    entries: dict[str, list[Entry]] = {}
    positions: list[int] = []
    for at, _, account, item in timeline:
        mine = entries.setdefault(scope_of(account), [])
        if isinstance(item, FixedPost):
            positions.append(len(mine))
            mine.append(Entry(at, None, pitch=item.is_pitch))
        elif (account, at) in taken:
            positions.append(-1)
        else:
            positions.append(len(mine))
            mine.append(Entry(at, item, typed_pitch=typed_pitch(item)))
    return entries, positions


def typed_pitch(slot: Slot, rules: PlanRules) -> bool:
    label = slot.label
    if label is None:
        return False
    return label == PITCH or (label in rules.kinds and rules.kinds[label][0] == PITCH)


class Lookahead:
    """Asks the scope's reservations whether a pitch may take the slot being filled."""

    def __init__(
        self, reservations: Reservations, position: int, accounts: Mapping[str, Account]
    ) -> None:
        self._reservations = reservations
        self._position = position
        self._accounts = accounts

    def blocks(
        self, tracker: WindowTracker, rules: PlanRules, slot: Slot, before: datetime | None
    ) -> Slot | None:
        """The typed pitch slot a pitch placed in ``slot`` would cost, if any (never one for
        a typed pitch slot itself: the simulation fills those as the walk will)."""
        if typed_pitch(slot, rules):
            return None
        at = slot.at

        def has_item(typed: Slot) -> bool:
            account = self._accounts[typed.account]
            usable_then = account.usable_at(typed.at)
            if any(usable_then(forced) is True for forced in account.forced):
                return False  # a forced release may take the slot: nothing to keep it for
            usable = account.usable_at(at)
            label = typed.label
            kinds = (
                [label] if label is not None and label in rules.kinds else kinds_of(rules, PITCH)
            )
            return any(account.pools[kind].first(at, usable) is not None for kind in kinds)

        return self._reservations.blocks(self._position, tracker, has_item, before)


def kinds_of(rules: PlanRules, klass: str) -> list[str]:
    return [kind for kind, (c, _) in rules.kinds.items() if c == klass]
