"""A post a runner has claimed, and what came of publishing it.

Shared by the pipeline (:mod:`planner.publish.pipeline`), the ratio re-check at publish
time (:mod:`planner.publish.recheck`), the runner's housekeeping
(:mod:`planner.publish.recovery`) and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from planner.adapters.base import Published
from planner.store.models import PostStatus

# A publish attempt whose post may or may not have reached the network.
UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Claimed:
    """A post this runner has claimed and must now publish."""

    post_id: int
    account: str
    slot_at: datetime
    text: str
    idempotency_key: str
    is_pitch: bool
    forced: bool
    attempts: int
    item_id: str
    kind: str
    url: str | None
    # When an earlier attempt that may have reached the network started (None: none did).
    maybe_sent_at: datetime | None = None
    # Whether its item has images (None: not known, the pipeline looks).
    has_media: bool | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed post."""

    post_id: int
    account: str
    status: str  # the post's new status
    detail: str = ""
    published: Published | None = None
    paused_account: bool = False  # the network refused the credentials: the account paused

    @property
    def needs_a_person(self) -> bool:
        """Failed, unknown, or its account paused: nothing more happens without someone."""
        return self.paused_account or self.status in (PostStatus.FAILED, PostStatus.UNKNOWN)


@dataclass(frozen=True)
class ClaimResult:
    """What one claim took: the post to publish now, if any, and the pitch the rule refused
    at publish time (held, its slot given to ``post``), if any."""

    post: Claimed | None
    held: Outcome | None = None
