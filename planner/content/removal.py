"""``planner queue remove``: archive an item added by hand, and take it out of the plan.

The item is archived, not deleted: posts and history refer to it. Its posts still
``planned`` are deleted at once (a runner must not publish an item that was removed, and a
re-plan would otherwise put it back in the queue); the slots they leave stay empty until the
next ``planner plan``. Posts already published stay, and so do posts a runner has claimed or
is retrying: they are on their way out, and ``planner status`` follows them.

An item that came from a queue file is refused while the file exists, with the fix: the
next ``planner queue sync`` would bring it back, so it is deleted from the file and the sync
archives it. An item whose file is gone is archived like one added by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from planner.content.lookup import get_item
from planner.errors import NothingToDo
from planner.store.models import ItemStatus, Post, PostStatus

# The source recorded for items added with `planner queue add` (others name their file).
ADDED_BY_HAND = "command line"

# On their way out: left alone by a removal, like published ones.
_UNDER_WAY = (PostStatus.CLAIMED, PostStatus.RETRY, PostStatus.UNKNOWN)


class FromQueueFile(NothingToDo):
    """The item comes from a queue file that would bring it back at the next sync."""

    def __init__(self, item_id: str, source: str) -> None:
        self.item_id = item_id
        self.source = source
        super().__init__(
            f"{item_id} comes from {source}: delete it from that file and run "
            "`planner queue sync`, which archives it (removing it here would be undone by the "
            f"next sync); `planner hold {item_id}` keeps it out of the plan meanwhile"
        )


@dataclass(frozen=True)
class Removal:
    """What ``remove_item`` did: the item archived, its planned posts taken out."""

    item_id: str
    unplanned: int  # planned posts deleted: their slots are empty until `planner plan`
    under_way: int  # posts claimed, retrying or unknown: left to finish
    published: int  # posts already out: kept, they are history


def remove_item(session: Session, item_id: str, now: datetime, base_dir: Path) -> Removal:
    """Archive ``item_id`` and delete its planned posts; see the module docstring.

    ``base_dir`` is the config's folder, which queue-file sources are relative to. Raises
    :class:`ItemNotFound`, :class:`FromQueueFile`, or :class:`NothingToDo` when the item is
    archived already.
    """
    item = get_item(session, item_id)
    if item.status == ItemStatus.ARCHIVED:
        raise NothingToDo(f"{item_id} is archived already: there is nothing to remove")
    if item.source != ADDED_BY_HAND and (base_dir / item.source).is_file():
        raise FromQueueFile(item_id, item.source)
    # A runner claims a post only while it is still planned, in one statement, so each post
    # is either deleted here or claimed there (and then counted as under way below).
    unplanned = cast(
        CursorResult[Any],
        session.execute(
            delete(Post).where(Post.item_id == item_id, Post.status == PostStatus.PLANNED)
        ),
    ).rowcount
    counted = (
        select(Post.status, func.count())
        .where(Post.item_id == item_id, Post.status.in_([*_UNDER_WAY, PostStatus.PUBLISHED]))
        .group_by(Post.status)
    )
    counts: dict[str, int] = {status: count for status, count in session.execute(counted)}
    item.status = ItemStatus.ARCHIVED
    item.status_reason = "removed by hand (planner queue remove)"
    item.manual_hold = False
    item.force = False
    item.updated_at = now
    return Removal(
        item_id=item_id,
        unplanned=unplanned,
        under_way=sum(counts.get(status, 0) for status in _UNDER_WAY),
        published=counts.get(PostStatus.PUBLISHED, 0),
    )
