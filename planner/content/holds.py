"""Holding and releasing items by hand (``planner hold`` / ``planner release [--force]``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from planner.content.files import is_valid_id
from planner.errors import DomainError, ItemNotFound
from planner.store.models import Item, ItemStatus

_FINAL = {ItemStatus.PUBLISHED, ItemStatus.ARCHIVED}


def _get(session: Session, item_id: str) -> Item:
    # No item can have an id the queue files refuse (one with a NUL would even make
    # PostgreSQL refuse the query): such an id is simply not found.
    item = session.get(Item, item_id) if is_valid_id(item_id) else None
    if item is None:
        raise ItemNotFound(item_id)
    return item


def hold_item(session: Session, item_id: str, now: datetime) -> Item:
    """Keep the planner away from an item until it is released."""
    item = _get(session, item_id)
    if item.status in _FINAL and not item.evergreen:
        raise DomainError(f"{item_id} is {item.status}: there is nothing to hold")
    item.manual_hold = True
    item.force = False
    item.status = ItemStatus.HELD
    item.status_reason = "held by hand (planner hold)"
    item.updated_at = now
    return item


def release_item(session: Session, item_id: str, now: datetime, *, force: bool = False) -> Item:
    """Let the planner place the item again; ``force`` overrides the ratio rule once."""
    item = _get(session, item_id)
    if item.status in _FINAL and not item.evergreen:
        raise DomainError(f"{item_id} is {item.status}: there is nothing to release")
    item.manual_hold = False
    item.force = force
    if item.status == ItemStatus.HELD:
        item.status = ItemStatus.QUEUED
    item.status_reason = "released by hand with --force (override)" if force else None
    item.updated_at = now
    return item
