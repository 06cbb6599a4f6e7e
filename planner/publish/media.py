"""A post's images at publish time, and the network ids of the ones already uploaded.

Uploading an image and creating the post are separate calls on every network that takes
images. So that a post retried after a failure (a rate limit, an outage between the
uploads and the post) does not upload its images again, each upload is recorded in
``post_media`` as soon as the network took it, in its own committed transaction, before
the post is created; the retry attaches what was recorded.

A recorded upload is reused only while the network still keeps it: an adapter says how long
with ``media_reuse_window`` (Bluesky deletes a blob no record references within minutes;
X keeps a media id 24 hours), else :data:`DEFAULT_REUSE_WINDOW`; and only for the same bytes
(an image edited and synced since is uploaded again).

The write takes the database's write lock as every write does (SQLite: ``BEGIN
IMMEDIATE``), and only while this runner still holds the post's claim: the claim is what
makes the runner the only one publishing the post, so no other runner can write its rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from planner.adapters.base import OutgoingImage
from planner.content.media_store import item_images
from planner.store.database import Database
from planner.store.models import Post, PostMedia, PostStatus

DEFAULT_REUSE_WINDOW = timedelta(hours=12)


def outgoing_media(
    db: Database, item_id: str, post_id: int, reuse_window: timedelta, now: datetime
) -> tuple[tuple[OutgoingImage, ...], dict[int, str]]:
    """The item's images in order, and by place the ids of the ones this post uploaded
    before that may still be used (same bytes, within ``reuse_window``)."""
    with db.reading() as session:
        stored = item_images(session, [item_id]).get(item_id, [])
        if not stored:
            return (), {}
        rows = session.execute(
            select(
                PostMedia.position, PostMedia.sha256, PostMedia.remote_id, PostMedia.uploaded_at
            ).where(PostMedia.post_id == post_id)
        ).all()
    images = tuple(
        OutgoingImage(
            data=image.data,
            mime=image.mime,
            alt=image.alt,
            sha256=image.sha256,
            width=image.width,
            height=image.height,
            source=image.source,
            is_url=image.is_url,
        )
        for image in stored
    )
    uploaded = {
        row.position: row.remote_id
        for row in rows
        if row.position < len(images)
        and row.sha256 == images[row.position].sha256
        and now - row.uploaded_at < reuse_window
    }
    return images, uploaded


def remember_upload(
    db: Database,
    worker: str,
    post_id: int,
    position: int,
    sha256: str,
    remote_id: str,
    now: datetime,
) -> bool:
    """Record that the network took image ``position`` of the post as ``remote_id``; False
    (nothing written) when this runner no longer holds the post's claim."""
    with db.transaction() as session:
        # The post's row locked (PostgreSQL; SQLite's write lock is the whole file): recovery
        # cannot take the claim away between this check and the insert.
        held = session.scalar(
            select(Post.id)
            .where(
                Post.id == post_id,
                Post.status == PostStatus.CLAIMED,
                Post.claimed_by == worker,
            )
            .with_for_update()
        )
        if held is None:
            return False
        session.execute(
            delete(PostMedia).where(PostMedia.post_id == post_id, PostMedia.position == position)
        )
        session.execute(
            insert(PostMedia).values(
                post_id=post_id,
                position=position,
                sha256=sha256,
                remote_id=remote_id,
                uploaded_at=now,
            )
        )
    return True


def reuse_window(adapter: object) -> timedelta:
    window = getattr(adapter, "media_reuse_window", None)
    return window if isinstance(window, timedelta) else DEFAULT_REUSE_WINDOW


def upload_ids(db: Database, post_id: int) -> Mapping[int, str]:
    """The recorded upload ids of a post, by place (for reports and tests)."""
    with db.reading() as session:
        rows = session.execute(
            select(PostMedia.position, PostMedia.remote_id).where(PostMedia.post_id == post_id)
        ).all()
    return {row.position: row.remote_id for row in rows}
