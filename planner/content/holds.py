"""Holding and releasing items by hand (``planner hold`` / ``planner release [--force]``),
on every account an item goes to or on one (``--account``).

A hold on every account is kept on the item; a hold or forced release on one account in
``item_account_states``, so the item goes on being planned on its other accounts. Releasing
one account of an item held everywhere keeps its other accounts held.

Each says so when there is nothing to do, rather than succeed silently: holding an item
already held by hand, releasing one that is not held. An item the ratio rule holds (not a
person) is released by the rule itself as soon as it fits; ``--force`` overrides the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.content.lookup import get_item
from planner.errors import DomainError, NothingToDo
from planner.store.models import (
    ITEM_ACCOUNT_STATES,
    Item,
    ItemAccountState,
    ItemStatus,
    PlanningState,
    keep_own_domain_flag,
)
from planner.store.upsert import upsert

_FINAL = {ItemStatus.PUBLISHED, ItemStatus.ARCHIVED}


def _changeable(session: Session, item_id: str, verb: str) -> Item:
    item = get_item(session, item_id)
    if item.status in _FINAL and not item.evergreen:
        raise NothingToDo(f"{item_id} is {item.status}: there is nothing to {verb}")
    return item


def _targets(item: Item, accounts: Sequence[str]) -> list[str]:
    """The configured accounts the item goes to."""
    return [name for name in accounts if not item.accounts or name in item.accounts]


def _check_account(item: Item, account: str, accounts: Sequence[str]) -> None:
    if account not in accounts:
        known = ", ".join(accounts) or "none"
        raise DomainError(f'no account "{account}" in the config (accounts: {known})')
    if item.accounts and account not in item.accounts:
        raise DomainError(
            f"{item.id} does not go to {account}: its accounts are {', '.join(item.accounts)}"
        )


def _state(session: Session, item_id: str, account: str) -> ItemAccountState | None:
    return session.get(ItemAccountState, (item_id, account), with_for_update=True)


def _state_row(session: Session, item_id: str, account: str, now: datetime) -> ItemAccountState:
    # Insert-or-keep, then lock it: a plan writing its verdicts (or a runner holding a pitch
    # at publish time) may insert the same row at once; a read-then-insert would then fail on
    # PostgreSQL with a duplicate key.
    upsert(
        session.connection(),
        ITEM_ACCOUNT_STATES,
        {"item_id": item_id, "account": account},
        {"updated_at": now},
        defaults={"manual_hold": False, "force": False},
    )
    row = _state(session, item_id, account)
    assert row is not None  # inserted or kept just above, in this transaction
    return row


def hold_item(
    session: Session,
    item_id: str,
    now: datetime,
    *,
    account: str | None = None,
    accounts: Sequence[str] = (),
) -> Item:
    """Keep the planner away from an item until it is released: on every account, or on
    ``account`` only (``accounts``: the configured ones, to check it against)."""
    item = _changeable(session, item_id, "hold")
    if item.manual_hold:
        raise NothingToDo(
            f"{item_id} is already held by hand on every account; "
            f"`planner release {item_id}` lets it back in"
        )
    if account is not None:
        _check_account(item, account, accounts)
        row = _state_row(session, item_id, account, now)
        if row.manual_hold:
            raise NothingToDo(
                f"{item_id} is already held by hand on {account}; "
                f"`planner release {item_id} --account {account}` lets it back in there"
            )
        row.manual_hold = True
        row.force = False
        row.updated_at = now
        return item
    item.manual_hold = True
    item.force = False
    item.status = ItemStatus.HELD
    item.status_reason = "held by hand (planner hold)"
    item.updated_at = now
    keep_own_domain_flag(item)
    for row in session.scalars(
        select(ItemAccountState).where(ItemAccountState.item_id == item_id).with_for_update()
    ):
        row.force = False
    return item


def release_item(
    session: Session,
    item_id: str,
    now: datetime,
    *,
    force: bool = False,
    account: str | None = None,
    accounts: Sequence[str] = (),
) -> Item:
    """Let the planner place the item again; ``force`` overrides the ratio rule once.
    ``account``: on that account only (``accounts``: the configured ones).

    Without ``force`` only an item held by hand can be released: raises
    :class:`NothingToDo` for any other, naming its state.
    """
    item = _changeable(session, item_id, "release")
    if account is not None:
        _check_account(item, account, accounts)
        return _release_on(session, item, account, accounts, now, force)
    rows = list(
        session.scalars(
            select(ItemAccountState).where(ItemAccountState.item_id == item_id).with_for_update()
        )
    )
    held_somewhere = [row for row in rows if row.manual_hold]
    if not force and not item.manual_hold and not held_somewhere:
        if item.status == ItemStatus.HELD or any(r.state == PlanningState.HELD for r in rows):
            raise NothingToDo(
                f"{item_id} is held by the ratio rule, not by hand: the planner places it as "
                f"soon as the rule allows (`planner release {item_id} --force` places it "
                "anyway, as an override)"
            )
        raise NothingToDo(f"{item_id} is not held: it is {item.status}")
    for row in rows:
        row.manual_hold = False
        row.force = False
        row.updated_at = now
    item.manual_hold = False
    item.force = force
    if item.status == ItemStatus.HELD:
        item.status = ItemStatus.QUEUED
    item.status_reason = "released by hand with --force (override)" if force else None
    item.updated_at = now
    keep_own_domain_flag(item)
    return item


def _release_on(
    session: Session,
    item: Item,
    account: str,
    accounts: Sequence[str],
    now: datetime,
    force: bool,
) -> Item:
    row = _state(session, item.id, account)
    held_here = item.manual_hold or (row is not None and row.manual_hold)
    if not force and not held_here:
        if row is not None and row.state == PlanningState.HELD:
            raise NothingToDo(
                f"{item.id} is held on {account} by the ratio rule, not by hand: the planner "
                f"places it as soon as the rule allows (`planner release {item.id} --account "
                f"{account} --force` places it anyway, as an override)"
            )
        raise NothingToDo(f"{item.id} is not held on {account}")
    if item.manual_hold:
        # Held everywhere until now: the other accounts stay held, each on its own row.
        for other in _targets(item, accounts):
            if other != account:
                other_row = _state_row(session, item.id, other, now)
                other_row.manual_hold = True
                other_row.force = False
                other_row.updated_at = now
        item.manual_hold = False
        if item.status == ItemStatus.HELD:
            item.status = ItemStatus.QUEUED
            item.status_reason = None
        item.updated_at = now
        keep_own_domain_flag(item)
    row = _state_row(session, item.id, account, now)
    row.manual_hold = False
    row.force = force
    row.updated_at = now
    return item
