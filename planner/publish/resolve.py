"""``planner resolve``: a person settles a post whose fate is ``unknown``.

A post is ``unknown`` when a runner died between calling a network without idempotency keys
and recording the answer. Only a person can look at the account and say whether it went out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from planner.errors import DomainError, PostNotFound
from planner.store.models import Item, ItemStatus, Post, PostStatus


def resolve_post(
    session: Session, post_id: int, now: datetime, *, published_url: str | None
) -> Post:
    """Mark an ``unknown`` post published (at ``published_url``) or not published.

    Not published: it goes back to ``retry`` now, so the runner sends it (once).
    """
    post = session.get(Post, post_id)
    if post is None:
        raise PostNotFound(post_id)
    if post.status != PostStatus.UNKNOWN:
        raise DomainError(f"post {post_id} is {post.status}, not unknown: nothing to resolve")
    item = session.get(Item, post.item_id)
    if published_url is not None:
        post.status = PostStatus.PUBLISHED
        post.published_at = now
        post.remote_url = published_url
        post.reason = "published: confirmed by hand (planner resolve)"
        if item is not None:
            item.status = ItemStatus.PUBLISHED
            item.last_published_at = now
    else:
        post.status = PostStatus.RETRY
        post.next_attempt_at = now
        post.reason = "not published: confirmed by hand (planner resolve); sending again"
    post.claimed_by = None
    post.updated_at = now
    return post
