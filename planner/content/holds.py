"""Holding and releasing items by hand (``planner hold`` / ``planner release [--force]``).

Each says so when there is nothing to do, rather than succeed silently: holding an item
already held by hand, releasing one that is not held. An item the ratio rule holds (not a
person) is released by the rule itself as soon as it fits; ``--force`` overrides the rule.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from planner.content.lookup import get_item
from planner.errors import NothingToDo
from planner.store.models import Item, ItemStatus

_FINAL = {ItemStatus.PUBLISHED, ItemStatus.ARCHIVED}


def _changeable(session: Session, item_id: str, verb: str) -> Item:
    item = get_item(session, item_id)
    if item.status in _FINAL and not item.evergreen:
        raise NothingToDo(f"{item_id} is {item.status}: there is nothing to {verb}")
    return item


def hold_item(session: Session, item_id: str, now: datetime) -> Item:
    """Keep the planner away from an item until it is released."""
    item = _changeable(session, item_id, "hold")
    if item.manual_hold:
        raise NothingToDo(
            f"{item_id} is already held by hand; `planner release {item_id}` lets it back in"
        )
    item.manual_hold = True
    item.force = False
    item.status = ItemStatus.HELD
    item.status_reason = "held by hand (planner hold)"
    item.updated_at = now
    return item


def release_item(session: Session, item_id: str, now: datetime, *, force: bool = False) -> Item:
    """Let the planner place the item again; ``force`` overrides the ratio rule once.

    Without ``force`` only an item held by hand can be released: raises
    :class:`NothingToDo` for any other, naming its state.
    """
    item = _changeable(session, item_id, "release")
    if not force and not item.manual_hold:
        if item.status == ItemStatus.HELD:
            raise NothingToDo(
                f"{item_id} is held by the ratio rule, not by hand: the planner places it as "
                f"soon as the rule allows (`planner release {item_id} --force` places it "
                "anyway, as an override)"
            )
        raise NothingToDo(f"{item_id} is not held: it is {item.status}")
    item.manual_hold = False
    item.force = force
    if item.status == ItemStatus.HELD:
        item.status = ItemStatus.QUEUED
    item.status_reason = "released by hand with --force (override)" if force else None
    item.updated_at = now
    return item
