"""The ratio rule again, just before a pitch goes out: against what was actually published.

A failed give, a manual post or a late edit can change the answer the plan got. When the rule
now says no, the pitch is held (its item too, with the reason) and its slot goes to the next
give item that fits the account now: claimed on the same slot, so it goes out in its place.

Every function here works on the claim's own connection, inside the claim's transaction
(:meth:`planner.publish.pipeline.Publisher.claim`): the claim, the re-check, the hold and
the substitute commit together or not at all, so a crash can never leave a pitch held with
its slot empty, nor a refused pitch claimed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, exists, insert, or_, select, update

from planner.config.settings import Config
from planner.publish.claims import Claimed
from planner.rule.balancer import WindowTracker
from planner.store.idempotency import idempotency_key
from planner.store.models import (
    ITEM_ACCOUNT_STATES,
    KEEP_OWN_DOMAIN_FLAG,
    LIVE_STATUSES,
    Item,
    ItemAccountState,
    ItemStatus,
    PlanningState,
    Post,
    PostStatus,
)
from planner.store.upsert import upsert

if TYPE_CHECKING:  # rendering (Jinja2) is loaded only when a held pitch needs a substitute
    from planner.plan.render import Renderer

log = logging.getLogger(__name__)


def published_tracker(
    connection: Connection, config: Config, account: str, now: datetime
) -> WindowTracker:
    """The balancer's windows over what was actually published before ``now``."""
    if config.balance_scope(account) == "*brand*":
        accounts = list(config.settings.accounts)
        settings = config.balance_for_brand()
    else:
        accounts = [account]
        settings = config.balance_for(account)
    conditions = [Post.account.in_(accounts), Post.status == PostStatus.PUBLISHED]
    history: dict[int, tuple[datetime, bool]] = {}
    if settings.window_posts:
        rows = connection.execute(
            select(Post.id, Post.published_at, Post.is_pitch)
            .where(*conditions, Post.published_at <= now)
            .order_by(Post.published_at.desc())
            .limit(settings.window_posts)
        )
        history.update({r.id: (r.published_at, r.is_pitch) for r in rows})
    if settings.window_days:
        since = now - timedelta(days=settings.window_days)
        rows = connection.execute(
            select(Post.id, Post.published_at, Post.is_pitch).where(
                *conditions, Post.published_at > since, Post.published_at <= now
            )
        )
        history.update({r.id: (r.published_at, r.is_pitch) for r in rows})
    return WindowTracker(settings, sorted(history.values(), key=lambda entry: entry[0]))


def hold_at_publish_time(
    connection: Connection, claim: Claimed, reason: str, now: datetime
) -> None:
    """The claimed pitch, and its item on the post's account, become held with ``reason``."""
    connection.execute(
        update(Post)
        .where(Post.id == claim.post_id)
        .values(
            status=PostStatus.HELD,
            reason=f"held at publish time: {reason}",
            claimed_by=None,
            updated_at=now,
        )
    )
    # The verdict row before the item, in the order `planner plan` writes them, so a plan
    # and a claim never wait for each other in a circle.
    upsert(
        connection,
        ITEM_ACCOUNT_STATES,
        {"item_id": claim.item_id, "account": claim.account},
        {
            "state": PlanningState.HELD,
            "reason": f"held at publish time: {reason}",
            "updated_at": now,
        },
        defaults={"manual_hold": False, "force": False},
    )
    connection.execute(
        update(Item)
        .where(Item.id == claim.item_id)
        .values(
            status=ItemStatus.HELD,
            status_reason=f"on {claim.account}: {reason}",
            updated_at=now,
            **KEEP_OWN_DOMAIN_FLAG,
        )
    )
    log.info("post %s (%s) held at publish time: %s", claim.post_id, claim.item_id, reason)


def claim_substitute(
    connection: Connection,
    config: Config,
    renderer: Renderer,
    worker: str,
    held: Claimed,
    reason: str,
    now: datetime,
) -> Claimed | None:
    """The next give item that fits this account now, claimed by ``worker`` on the held
    post's slot; None when no queued give item fits."""
    account = held.account
    gives = [name for name, kind in config.kinds.items() if kind.class_ == "give"]
    gap = timedelta(days=config.settings.plan.duplicate_url_days)
    used = select(Post.item_id).where(Post.account == account, Post.status.in_(LIVE_STATUSES))
    recent_urls = (
        select(Item.url)
        .join(Post, Post.item_id == Item.id)
        .where(
            Post.account == account,
            Post.status.in_(LIVE_STATUSES),
            Post.slot_at > now - gap,
            Item.url.is_not(None),
        )
    )
    query = (
        select(
            Item.id,
            Item.kind,
            Item.text,
            Item.title,
            Item.url,
            Item.credit,
            Item.fields,
            Item.variants,
            Item.tags,
            Item.accounts,
        )  # fmt: skip
        .where(
            Item.kind.in_(gives),
            Item.status == ItemStatus.QUEUED,
            Item.manual_hold.is_(False),
            ~exists().where(
                and_(
                    ItemAccountState.item_id == Item.id,
                    ItemAccountState.account == account,
                    ItemAccountState.manual_hold.is_(True),
                )
            ),
            or_(Item.not_before.is_(None), Item.not_before <= now),
            or_(Item.not_after.is_(None), Item.not_after > now),
            Item.id.not_in(used),
            or_(Item.url.is_(None), Item.url.not_in(recent_urls)),
        )
        .order_by(Item.priority.desc(), Item.created_at, Item.id)
        .limit(50)
    )
    network = config.settings.accounts[account].network
    for item in connection.execute(query).all():
        if item.accounts and account not in item.accounts:
            continue
        try:
            from planner.plan.render import RenderError, RenderInput

            text = renderer.render(RenderInput.from_item(item), network, account)
        except RenderError as error:
            log.warning("substitute %s skipped: %s", item.id, error)
            continue
        key = idempotency_key(account, held.slot_at, item.id)
        post_id = connection.execute(
            insert(Post)
            .values(
                item_id=item.id,
                account=account,
                slot_at=held.slot_at,
                kind=item.kind,
                is_pitch=False,
                forced=False,
                text=text,
                status=PostStatus.CLAIMED,
                reason=f"{held.item_id} held at publish time ({reason}); "
                f"the slot went to {item.kind}",
                idempotency_key=key,
                attempts=1,
                claimed_by=worker,
                claimed_at=now,
                created_at=now,
                updated_at=now,
            )
            .returning(Post.id)
        ).scalar_one()
        connection.execute(
            update(Item)
            .where(Item.id == item.id)
            .values(
                status=ItemStatus.PLANNED,
                status_reason=None,
                updated_at=now,
                **KEEP_OWN_DOMAIN_FLAG,
            )
        )
        return Claimed(post_id, account, held.slot_at, text, key, False, False, 1,
                       item.id, item.kind, item.url)  # fmt: skip
    log.warning("no give item left to take the held post's slot on %s", account)
    return None
