"""Write what a plan decided of the items it left out: per (item, account), and per item.

- :func:`write_verdicts`: the planned accounts' verdicts (held, waiting, expired, skipped,
  each with its reason) replace their earlier ones in ``item_account_states``; holds and
  forced releases made by hand for one account stay; how many more it left out unnamed goes
  to ``account_plans.unlisted``;
- :func:`write_item_statuses`: each item's own status sums its accounts' verdicts up for
  ``queue list``: ``planned`` when placed anywhere, else ``held`` when held on any account
  (the reason names the account), ``expired`` when it expired wherever it was considered,
  else back to ``queued`` (items held by hand stay held).

Both run inside the plan's write transaction (:mod:`planner.plan.store`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from planner.plan.model import ItemOn
from planner.store.batches import chunks
from planner.store.bulk import execute_many
from planner.store.models import (
    ACCOUNT_PLANS,
    ITEM_ACCOUNT_STATES,
    ITEMS,
    KEEP_OWN_DOMAIN_FLAG,
    ItemStatus,
    PlanningState,
)
from planner.store.upsert import upsert_many


class Verdicts(Protocol):
    """A plan's verdicts on what it left out (:class:`planner.plan.store.PlanOutcome`)."""

    @property
    def held(self) -> Mapping[ItemOn, str]: ...
    @property
    def waiting(self) -> Mapping[ItemOn, str]: ...
    @property
    def expired(self) -> Mapping[ItemOn, str]: ...
    @property
    def skipped(self) -> Mapping[ItemOn, str]: ...
    @property
    def unlisted(self) -> Mapping[str, int]: ...


def write_verdicts(
    session: Session,
    accounts: Sequence[str],
    outcome: Verdicts,
    placed_on: Set[ItemOn],
    now: datetime,
) -> None:
    """Replace the planned accounts' verdicts with this plan's, one row per (item, account);
    holds and forced releases made by hand stay, and so do expiries: an item that expired
    is no candidate of a later plan, which would otherwise forget why it expired. An item
    placed on an account (``placed_on``) has no verdict there.

    Only what changed is written: next week's plan names mostly the pitches this week's
    named, for the same reasons, so a weekly plan rewrites a few rows, not thousands."""
    connection = session.connection()
    plans = [
        {"account": account, "unlisted": outcome.unlisted.get(account, 0), "planned_at": now}
        for account in accounts
    ]
    upsert_many(connection, ACCOUNT_PLANS, ("account",), plans, ("unlisted", "planned_at"))
    verdicts: dict[ItemOn, tuple[str, str]] = {}
    for state, found in (
        (PlanningState.EXPIRED, outcome.expired),
        (PlanningState.WAITING, outcome.waiting),
        (PlanningState.HELD, outcome.held),
        (PlanningState.SKIPPED, outcome.skipped),  # the strongest: nothing else can help it
    ):
        verdicts.update((key, (state, reason)) for key, reason in found.items())
    on_accounts = ITEM_ACCOUNT_STATES.c.account.in_(accounts)
    rows = select(
        ITEM_ACCOUNT_STATES.c.item_id,
        ITEM_ACCOUNT_STATES.c.account,
        ITEM_ACCOUNT_STATES.c.state,
        ITEM_ACCOUNT_STATES.c.reason,
    )
    changed: list[dict[str, Any]] = []
    present: set[ItemOn] = set()  # the rows already there
    for item_id, account, state, reason in connection.execute(rows.where(on_accounts)):
        key = (item_id, account)
        present.add(key)
        wanted = verdicts.get(key)
        if wanted is None:
            # An expiry stays, unless the plan placed the item after all (its not_after moved).
            if state is None or (state == PlanningState.EXPIRED and key not in placed_on):
                continue
            wanted_state, wanted_reason = None, None
        else:
            wanted_state, wanted_reason = wanted
        if (state, reason) != (wanted_state, wanted_reason):
            changed.append({"key_item": item_id, "key_account": account,
                            "state": wanted_state, "reason": wanted_reason})  # fmt: skip
    if changed:
        execute_many(
            connection,
            update(ITEM_ACCOUNT_STATES)
            .where(
                ITEM_ACCOUNT_STATES.c.item_id == bindparam("key_item"),
                ITEM_ACCOUNT_STATES.c.account == bindparam("key_account"),
            )
            .values(state=bindparam("state"), reason=bindparam("reason"), updated_at=now),
            changed,
        )
    # A row says something only while it has a verdict or a decision made by hand.
    connection.execute(
        delete(ITEM_ACCOUNT_STATES).where(
            on_accounts,
            ITEM_ACCOUNT_STATES.c.state.is_(None),
            ITEM_ACCOUNT_STATES.c.manual_hold.is_(False),
            ITEM_ACCOUNT_STATES.c.force.is_(False),
        )
    )
    new = [
        {"item_id": item_id, "account": account, "state": state, "reason": reason,
         "manual_hold": False, "force": False, "updated_at": now}
        for (item_id, account), (state, reason) in sorted(verdicts.items())
        if (item_id, account) not in present
    ]  # fmt: skip
    # A hold by hand (or a runner's hold at publish time) may write a row of the same key
    # after the read above, on PostgreSQL: that row keeps its hold and takes the verdict.
    for chunk in chunks(new, 2000):
        upsert_many(connection, ITEM_ACCOUNT_STATES, ("item_id", "account"), list(chunk),
                    ("state", "reason", "updated_at"))  # fmt: skip


