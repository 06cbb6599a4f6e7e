"""The preview as plain data: what ``planner preview`` shows, and the ``--check`` verdict.

Built by :func:`planner.reports.preview.read.build_preview`; formatted by
:mod:`planner.reports.preview.formats`.

Errors::

    DomainError
    └── PreviewCheckFailed    ``--check``: a week breaks the rule, leaves a slot empty or
                              skips an item it cannot render
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from planner.errors import DomainError
from planner.reports.preview.refusals import HeldHere
from planner.reports.preview.rows import PreviewImage
from planner.rule.balancer import BalanceSettings, percent
from planner.rule.windows import Window
from planner.text import plural

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LOOKAHEAD_WEEKS = 4
EMPTY = "empty"
NOT_PLANNED = "empty: not planned yet — run `planner plan`"
PASSED = "empty: nothing was planned and the slot has passed"
OWN_DOMAIN_PITCH = "pitch (own domain)"


class PreviewCheckFailed(DomainError):
    """``planner preview --check``: a week breaks the ratio rule or leaves slots empty."""

    def __init__(self, week: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"check failed for {week}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Share:
    """``pitches`` pitch posts among the ``total`` posts of a window (or of the week)."""

    pitches: int
    total: int
    window: str = ""  # "10 posts", "7 days"; empty for the whole week

    @classmethod
    def of(cls, window: Window) -> Share:
        return cls(window.pitches, window.total, window.name)

    @property
    def value(self) -> Fraction:
        return Fraction(self.pitches, self.total) if self.total else Fraction(0)

    def __str__(self) -> str:
        return f"{self.pitches}/{self.total}"


@dataclass(frozen=True)
class SlotRow:
    """One slot of the week, or one post at an instant no slot names (any more)."""

    at: datetime  # UTC
    local: datetime  # the same instant in the account's zone
    label: str | None  # the slot's kind or class, for typed slots
    status: str  # a post status, or "empty"
    item: str | None
    kind: str | None
    class_: str | None  # "give", "pitch", "pitch (own domain)"; None when empty
    forced: bool
    text: str | None
    why: str
    pitch_share: Share  # the fullest window after this slot
    held_here: HeldHere | None = None  # a pitch the rule refused at this slot
    media: tuple[PreviewImage, ...] = ()  # the post's images, in order


@dataclass(frozen=True)
class Day:
    date: date
    rows: list[SlotRow]

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.date.weekday()]


@dataclass(frozen=True)
class HeldItem:
    item: str
    kind: str
    reason: str
    next_fit: datetime | None  # None: no slot in the look-ahead, or held by hand
    manual: bool  # held by hand: waits for `planner release`


@dataclass(frozen=True)
class LeftOut:
    """An item the last plan left out on this account: waiting, expired or skipped."""

    item: str
    kind: str
    reason: str
    until: datetime | None = None  # its not_after (in the account's zone), if it has one


@dataclass(frozen=True)
class Runway:
    kind: str
    available: int
    planned_this_week: int
    lasts_days: int | None  # None: the kind is not used this week
    runs_dry_on: str | None  # "Thu": the queue does not last a week like this one


@dataclass(frozen=True)
class AccountPreview:
    account: str
    network: str
    timezone: str
    scope: str  # "account" or "brand"
    settings: BalanceSettings
    start: datetime  # the week, [start, end) in UTC
    end: datetime
    days: list[Day]
    give: int
    pitch: int
    max_window: Share
    max_window_at: datetime | None
    held: list[HeldItem]
    empty: list[SlotRow]
    runway: list[Runway]
    rule_problems: list[str]
    notes: list[str]  # allowed only because of a forced post
    # Pitches the rule would take but the mix gave no turn; items that expired before a slot
    # fitted; items that cannot be rendered for this account (a ``--check`` problem).
    waiting: list[LeftOut] = field(default_factory=list)
    expired: list[LeftOut] = field(default_factory=list)
    skipped: list[LeftOut] = field(default_factory=list)
    unlisted: int = 0  # items the last plan left out here past the ones it named
    opening_share: Share = Share(0, 0)  # the fullest window as the week starts (history)

    @property
    def target(self) -> tuple[int, int]:
        """The rule as gives:pitches, e.g. (4, 1) for a pitch share of at most 1/5."""
        return self.settings.give_to_pitch

    @property
    def week_share(self) -> Share:
        return Share(self.pitch, self.give + self.pitch)

    @property
    def within_rule(self) -> bool:
        """No window over the limit and no gap too short, forced posts (overrides) excused:
        what ``--check`` and the JSON's ``within_rule`` say."""
        return not self.rule_problems

    @property
    def verdict(self) -> str:
        """The week against the rule, in words that match the numbers: "within the rule"
        only when it holds without excusing any forced post."""
        if self.rule_problems:
            return "RULE BROKEN"
        if self.notes:
            return "over the rule only because of forced posts"
        return "within the rule"

    @property
    def week_over_target(self) -> bool:
        """This week's pitch share is above the rule's limit, though its windows may keep it
        (the rule counts the last posts and days, not calendar weeks)."""
        return self.week_share.value > self.settings.max_pitch_share

    @property
    def problems(self) -> list[str]:
        found = list(self.rule_problems)
        if self.skipped:
            ids = ", ".join(item.item for item in self.skipped)
            found.append(f"{plural(len(self.skipped), 'skipped item')} (cannot be rendered): {ids}")
        if self.empty:
            when = ", ".join(when_text(row.local) for row in self.empty)
            found.append(f"{plural(len(self.empty), 'empty slot')}: {when}")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Preview:
    year: int
    week: int
    generated_at: datetime
    accounts: list[AccountPreview]

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def problems(self) -> list[str]:
        return [f"{a.account}: {problem}" for a in self.accounts for problem in a.problems]

    @property
    def ok(self) -> bool:
        return all(account.ok for account in self.accounts)


def check(preview: Preview) -> None:
    """Raise :class:`PreviewCheckFailed` naming every problem unless the preview is ok."""
    if not preview.ok:
        raise PreviewCheckFailed(preview.label, preview.problems)


def share_text(share: Share) -> str:
    """``"2/10 = 20 %"``."""
    return f"{share} = {percent(share.value)}"


def when_text(local: datetime) -> str:
    """``"Thu 10 Dec 16:00"``: a local instant for people (English day names, any locale)."""
    return f"{WEEKDAYS[local.weekday()]} {local.day} {local:%b %H:%M}"
