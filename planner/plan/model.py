"""The planning engine's inputs and outputs, as plain values.

Input: :class:`Slot` (an account's instant to fill), :class:`FixedPost` (a post that stays),
:class:`Candidate` (an item that may be placed) and :class:`PlanRules` (kinds, the rule per
scope, the duplicate-URL guard). Output: :class:`PlanResult`, one :class:`Placement` per slot
with what was held, what waits for a turn of the mix, and what expired. Built by
:mod:`planner.plan.store`, consumed by :mod:`planner.plan.engine`. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import NamedTuple

from planner.rule.balancer import BalanceSettings

GIVE, PITCH = "give", "pitch"


# The accounts of an item forced nowhere: one shared value (an empty frozenset is 216 bytes,
# and a brand's queue holds hundreds of thousands of candidates).
NO_ACCOUNTS: frozenset[str] = frozenset()


class Candidate:
    """An item as the planner sees it.

    ``rank`` is the item's place in planning order (priority, then age), smaller first; the
    id breaks ties, so the order never depends on how items were loaded. A plain slotted
    class, not a dataclass: a year's plan for a large brand holds hundreds of thousands.
    """

    __slots__ = (
        "id",
        "kind",
        "is_pitch",
        "url",
        "accounts",
        "not_before",
        "not_after",
        "evergreen",
        "cooldown",
        "forced",
        "forced_on",
        "max_posts",
        "sort_key",
    )

    def __init__(
        self,
        id: str,
        kind: str,
        is_pitch: bool,
        *,
        rank: int,
        url: str | None = None,
        accounts: tuple[str, ...] | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        evergreen: bool = False,
        cooldown: timedelta | None = None,
        forced: bool = False,
        forced_on: frozenset[str] = NO_ACCOUNTS,
        max_posts: int | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.is_pitch = is_pitch  # by kind class, or by a link to an own domain
        self.url = url
        self.accounts = accounts  # None: every account
        self.not_before = not_before
        self.not_after = not_after
        self.evergreen = evergreen
        self.cooldown = cooldown
        self.forced = forced  # released with --force on every account it goes to
        self.forced_on = forced_on  # released with --force on these accounts only
        self.max_posts = max_posts  # evergreen: posts per account at most (None: no limit)
        self.sort_key = (rank, id)

    def __repr__(self) -> str:
        return f"Candidate({self.id!r}, {self.kind!r}, pitch={self.is_pitch})"


# The key that sorts candidates into planning order (their sort_key).
planning_order = attrgetter("sort_key")


@dataclass(frozen=True, slots=True)
class Slot:
    account: str
    at: datetime
    label: str | None = None  # a kind or a class, for typed slots


class FixedPost(NamedTuple):
    """A post that stays: it counts in the windows and blocks its item, URL and slot.

    A named tuple, not a frozen dataclass: a year of history is thousands of them, made in
    a third of the time."""

    account: str
    at: datetime
    item_id: str
    is_pitch: bool
    url: str | None = None


@dataclass(slots=True)
class Placement:
    """What the planner decided for one slot (``text`` is filled in when it is rendered)."""

    slot: Slot
    item: Candidate | None
    reason: str  # why this item, or why the slot stays empty
    text: str | None = None
    forced: bool = False


ItemOn = tuple[str, str]  # (item id, account): states are kept per item and account
# Items left out on one account that a plan names, each with its verdict; past them it counts.
LISTED = 100


@dataclass
class PlanResult:
    """The placements, and for each (item, account) the planner left out, why.

    An item that goes to several accounts may be planned on one and held on another: each
    account has its own verdict and reason. ``held`` and ``waiting`` name pitches only.
    """

    placements: list[Placement] = field(default_factory=list)
    held: dict[ItemOn, str] = field(default_factory=dict)  # the rule refused it: latest reason
    # The rule would have taken it but the mix gave its kind no turn.
    waiting: dict[ItemOn, str] = field(default_factory=dict)
    expired: dict[ItemOn, str] = field(default_factory=dict)  # passed not_after, and why
    skipped: dict[ItemOn, str] = field(default_factory=dict)  # cannot be rendered there
    # Per account, the pitches and expired items left out past the first LISTED: counted only.
    unlisted: dict[str, int] = field(default_factory=dict)
    render_problems: list[str] = field(default_factory=list)


class RenderFailed(Exception):
    """Raised by the render callback: the item cannot be rendered for that account."""


Renderer = Callable[[Candidate, str], str]


@dataclass(frozen=True)
class PlanRules:
    kinds: Mapping[str, tuple[str, int]]  # kind -> (class, weight), in configured order
    balance: Mapping[str, BalanceSettings]  # scope key -> settings
    scope_of: Mapping[str, str]  # account -> scope key
    duplicate_url_days: int = 30