def write_item_statuses(
    session: Session,
    outcome: Verdicts,
    placed: set[str],
    replaced_items: set[str],
    kept_item_ids: set[str],
    now: datetime,
) -> None:
    """Each item's own status, summed up from its accounts' verdicts (see the module doc)."""
    # One UPDATE per batch of ids (an executemany of single-row updates costs several times more).
    for chunk in chunks(sorted(placed)):
        session.execute(
            update(ITEMS)
            .where(ITEMS.c.id.in_(chunk))
            .values(
                status=ItemStatus.PLANNED,
                status_reason=None,
                updated_at=now,
                **KEEP_OWN_DOMAIN_FLAG,
            )
        )
    settled = placed | kept_item_ids
    held: dict[str, list[tuple[str, str]]] = {}
    for (item_id, account), reason in sorted(outcome.held.items()):
        if item_id not in settled:
            held.setdefault(item_id, []).append((account, reason))
    open_elsewhere = {item_id for item_id, _ in [*outcome.waiting, *outcome.skipped]}
    expired = {item_id for item_id, _ in outcome.expired} - settled - held.keys() - open_elsewhere
    updates: list[dict[str, Any]] = []
    for item_id, verdicts in held.items():
        account, reason = verdicts[0]
        summary = f"on {account}: {reason}"
        if len(verdicts) > 1:
            summary += f" (held on {len(verdicts)} accounts; `planner preview` shows each)"
        updates.append({"item_id": item_id, "status": ItemStatus.HELD, "reason": summary})
    for item_id in sorted(expired):
        updates.append(
            {"item_id": item_id, "status": ItemStatus.EXPIRED, "reason": "passed its not_after"}
        )
    # Back to the queue: items whose post was replaced and not placed again, and items held
    # by an earlier plan that no account holds now. Items held by hand stay held.
    decided = settled | held.keys() | expired
    maybe_back = replaced_items - decided
    still_held = select(ITEM_ACCOUNT_STATES.c.item_id).where(
        ITEM_ACCOUNT_STATES.c.state == PlanningState.HELD
    )
    held_before = select(ITEMS.c.id).where(
        ITEMS.c.status == ItemStatus.HELD,
        ITEMS.c.manual_hold.is_(False),
        ITEMS.c.id.not_in(still_held),
    )
    maybe_back.update(item_id for item_id in session.scalars(held_before) if item_id not in decided)
    back_to_queue = sorted(maybe_back)
    held_by_hand: set[str] = set()
    for chunk in chunks(back_to_queue):
        held_by_hand.update(
            session.scalars(
                select(ITEMS.c.id).where(ITEMS.c.id.in_(chunk), ITEMS.c.manual_hold.is_(True))
            )
        )
    for item_id in back_to_queue:
        if item_id in held_by_hand:
            continue
        updates.append({"item_id": item_id, "status": ItemStatus.QUEUED, "reason": None})
    # Core executemany: the ORM's bulk update by primary key costs about twice as much here.
    set_status = (
        update(ITEMS)
        .where(ITEMS.c.id == bindparam("item_id"))
        .values(
            status=bindparam("status"),
            status_reason=bindparam("reason"),
            updated_at=now,
            **KEEP_OWN_DOMAIN_FLAG,
        )
    )
    for chunk in chunks(updates, 2000):
        execute_many(session.connection(), set_status, chunk)
