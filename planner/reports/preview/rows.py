"""The rows :mod:`planner.reports.preview.read` hands to
:mod:`planner.reports.preview.compose`: a week's posts, the scope's live posts, the queue,
and the account's own verdicts. Plain values: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from planner.store.models import LIVE_STATUSES, PlanningState


@dataclass(frozen=True)
class PreviewImage:
    """One image of a post as the preview shows it: its alt text, type and size, where it
    came from, and a small thumbnail as a ``data:`` URI (None without Pillow)."""

    alt: str | None
    mime: str
    width: int
    height: int
    source: str
    thumbnail: str | None = None


@dataclass(frozen=True)
class PostRow:
    id: int
    item_id: str
    at: datetime
    label: str | None
    kind: str
    is_pitch: bool
    forced: bool
    text: str | None
    status: str
    reason: str | None
    media: tuple[PreviewImage, ...] = ()

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class LivePost:
    """A live post of the balance scope: what the windows count."""

    at: datetime
    account: str
    id: int
    is_pitch: bool
    forced: bool

    @property
    def key(self) -> tuple[datetime, str, int]:
        return (self.at, self.account, self.id)


@dataclass(frozen=True)
class QueueRow:
    id: str
    kind: str
    accounts: list[str]
    status: str
    status_reason: str | None
    manual_hold: bool
    not_before: datetime | None
    not_after: datetime | None
    back_at: datetime | None = None  # a published evergreen item: when its cooldown ends
    max_posts: int | None = None  # evergreen: posts per account at most (None: no limit)
    uses: Mapping[str, int] = field(default_factory=dict)  # account -> its posts there

    def goes_to(self, account: str) -> bool:
        return not self.accounts or account in self.accounts

    def comes_back_on(self, account: str, by: datetime) -> bool:
        """Whether the item may be planned on ``account`` before ``by``: not reposted as
        often as it may be there, and off its cooldown by then."""
        if self.max_posts is not None and self.uses.get(account, 0) >= self.max_posts:
            return False
        return self.back_at is None or self.back_at < by


@dataclass(frozen=True)
class StateRow:
    """An item on this account as the last plan left it (``item_account_states``), or held
    by hand on every account."""

    item_id: str
    kind: str
    state: str | None  # a PlanningState; None for a hold by hand alone
    reason: str | None
    manual_hold: bool
    not_before: datetime | None
    not_after: datetime | None

    def as_queue_row(self) -> QueueRow:
        return QueueRow(self.item_id, self.kind, [], PlanningState.HELD, self.reason,
                        self.manual_hold, self.not_before, self.not_after)  # fmt: skip
