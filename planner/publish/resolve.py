"""``planner resolve``: a person settles a post whose fate is ``unknown``.

A post is ``unknown`` when a runner died between calling a network without idempotency keys
and recording the answer. Only a person can look at the account and say whether it went out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.errors import DomainError, PostNotFound
from planner.store.models import Item, ItemStatus, Post, PostStatus, keep_own_domain_flag


def resolve_post(
    session: Session, post_id: int, now: datetime, *, published_url: str | None
) -> Post:
    """Mark an ``unknown`` post published (at ``published_url``) or not published.

    Not published: it goes back to ``retry`` now, so the runner sends it (once).
    """
    post = session.get(Post, post_id)
    if post is None:
        raise PostNotFound(post_id, _waiting(session))
    if post.status != PostStatus.UNKNOWN:
        raise DomainError(
            f"post {post_id} is {post.status}, not unknown: nothing to resolve; {_waiting(session)}"
        )
    item = session.get(Item, post.item_id)
    if published_url is not None:
        post.status = PostStatus.PUBLISHED
        post.published_at = now
        post.remote_url = published_url
        post.reason = "published: confirmed by hand (planner resolve)"
        if item is not None:
            item.status = ItemStatus.PUBLISHED
            item.last_published_at = now
            keep_own_domain_flag(item)
    else:
        post.status = PostStatus.RETRY
        post.next_attempt_at = now
        post.reason = "not published: confirmed by hand (planner resolve); sending again"
    post.claimed_by = None
    post.updated_at = now
    return post


def _waiting(session: Session, shown: int = 5) -> str:
    """Which posts ``planner resolve`` is for: the ids a person may have meant."""
    ids = list(
        session.scalars(
            select(Post.id)
            .where(Post.status == PostStatus.UNKNOWN)
            .order_by(Post.slot_at, Post.id)
            .limit(shown + 1)
        )
    )
    if not ids:
        return "no post is waiting for `planner resolve`"
    listed = ", ".join(map(str, ids[:shown])) + (", ..." if len(ids) > shown else "")
    return f"waiting for `planner resolve`: post {listed} (see `planner status`)"
