"""Items' images in the database (``item_media``): written with their items, read to publish
and to preview.

A sync that writes an item (new or edited) replaces its images whole, in one statement per
batch, inside the sync's transaction: an item and its images never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from planner.content.files import QueueItem
from planner.store.models import ItemMedia

_TABLE = cast(Table, ItemMedia.__table__)


@dataclass(frozen=True)
class StoredImage:
    """One image of an item as stored (what the publishing pipeline and the preview read)."""

    position: int
    source: str
    is_url: bool
    alt: str | None
    mime: str
    width: int
    height: int
    size: int
    sha256: str
    data: bytes


def replace_media(session: Session, items: Sequence[QueueItem]) -> None:
    """Store the images of ``items`` in place of what their ids had (in the caller's
    transaction)."""
    if not items:
        return
    session.execute(delete(ItemMedia).where(ItemMedia.item_id.in_([i.id for i in items])))
    rows: list[dict[str, Any]] = [
        {
            "item_id": item.id,
            "position": position,
            "source": image.source,
            "is_url": image.is_url,
            "alt": image.alt,
            "mime": image.mime,
            "width": image.width,
            "height": image.height,
            "size": image.size,
            "sha256": image.sha256,
            "data": image.data,
        }
        for item in items
        for position, image in enumerate(item.media)
    ]
    if rows:
        session.execute(insert(_TABLE), rows)


def item_images(
    session: Session, item_ids: Sequence[str], *, with_data: bool = True
) -> dict[str, list[StoredImage]]:
    """Item id -> its images in order (only items that have some). Without ``with_data``
    the bytes are not read (``data`` is empty)."""
    if not item_ids:
        return {}
    columns = [
        ItemMedia.item_id,
        ItemMedia.position,
        ItemMedia.source,
        ItemMedia.is_url,
        ItemMedia.alt,
        ItemMedia.mime,
        ItemMedia.width,
        ItemMedia.height,
        ItemMedia.size,
        ItemMedia.sha256,
    ]
    if with_data:
        columns.append(ItemMedia.data)
    found: dict[str, list[StoredImage]] = {}
    ids = list(dict.fromkeys(item_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(*columns)
            .where(ItemMedia.item_id.in_(ids[start : start + 500]))
            .order_by(ItemMedia.item_id, ItemMedia.position)
        )
        for row in rows:
            found.setdefault(row.item_id, []).append(
                StoredImage(
                    position=row.position,
                    source=row.source,
                    is_url=row.is_url,
                    alt=row.alt,
                    mime=row.mime,
                    width=row.width,
                    height=row.height,
                    size=row.size,
                    sha256=row.sha256,
                    data=row.data if with_data else b"",
                )
            )
    return found
