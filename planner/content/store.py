"""The content queue in the database: sync from files, add one item, list.

A sync is one transaction: either every file's items are stored or nothing changes. It
works in batches (one SELECT per chunk of ids, one executemany per chunk of inserts and
updates) so importing ten thousand items costs a handful of round trips, not one per item.

What a sync does with each item it reads:
- new id: inserted as ``queued``;
- known id, same content: left alone (``unchanged``);
- known id, edited content: updated in place (status kept; an archived item comes back
  as ``queued``);
- an item that was in one of the synced files before and is gone now: ``archived`` (kept,
  since posts and history refer to it), unless it was already published.

Before anything is written, the new and changed items (and archived ones coming back) are
handed to the caller's ``check``, which may refuse them by raising (``queue sync`` renders
them for their accounts, see :mod:`planner.plan.sync_check`); an unchanged item was checked
when it was stored, so a re-sync of ten thousand unchanged items renders nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from planner.content.files import QueueItem
from planner.content.media_store import replace_media
from planner.store.batches import chunks
from planner.store.models import ITEMS, Item, ItemAccountState, ItemStatus

ProgressCallback = Callable[[int], None]
# Called with the items a sync would insert or update, before it writes; raises to refuse.
ItemCheck = Callable[[Sequence[QueueItem]], None]


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.archived} archived"
        )


# The key of the PostgreSQL advisory lock queue writers take turns on ("plannerQ").
_QUEUE_WRITERS = 0x706C616E6E657251


def take_turns_writing_items(session: Session) -> None:
    """Wait for any other transaction adding or editing queue items to end.

    A sync reads which ids exist, then inserts the others: two at once would both insert the
    same new item. SQLite's write transaction holds the database's one write lock from BEGIN;
    on PostgreSQL, where only rows are locked, writers take a transaction-scoped advisory lock
    (released at commit or rollback). Runners and plans never take it: they only update items
    that exist, under their row locks.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _QUEUE_WRITERS})


def sync_items(
    session: Session,
    items: Sequence[QueueItem],
    sources: Iterable[str],
    now: datetime,
    progress: ProgressCallback | None = None,
    check: ItemCheck | None = None,
) -> SyncReport:
    """Store ``items`` read from ``sources`` (the files synced); see the module docstring.

    Runs inside the caller's transaction. ``progress`` is called with the number of items
    handled after each batch. ``check`` sees every item that would be inserted or updated
    before the first write; what it raises propagates and nothing is written.
    """
    take_turns_writing_items(session)
    sources = sorted(set(sources))
    existing: dict[str, tuple[str, str]] = {}  # id -> (content_hash, status)
    ids = [item.id for item in items]
    for id_chunk in chunks(ids):
        rows = session.execute(
            select(Item.id, Item.content_hash, Item.status).where(Item.id.in_(id_chunk))
        )
        existing.update({row.id: (row.content_hash, row.status) for row in rows})
    if check is not None:
        check([item for item in items if _needs_writing(item, existing.get(item.id))])

    added = updated = unchanged = 0
    for chunk in chunks(items):
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for item in chunk:
            known = existing.get(item.id)
            if known is None:
                inserts.append(
                    {
                        **item.row(),
                        "status": ItemStatus.QUEUED,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif _needs_writing(item, known):
                status = ItemStatus.QUEUED if known[1] == ItemStatus.ARCHIVED else known[1]
                updates.append({**item.row(), "status": status, "updated_at": now})
            else:
                unchanged += 1
        written = [item for item in chunk if _needs_writing(item, existing.get(item.id))]
        if inserts:
            # Core executemany: the ORM's bulk insert would split rows whose None-valued
            # columns differ into separate statements, one per row in a mixed queue.
            session.execute(insert(ITEMS), inserts)
        if updates:
            session.execute(update(Item), updates)
            _forget_verdicts(session, [row["id"] for row in updates])
        if inserts or updates:
            replace_media(session, written)
        added += len(inserts)
        updated += len(updates)
        if progress is not None:
            progress(len(chunk))

    archived = _archive_removed(session, sources, set(ids), now)
    return SyncReport(added=added, updated=updated, unchanged=unchanged, archived=archived)


def _forget_verdicts(session: Session, item_ids: Sequence[str]) -> None:
    """An edited item's verdicts (held, expired, ...) were about the old item: the next plan
    gives new ones. Holds made by hand stay."""
    session.execute(
        update(ItemAccountState)
        .where(ItemAccountState.item_id.in_(item_ids))
        .values(state=None, reason=None)
    )
    session.execute(
        delete(ItemAccountState).where(
            ItemAccountState.item_id.in_(item_ids),
            ItemAccountState.manual_hold.is_(False),
            ItemAccountState.force.is_(False),
        )
    )


def _needs_writing(item: QueueItem, known: tuple[str, str] | None) -> bool:
    """New, edited, or archived and coming back."""
    return known is None or known[0] != item.content_hash or known[1] == ItemStatus.ARCHIVED


def _archive_removed(
    session: Session, sources: Sequence[str], keep: set[str], now: datetime
) -> int:
    if not sources:
        return 0
    gone: list[str] = []
    for source_chunk in chunks(sources):
        query = select(Item.id).where(
            Item.source.in_(source_chunk),
            Item.status.not_in([ItemStatus.ARCHIVED, ItemStatus.PUBLISHED]),
        )
        gone.extend(item_id for item_id in session.scalars(query) if item_id not in keep)
    for chunk in chunks(gone):
        session.execute(
            update(Item)
            .where(Item.id.in_(chunk))
            .values(
                status=ItemStatus.ARCHIVED,
                status_reason="removed from its queue file",
                updated_at=now,
            )
        )
    return len(gone)


def item_sources(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """Id -> source of the stored items among ``ids`` that are not archived."""
    found: dict[str, str] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(Item.id, Item.source).where(
                Item.id.in_(chunk), Item.status != ItemStatus.ARCHIVED
            )
        )
        found.update({row.id: row.source for row in rows})
    return found


def add_item(session: Session, item: QueueItem, now: datetime) -> bool:
    """Insert one item (or update it if its id exists); return True when it was new.

    An archived item added again comes back as ``queued``, as it does from a queue file.
    """
    take_turns_writing_items(session)
    current = session.get(Item, item.id)
    if current is None:
        session.add(Item(**item.row(), status=ItemStatus.QUEUED, created_at=now, updated_at=now))
        session.flush()
        replace_media(session, [item])
        return True
    for name, value in item.row().items():
        setattr(current, name, value)
    if current.status == ItemStatus.ARCHIVED:
        current.status = ItemStatus.QUEUED
        current.status_reason = None
    current.updated_at = now
    session.flush()
    replace_media(session, [item])
    return False


def list_items(
    session: Session,
    *,
    kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
    account: str | None = None,
) -> list[Item]:
    """Items in planning order (priority, then age), filtered by kind, status and account.

    An item with no ``accounts`` goes to every account, so it matches any account filter.
    """
    query = select(Item).order_by(Item.priority.desc(), Item.created_at, Item.id)
    if kinds:
        query = query.where(Item.kind.in_(kinds))
    if statuses:
        query = query.where(Item.status.in_(statuses))
    items = list(session.scalars(query))
    if account is not None:
        items = [item for item in items if not item.accounts or account in item.accounts]
    return items
