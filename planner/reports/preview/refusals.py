"""Where the rule refused a pitch in the week, with the numbers it refused it by.

The planner notes a refusal in the reason of the slot it happened at: the engine writes
``"promo-b held: <why>; the slot went to help"`` (or ``"empty: promo-b held: …"`` when no give
was left), the re-check at publish time ``"promo-b held at publish time (<why>); …"``. So
*where* is recorded; :func:`held_item` reads which item. *By how much* is measured again here
from the same windows the rest of the preview counts (:class:`~planner.rule.windows.WindowCounts`
with the candidate pitch counted, and the gap to the scope's last pitch), so the numbers on the
page agree with the chart and the JSON's shares: :func:`pitch_verdict`, which says what
:meth:`planner.rule.balancer.WindowTracker.decide` says of a pitch at that instant.

Pure: standard library and the rule's value types only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

from planner.rule.balancer import percents
from planner.rule.windows import Window, fullest

# An item id has no white space (planner.content.item_spec); the planner's notes start so.
_HELD_NOTE = re.compile(r"(?:empty: )?(?P<item>\S+) held(?: at publish time)?(?:: | \()")


def held_item(why: str) -> str | None:
    """The item the planner noted as held at this slot, from the slot's reason, if any."""
    found = _HELD_NOTE.match(why)
    return found.group("item") if found else None


@dataclass(frozen=True)
class PitchVerdict:
    """What the rule says of one more pitch at a slot, given the posts before it."""

    window: Window  # the fullest window ending at the slot, the pitch counted
    limit: Fraction
    since_last_pitch: timedelta | None  # None: no pitch before it in the scope
    min_gap_hours: float | None

    @property
    def over_limit(self) -> bool:
        return self.window.share > self.limit

    @property
    def gap_too_short(self) -> bool:
        gap = self.min_gap_hours
        return (
            bool(gap)
            and self.since_last_pitch is not None
            and (self.since_last_pitch < timedelta(hours=gap or 0))
        )

    @property
    def refused(self) -> bool:
        return self.over_limit or self.gap_too_short

    def __str__(self) -> str:
        """``"2/9 = 22 % > 20 % over the last 10 posts"``; the gap, when it is what refuses."""
        share, limit = percents(self.window.share, self.limit)
        relation = ">" if self.over_limit else "≤"
        parts = [f"{self.window} = {share} {relation} {limit} over the last {self.window.name}"]
        if self.gap_too_short and self.since_last_pitch is not None:
            tenths = self.since_last_pitch // timedelta(minutes=6)  # rounded down, as the rule
            parts.append(
                f"{tenths // 10}.{tenths % 10} h since the last pitch "
                f"(minimum {self.min_gap_hours:g} h)"
            )
        return "; ".join(parts)


def pitch_verdict(
    windows: Sequence[Window],
    limit: Fraction,
    since_last_pitch: timedelta | None,
    min_gap_hours: float | None,
) -> PitchVerdict:
    """The verdict on a pitch from the windows ending at its slot *with it counted*
    (``WindowCounts.windows(at, candidate=True)``) and the time since the scope's last pitch."""
    return PitchVerdict(fullest(windows), limit, since_last_pitch, min_gap_hours)


@dataclass(frozen=True)
class HeldHere:
    """A pitch the rule refused at this slot: which item, and the rule's numbers there."""

    item: str
    verdict: PitchVerdict
    noted: str  # the planner's own reason, shown when the numbers no longer refuse it

    def __str__(self) -> str:
        """``"held here: promo-b, 2/9 = 22 % > 20 % over the last 10 posts"``."""
        if self.verdict.refused:
            return f"held here: {self.item}, {self.verdict}"
        # Posts changed since the plan (one failed, another was forced): say what was noted.
        return f"held here: {self.noted} (now {self.verdict})"
