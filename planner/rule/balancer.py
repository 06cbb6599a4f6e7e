"""The give-to-pitch rule: may this post be a pitch, at this instant, given what came before?

A pitch (a promo, or anything linking to the brand's own domains) may take a slot only if
every configured window *ending at that slot* keeps the pitch share at or under the limit:

- the count window: the last ``window_posts`` posts, the candidate included;
- the days window: posts at times in ``(at - window_days, at]``, the candidate included;

and the last pitch is at least ``min_pitch_gap_hours`` before it. Gives are always allowed.
So on a fresh account the first pitch is refused (1/1 = 100 %): give first.

:class:`WindowTracker` keeps one scope's sliding windows (an account, or the whole brand) with
running counters (:class:`planner.rule.windows.WindowCounts`, which defines the windows for every
report too), so planning a week costs O(1) per slot rather than a recount.
:func:`max_window_share` is the plain reference it is tested against.

Pure: standard library only, no clock, no I/O. Every datetime must be timezone-aware; the
tracker works in UTC. Invalid settings and out-of-order posts raise ``ValueError``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from types import MappingProxyType

from planner.rule.windows import Window, WindowCounts, fullest


@dataclass(frozen=True)
class BalanceSettings:
    """The rule for one scope. Validated on creation: ``ValueError`` says which field is wrong.

    ``max_pitch_share`` is in [0, 1]; at least one of ``window_posts`` (a whole number >= 1)
    and ``window_days`` (> 0) is set; ``min_pitch_gap_hours`` is >= 0 (0 or None: no gap rule).
    """

    max_pitch_share: Fraction
    window_posts: int | None
    window_days: float | None
    min_pitch_gap_hours: float | None
    preset: str | None = None

    def __post_init__(self) -> None:
        # Checked through `object` because config files and callers can pass anything.
        share: object = self.max_pitch_share
        if isinstance(share, bool) or not isinstance(share, Fraction | int):
            raise ValueError(f"max_pitch_share must be a Fraction like 1/5, got {share!r}")
        if not 0 <= share <= 1:
            raise ValueError(f"max_pitch_share must be between 0 and 1, got {share}")
        object.__setattr__(self, "max_pitch_share", Fraction(share))
        posts: object = self.window_posts
        if posts is not None and (isinstance(posts, bool) or not isinstance(posts, int)):
            raise ValueError(f"window_posts must be a whole number of posts, got {posts!r}")
        if isinstance(posts, int) and posts < 1:
            raise ValueError(f"window_posts must be at least 1, got {posts}")
        _check_number("window_days", self.window_days, "days", allow_zero=False)
        _check_number("min_pitch_gap_hours", self.min_pitch_gap_hours, "hours", allow_zero=True)
        if self.window_posts is None and self.window_days is None:
            raise ValueError("at least one window is needed: set window_posts, window_days or both")

    @property
    def give_to_pitch(self) -> tuple[int, int]:
        """The rule as gives:pitches, e.g. (4, 1) for a pitch share of at most 1/5."""
        share = self.max_pitch_share
        return share.denominator - share.numerator, share.numerator


def _check_number(name: str, value: object, unit: str, *, allow_zero: bool) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of {unit}, got {value!r}")
    least = "0 or more" if allow_zero else "more than 0"
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number of {unit}, {least}, got {value!r}")


_NUMBER = r"\s*([0-9]+(?:\.[0-9]+)?)\s*"
_RATIO = re.compile(_NUMBER + "([:/])" + _NUMBER)
_RATIO_FORM = 'GIVE:PITCH like "4:1" (4 gives per pitch) or percentages like "80/20"'


def parse_ratio(text: str) -> Fraction:
    """Read a give-to-pitch ratio and return the largest allowed pitch share.

    ``"4:1"`` (gives:pitches, counts) -> 1/5; ``"80/20"`` (give % / pitch %, must add up to
    100) -> 1/5. ``"1:0"`` means never pitch (share 0). A ratio with no give side (``"0:1"``)
    or anything else raises ``ValueError`` naming the value and the expected form.
    """
    match = _RATIO.fullmatch(text)
    if match is None:
        raise ValueError(f'ratio "{text}" is not understood (expected {_RATIO_FORM})')
    give, separator, pitch = Fraction(match[1]), match[2], Fraction(match[3])
    if separator == "/" and give + pitch != 100:
        # "1/5" could mean "one pitch in five" or "one give per five pitches": refuse to guess.
        raise ValueError(
            f'ratio "{text}": the "/" form takes percentages that add up to 100, like "80/20" '
            '(for counts use GIVE:PITCH, e.g. "4:1")'
        )
    if give == 0:
        raise ValueError(
            f'ratio "{text}" has no give side: every post could be a pitch (expected {_RATIO_FORM})'
        )
    return pitch / (give + pitch)


@dataclass(frozen=True)
class PresetInfo:
    """A named preset: the settings it compiles to, what it means and where it comes from."""

    max_pitch_share: Fraction
    window_posts: int | None
    description: str
    origin: str
    window_days: float | None = None
    min_pitch_gap_hours: float | None = None


PRESETS: Mapping[str, PresetInfo] = MappingProxyType(
    {
        "80/20": PresetInfo(
            Fraction(1, 5),
            10,
            "80 % of posts inform, help or entertain, at most 20 % promote: pitch <= 1/5 "
            "over the last 10 posts.",
            "Borrowed from the Pareto principle (the 80/20 rule).",
        ),
        "rule-of-thirds": PresetInfo(
            Fraction(1, 3),
            9,
            "A third others' content, a third your own helpful posts, a third promotion: "
            "pitch <= 1/3 over the last 9 posts.",
            "The social media rule of thirds of social media marketing guides.",
        ),
        "4-1-1": PresetInfo(
            Fraction(1, 6),
            6,
            "Per 6 posts: 4 shares of others' content, 1 soft post of your own, 1 promotion: "
            "pitch <= 1/6 over the last 6 posts.",
            "Popularised for Twitter by Joe Pulizzi and Andrew Davis.",
        ),
        "5-3-2": PresetInfo(
            Fraction(1, 10),
            10,
            "Per 10 posts: 5 curated, 3 your own, 2 personal, no hard sells. It has no promo "
            "slot, so the planner reads it as pitch <= 1/10 over the last 10 posts.",
            "A social media posting guideline spread by marketing blogs.",
        ),
        "70/20/10": PresetInfo(
            Fraction(1, 10),
            10,
            "70 % value, 20 % shared from others, 10 % promotional: pitch <= 1/10 over the "
            "last 10 posts.",
            "A common social media content split.",
        ),
    }
)


def preset_settings(
    name: str, *, min_pitch_gap_hours: float | None = None, window_days: float | None = None
) -> BalanceSettings:
    """The settings preset ``name`` compiles to, with an optional gap rule and days window.

    Raises ``ValueError`` listing the valid names for an unknown preset.
    """
    info = PRESETS.get(name)
    if info is None:
        names = ", ".join(sorted(PRESETS))
        raise ValueError(f'unknown preset "{name}" (expected one of: {names})')
    return BalanceSettings(
        max_pitch_share=info.max_pitch_share,
        window_posts=info.window_posts,
        window_days=window_days if window_days is not None else info.window_days,
        min_pitch_gap_hours=(
            min_pitch_gap_hours if min_pitch_gap_hours is not None else info.min_pitch_gap_hours
        ),
        preset=name,
    )


@dataclass(frozen=True)
class Decision:
    """The balancer's answer for one candidate post.

    ``reason`` is a sentence for a person. ``share`` is, for a pitch, the highest pitch share
    across the configured windows with the candidate counted; None for a give.
    """

    allowed: bool
    reason: str
    share: Fraction | None


class WindowTracker:
    """The sliding windows of one scope (an account, or the whole brand).

    Feed it posts in non-decreasing time order with :meth:`record`; ask :meth:`decide` about a
    candidate at any time at or after the last recorded post. Going back in time raises
    ``ValueError``; so does a naive datetime. ``record`` is O(1) amortized; ``decide`` is O(1)
    while the days window's oldest post is still inside it, else O(log w) (a binary search).
    The windows are those of :class:`planner.rule.windows.WindowCounts`.
    """

    def __init__(self, settings: BalanceSettings, history: Iterable[tuple[datetime, bool]] = ()):
        self.settings = settings
        gap = settings.min_pitch_gap_hours
        self._gap = timedelta(hours=gap) if gap else None
        self._counts = WindowCounts(settings.window_posts, settings.window_days)
        self._last: datetime | None = None
        self._last_pitch: datetime | None = None
        for at, is_pitch in history:
            self.record(at, is_pitch)

    @property
    def last_post_at(self) -> datetime | None:
        """The time (UTC) of the last recorded post, if any."""
        return self._last

    @property
    def last_pitch_at(self) -> datetime | None:
        """The time (UTC) of the last recorded pitch, if any."""
        return self._last_pitch

    def record(self, at: datetime, is_pitch: bool) -> None:
        """Add a post that happened (or is planned) at ``at``; the rule is not checked here."""
        at = self._check_time(at)
        self._counts.append(at, is_pitch)
        # Only windows ending at or after the last post are ever asked for.
        self._counts.compact()
        self._last = at
        if is_pitch:
            self._last_pitch = at

    def decide(self, at: datetime, is_pitch: bool) -> Decision:
        """May a post of this class go out at ``at``? Does not record it.

        A give is always allowed. A pitch is allowed when every configured window ending at
        ``at`` (candidate included) keeps the pitch share <= ``max_pitch_share`` and the last
        recorded pitch is at least ``min_pitch_gap_hours`` before ``at``.
        """
        at = self._check_time(at)
        if not is_pitch:
            return Decision(True, "give post", None)
        limit = self.settings.max_pitch_share
        # The fullest window speaks for all: one clear number.
        worst = fullest(self._counts.windows(at, candidate=True))
        problems = []
        if worst.pitches * limit.denominator > limit.numerator * worst.total:
            problems.append(
                f"pitch share would be {_share_text(worst, limit, '>')} over the last {worst.name}"
            )
        if self._gap is not None and self._last_pitch is not None:
            elapsed = at - self._last_pitch
            if elapsed < self._gap:
                # Relative, not a clock time: the reason is read in reports of every
                # account's own zone, and stored with the post.
                problems.append(
                    f"only {_hours(elapsed)} h since the last pitch "
                    f"(minimum gap {self.settings.min_pitch_gap_hours:g} h)"
                )
        if problems:
            return Decision(False, "; ".join(problems), worst.share)
        reason = f"pitch share {_share_text(worst, limit, '<=')} over the last {worst.name}"
        return Decision(True, reason, worst.share)

    def allows_pitch(self, at: datetime) -> bool:
        """``decide(at, True).allowed``, without the reason's text: for callers that ask at
        every slot and never show the answer."""
        at = self._check_time(at)
        limit = self.settings.max_pitch_share
        worst = fullest(self._counts.windows(at, candidate=True))
        if worst.pitches * limit.denominator > limit.numerator * worst.total:
            return False
        return self._gap is None or self._last_pitch is None or at - self._last_pitch >= self._gap

    def share_if_added(self, at: datetime, is_pitch: bool) -> Fraction:
        """The highest pitch share across the windows ending at ``at`` with this post counted."""
        at = self._check_time(at)
        return fullest(self._counts.windows(at, candidate=is_pitch)).share

    def pitch_share_now(self, at: datetime) -> Fraction:
        """The highest pitch share across the windows ending at ``at``, recorded posts only.

        0 when the windows hold no posts.
        """
        at = self._check_time(at)
        return fullest(self._counts.windows(at)).share

    def copy(self) -> WindowTracker:
        """An independent tracker with the same state (costs O(posts in the windows))."""
        twin = copy.copy(self)
        twin._counts = self._counts.copy()
        return twin

    def _check_time(self, at: datetime) -> datetime:
        at = _utc(at)
        if self._last is not None and at < self._last:
            raise ValueError(
                f"{at:%Y-%m-%d %H:%M:%S} UTC is before the last recorded post at "
                f"{self._last:%Y-%m-%d %H:%M:%S} UTC (posts must come in time order)"
            )
        return at


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no timezone (expected an aware datetime)")
    # Aware datetimes sharing one ZoneInfo compare by wall time and ignore fold; UTC keeps
    # the order right across an autumn overlap.
    return at.astimezone(UTC)


def _hours(elapsed: timedelta) -> str:
    # Rounded down, so a refusal never reads "24.0 h ... (minimum gap 24 h)".
    tenths = elapsed // timedelta(minutes=6)
    return f"{tenths // 10}.{tenths % 10}"


def _share_text(window: Window, limit: Fraction, relation: str) -> str:
    share_text, limit_text = _percents_of(window.pitches, window.total, limit)
    return f"{window.pitches}/{window.total} = {share_text} {relation} {limit_text}"


def percents(share: Fraction, limit: Fraction) -> tuple[str, str]:
    """Both values as percentages, with just enough decimals that unequal values differ
    (``20.1 % > 20.0 %``, never ``20 % > 20 %``)."""
    return _percents_of(share.numerator, share.denominator, limit)


def _percents_of(pitches: int, total: int, limit: Fraction) -> tuple[str, str]:
    equal = pitches * limit.denominator == limit.numerator * total
    for decimals in range(4):
        share_text = _percent_of(pitches, total, decimals)
        limit_text = _percent_of(limit.numerator, limit.denominator, decimals)
        if share_text != limit_text or equal:
            break
    return share_text, limit_text


def percent(value: Fraction, decimals: int = 0) -> str:
    """``Fraction(1, 6)`` -> ``"17 %"`` (rounded half up); ``decimals=1`` -> ``"16.7 %"``."""
    return _percent_of(value.numerator, value.denominator, decimals)


def _percent_of(numerator: int, denominator: int, decimals: int) -> str:
    # Half up, not to even, in integers: Fraction arithmetic here cost more than deciding.
    scale = 100 * 10**decimals
    scaled = (2 * numerator * scale + denominator) // (2 * denominator)
    if decimals == 0:
        return f"{scaled} %"
    digits = str(scaled).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]} %"


def max_window_share(
    posts: Sequence[tuple[datetime, bool]], settings: BalanceSettings
) -> tuple[Fraction, datetime | None]:
    """The highest pitch share of any window ending at a pitch post, and that pitch's time.

    Windows are measured at each pitch because that is when the rule speaks: the last
    ``window_posts`` posts up to and including the pitch, and the posts in
    ``(pitch time - window_days, pitch time]`` up to and including it. Returns (0, None)
    when there is no pitch. ``posts`` must be in time order (``ValueError`` otherwise).

    This is the plain O(n * w) recount that :class:`WindowTracker` is tested against; use it
    for reports and tests, not for planning.
    """
    times = [_utc(at) for at, _ in posts]
    if any(later < earlier for earlier, later in zip(times, times[1:], strict=False)):
        raise ValueError("posts must be in time order")
    flags = [is_pitch for _, is_pitch in posts]
    span = timedelta(days=settings.window_days) if settings.window_days else None
    best, best_at = Fraction(0), None
    for index, at in enumerate(times):
        if not flags[index]:
            continue
        shares: list[Fraction] = []
        if settings.window_posts is not None:
            window = flags[max(0, index - settings.window_posts + 1) : index + 1]
            shares.append(Fraction(sum(window), len(window)))
        if span is not None:
            start = index
            while start > 0 and times[start - 1] > at - span:
                start -= 1
            window = flags[start : index + 1]
            shares.append(Fraction(sum(window), len(window)))
        if max(shares) > best:
            best, best_at = max(shares), at
    return best, best_at
