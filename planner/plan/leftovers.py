"""What a plan says of the items it did not place, per account: held, waiting or expired.

- :func:`note_turn_passed`: while the slots are walked, counts the pitches the rule would
  have taken in open slots that went to gives (each counted one kept in the windows, so the
  next must fit after it);
- :func:`settle_leftovers`: at the end, each account's pitches still queued, in planning
  order, are **waiting** (the mix gave their kind no turn: one for each slot counted, or all
  of them when the rule refused nothing there; the reason names the weight to raise), else
  **held** (the rule is the limit, with its latest refusal); a pitch the rule refused itself
  keeps that reason. Items past their ``not_after`` are **expired**, with why no slot took
  them.

An item placed on one account may be held on another: every verdict is keyed by (item,
account) and names only that account's own numbers. Past :data:`~planner.plan.model.LISTED`
such items on one account, the rest are counted, not named (a queue of 200,000 items for 50
accounts would otherwise yield millions of verdicts nobody reads). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.plan.model import LISTED, Candidate, PlanResult, PlanRules, Slot
from planner.plan.pools import Account
from planner.rule.balancer import WindowTracker


def note_turn_passed(
    slot: Slot, account: Account, shadow: WindowTracker, pitch_kinds: Sequence[str]
) -> bool:
    """An open slot went to a give while a pitch waited: True (and counted) when the rule
    would have taken the pitch there. ``shadow`` holds the windows with a pitch at each slot
    counted before, so the count is how many more pitches the rule would have allowed had
    the mix offered them, not how many slots allowed one."""
    if slot.label is not None or not shadow.allows_pitch(slot.at):
        return False  # the cheap question first: the rule says no at most slots
    usable = account.usable_at(slot.at)
    if not any(account.pools[kind].first(slot.at, usable) is not None for kind in pitch_kinds):
        return False
    account.turns_passed += 1
    return True


def settle_leftovers(
    accounts: Mapping[str, Account],
    slots: Sequence[Slot],
    rules: PlanRules,
    result: PlanResult,
    listed: int = LISTED,
) -> None:
    """Each account on its own: items that expired there are reported with why, and pitches
    still queued when the weeks end are held (the rule refused pitches on that account) or
    waiting (their kind got no more turns). An item placed on one account may be held on
    another; each keeps its own verdict."""
    last = max((slot.at for slot in slots), default=None)
    # One text per kind: a brand's leftovers run to hundreds of thousands (item, account).
    waiting_reasons = {kind: _waiting_reason(kind, rules) for kind in rules.kinds}
    for account in accounts.values():
        name = account.name
        turns_left = account.turns_passed
        listing = _Listing(name, result, listed)
        for pool in account.pools.values():
            for candidate in pool.expired:
                if candidate.id not in account.used and listing.take():
                    _expire(candidate, account, result)
            # Pitches read lazily are read on only while the report still names items.
            for candidate in pool.leftovers(listing.has_room):
                key = (candidate.id, name)
                if candidate.id in account.used or key in result.expired:
                    continue
                if (
                    last is not None
                    and candidate.not_after is not None
                    and candidate.not_after <= last
                ):
                    if key in result.held or listing.take():
                        _expire(candidate, account, result)
                elif key in result.held or not candidate.is_pitch:
                    continue  # refused by the rule itself: its own reason stands
                elif (
                    last is not None
                    and candidate.not_before is not None
                    and (candidate.not_before > last)
                ):
                    continue  # not due within these weeks: nothing held it back yet
                elif not listing.take():
                    continue
                elif turns_left > 0 or account.refusal is None:
                    # One pitch for each slot the rule would have given one: the mix kept
                    # those out; past them (or with no refusal at all) the rule is the limit.
                    turns_left -= 1
                    result.waiting.setdefault(key, waiting_reasons[candidate.kind])
                else:
                    result.held[key] = (
                        f"the rule took no more pitches here (last refusal: {account.refusal})"
                    )
            # The pitches never read: none was placed, refused or due to expire here.
            listing.count(pool.unread(account.used))
        for item_id in account.used:
            result.held.pop((item_id, name), None)
            result.waiting.pop((item_id, name), None)
    for key in [*result.expired, *result.skipped]:
        result.held.pop(key, None)
        result.waiting.pop(key, None)
    for key in result.skipped:
        result.expired.pop(key, None)
    for key in result.held:
        result.waiting.pop(key, None)


class _Listing:
    """A big queue leaves thousands of pitches behind on each of many accounts: the first
    LISTED of them are named, the rest counted (``result.unlisted``)."""

    def __init__(self, account: str, result: PlanResult, room: int) -> None:
        self.account = account
        self.result = result
        self.room = room

    def has_room(self) -> bool:
        return self.room > 0

    def take(self) -> bool:
        """Whether the next item left out may be named."""
        if self.room > 0:
            self.room -= 1
            return True
        self.count(1)
        return False

    def count(self, items: int) -> None:
        """``items`` more left out, past the named ones."""
        if items:
            unlisted = self.result.unlisted
            unlisted[self.account] = unlisted.get(self.account, 0) + items


def _expire(candidate: Candidate, account: Account, result: PlanResult) -> None:
    """Why no slot took ``candidate`` on ``account`` before its ``not_after``."""
    key = (candidate.id, account.name)
    refused = result.held.pop(key, None)
    if refused is not None:
        reason = f"the rule refused it at each slot it could take before then (last: {refused})"
    elif candidate.is_pitch and account.refusal is not None:
        reason = f"the rule allowed no pitch in the slots left for it ({account.refusal})"
    elif candidate.is_pitch:
        reason = f"no slot before then could take a {candidate.kind}"
    else:
        reason = f"the slots before then went to {candidate.kind} items ahead of it or other kinds"
    result.expired.setdefault(key, f"passed its not_after: {reason}")


def _waiting_reason(kind: str, rules: PlanRules) -> str:
    weight = rules.kinds[kind][1]
    total = sum(w for _, w in rules.kinds.values())
    return (
        f"{kind} gets {weight} of {total} open slots; raise [kinds.{kind}] weight to plan more, "
        "up to the rule"
    )
