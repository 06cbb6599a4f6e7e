"""Weekly slots: parse slot specs and lay them onto real instants of an ISO week.

An account posts at weekly wall-clock times in its own timezone ("mon-fri 09:00",
"tue 14:00 promo"). This module turns those specs into :class:`WeeklySlot` values and expands
them into UTC instants for one ISO week, handling daylight-saving changes on purpose:

- a wall time inside a spring-forward gap moves to the first valid minute after the gap
  (``shifted=True``);
- a wall time inside an autumn overlap happens once, at its first occurrence (``fold=0``);
- slots that land on the same instant (after a shift) collapse into one, the earlier slot wins.

Pure: standard library only, no clock, no I/O. Errors::

    ValueError
    ├── SlotSpecError    a slot spec is malformed (the message quotes it)
    └── WeekSpecError    an ISO week is malformed or does not exist
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: i for names in (DAY_NAMES, _FULL_DAY_NAMES) for i, name in enumerate(names)}
_DAY_GROUPS = {"daily": range(7), "weekdays": range(5), "weekends": range(5, 7)}

_SPEC_FORM = 'DAYS HH:MM [LABEL], e.g. "mon-fri 09:00" or "tue 14:00 promo"'
_DAYS_FORM = "mon..sun, a range like mon-fri, a list like mon,wed, daily, weekdays or weekends"
_TIME_FORM = "HH:MM, 00:00-23:59"
_LABEL_FORM = 'a kind or class name: a letter, then letters, digits, "_" or "-"'
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})")
_LABEL = re.compile(r"[a-z][a-z0-9_-]*")
_ISO_WEEK = re.compile(r"([0-9]{4})-?W([0-9]{1,2})", re.IGNORECASE)
_WEEK_FORM = 'YYYY-Www like "2026-W49", "this", "current" or "next"'
# The planner's calendar: years whose weeks stay inside what datetime can represent with a
# day either side for a timezone shift, and, before them, room for the windows that look back
# (at most 366 days each, planner.config.bounds), even two of them end to end.
FIRST_YEAR, LAST_YEAR = MINYEAR + 3, MAXYEAR - 1


class SlotSpecError(ValueError):
    """A slot spec cannot be parsed; the message quotes the spec and says what was expected."""

    def __init__(self, spec: str, problem: str) -> None:
        self.spec = spec
        self.problem = problem
        super().__init__(f'"{spec}": {problem}')


class WeekSpecError(ValueError):
    """An ISO week is malformed or does not exist; the message says what was expected."""


@dataclass(frozen=True)
class WeeklySlot:
    """One weekly wall-clock time: ``weekday`` 0=Mon..6=Sun, with an optional lower-case label.

    The label is a kind or class name as written by the user; this module does not know which
    kinds exist, so checking it against the configured kinds is the caller's job.
    """

    weekday: int
    time: time
    label: str | None = None


@dataclass(frozen=True)
class SlotInstant:
    """A weekly slot placed on a real instant.

    ``at`` is aware UTC; ``local`` is the same instant in the account's zone (the wall time
    actually used); ``shifted`` is True when the slot's wall time did not exist (DST gap) and
    was moved to the first valid minute after the gap.
    """

    at: datetime
    local: datetime
    slot: WeeklySlot
    shifted: bool


def parse_slot(spec: str) -> list[WeeklySlot]:
    """Parse one spec into one slot per day it names, in the order the days are written.

    Forms: ``DAYS HH:MM [LABEL]`` where DAYS is a day (``mon`` or ``monday``), a range that may
    wrap (``mon-fri``, ``fri-mon``), a comma list of those (``mon,wed,fri``), ``daily``,
    ``weekdays`` or ``weekends``; case-insensitive. The time is exactly two-digit ``HH:MM``
    from 00:00 to 23:59. The label is lower-cased. Raises :class:`SlotSpecError` otherwise.
    """
    words = spec.split()
    if not words:
        raise SlotSpecError(spec, f"empty slot (expected {_SPEC_FORM})")
    if len(words) == 1:
        raise SlotSpecError(spec, f"missing time (expected {_SPEC_FORM})")
    if len(words) > 3:
        extra = " ".join(words[3:])
        raise SlotSpecError(spec, f'unexpected extra words "{extra}" (expected {_SPEC_FORM})')
    days = _parse_days(spec, words[0])
    at = _parse_time(spec, words[1])
    label = _parse_label(spec, words[2]) if len(words) == 3 else None
    return [WeeklySlot(weekday=day, time=at, label=label) for day in days]


def parse_slots(specs: Sequence[str]) -> list[WeeklySlot]:
    """Parse many specs into slots sorted by (weekday, time).

    A (weekday, time) pair may appear only once across all specs: a repeat raises
    :class:`SlotSpecError` naming both specs, even when their labels differ.
    """
    seen: dict[tuple[int, time], str] = {}
    result: list[WeeklySlot] = []
    for spec in specs:
        for slot in parse_slot(spec):
            key = (slot.weekday, slot.time)
            if key in seen:
                when = f"{DAY_NAMES[slot.weekday]} {slot.time:%H:%M}"
                raise SlotSpecError(
                    spec,
                    f'{when} is already a slot in "{seen[key]}" '
                    "(each weekday and time may appear only once)",
                )
            seen[key] = spec
            result.append(slot)
    result.sort(key=lambda slot: (slot.weekday, slot.time))
    return result


def _parse_days(spec: str, word: str) -> list[int]:
    lowered = word.lower()
    if lowered in _DAY_GROUPS:
        return list(_DAY_GROUPS[lowered])
    days: list[int] = []
    for part in word.split(","):
        for day in _parse_day_part(spec, part):
            if day in days:
                raise SlotSpecError(spec, f'day "{DAY_NAMES[day]}" is named twice in "{word}"')
            days.append(day)
    return days


def _parse_day_part(spec: str, part: str) -> list[int]:
    if part.lower() in _DAY_NUMBERS:
        return [_DAY_NUMBERS[part.lower()]]
    first_name, dash, last_name = part.partition("-")
    if not dash:
        raise SlotSpecError(spec, f'unknown day "{part}" (expected {_DAYS_FORM})')
    for name in (first_name, last_name):
        if name.lower() not in _DAY_NUMBERS:
            raise SlotSpecError(
                spec, f'unknown day "{name}" in range "{part}" (expected {_DAYS_FORM})'
            )
    first, last = _DAY_NUMBERS[first_name.lower()], _DAY_NUMBERS[last_name.lower()]
    if first == last:
        # "mon-mon" could mean one day or the whole week; make the user say which.
        raise SlotSpecError(
            spec, f'range "{part}" starts and ends on the same day (expected e.g. mon-fri)'
        )
    length = (last - first) % 7 + 1  # ranges wrap: fri-mon is fri, sat, sun, mon
    return [(first + offset) % 7 for offset in range(length)]


def _parse_time(spec: str, word: str) -> time:
    match = _TIME.fullmatch(word)
    if match is None:
        raise SlotSpecError(spec, f'time "{word}" is not HH:MM (expected {_TIME_FORM})')
    hour, minute = int(match[1]), int(match[2])
    if hour > 23:
        raise SlotSpecError(spec, f"hour {hour} is out of range (expected {_TIME_FORM})")
    if minute > 59:
        raise SlotSpecError(spec, f"minute {minute} is out of range (expected {_TIME_FORM})")
    return time(hour, minute)


def _parse_label(spec: str, word: str) -> str:
    label = word.lower()
    if _LABEL.fullmatch(label) is None:
        raise SlotSpecError(spec, f'bad label "{word}" (expected {_LABEL_FORM})')
    return label


def iso_week_bounds(year: int, week: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The half-open span [start, end) of ISO week (year, week) in zone ``tz``, as aware UTC.

    ``start`` is Monday 00:00 local and ``end`` the next Monday 00:00 local (a midnight lost
    to a DST gap counts from the end of the gap). Consecutive weeks share their boundary, so
    every instant belongs to exactly one week. Raises :class:`WeekSpecError` for a week that
    does not exist.
    """
    monday = _monday(year, week)
    start, _ = _resolve(datetime.combine(monday, time()), tz)
    end, _ = _resolve(datetime.combine(monday + timedelta(days=7), time()), tz)
    return start, end


def expand_week(
    slots: Sequence[WeeklySlot], year: int, week: int, tz: ZoneInfo
) -> list[SlotInstant]:
    """The instants of ``slots`` during ISO week (year, week) in zone ``tz``, sorted by ``at``.

    Callers may rely on:

    - every instant lies in :func:`iso_week_bounds` (start inclusive, end exclusive), and the
      ``at`` values are strictly increasing;
    - an unshifted instant's ``local`` wall time is exactly the slot's weekday and time;
    - a wall time in a spring-forward gap moves to the first valid minute after the gap
      (Europe/Berlin 2026-03-29 02:30 -> 03:00 CEST), with ``shifted=True``;
    - a wall time in an autumn overlap happens once, at its first occurrence;
    - slots that land on the same instant collapse into one instant carrying the earlier slot
      (by weekday, then time): 02:15 and 02:45 both moved to 03:00, or a 02:30 moved onto an
      existing 03:00 slot, give one post, not two;
    - each instant belongs to the week it lands in: in a zone whose gap spans Sunday midnight,
      a late Sunday slot moved past midnight is part of the next week (no such zone exists in
      tzdata between 1990 and 2040, but the rule keeps weeks from overlapping).
    """
    start, end = iso_week_bounds(year, week, tz)
    monday = _monday(year, week)
    by_weekday: dict[int, list[WeeklySlot]] = {}
    for slot in sorted(slots, key=lambda slot: (slot.weekday, slot.time)):
        by_weekday.setdefault(slot.weekday, []).append(slot)
    result: list[SlotInstant] = []
    # Start on the Sunday before: a gap spanning Sunday midnight pushes that evening's slot
    # into this week, and filtering on the bounds keeps each instant in exactly one week.
    for offset in range(-1, 7):
        day = monday + timedelta(days=offset)
        for slot in by_weekday.get(day.weekday(), []):
            at, shifted = _resolve(datetime.combine(day, slot.time), tz)
            # Resolving never reorders wall times (a gap maps to its end, an overlap to its
            # first pass), so walking them in order yields instants in order, and an instant
            # equal to the previous one is a collapse onto an earlier slot.
            if start <= at < end and (not result or at != result[-1].at):
                result.append(SlotInstant(at, at.astimezone(tz), slot, shifted))
    return result


def _resolve(wall: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """Map a naive wall time in ``tz`` to aware UTC; return (instant, moved-out-of-a-gap)."""
    first = wall.replace(tzinfo=tz, fold=0)
    at = first.astimezone(UTC)
    # A wall time that survives local -> UTC -> local exists; fold=0 makes an ambiguous one
    # resolve to its first occurrence.
    if at.astimezone(tz).replace(tzinfo=None) == wall:
        return at, False
    # In a gap, fold=0 reads the wall time with the offset before the transition and fold=1
    # with the offset after, so the transition instant lies between the two readings.
    # Bisecting on whole seconds finds it in a dozen steps without walking minute by minute.
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(at, other), max(at, other)
    offset_before = low.astimezone(tz).utcoffset()
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset_before:
            low_s = middle
        else:
            high_s = middle
    transition = datetime.fromtimestamp(high_s, UTC)
    seconds = transition.astimezone(tz).second
    if seconds:
        # Some historical transitions fall on odd seconds; slots live on whole minutes.
        transition += timedelta(seconds=60 - seconds)
    return transition, True


def _weeks_in_year(year: int) -> int:
    # 28 December is always in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


def _check_week(year: int, week: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekSpecError(f"year {year} is out of range (expected {FIRST_YEAR}-{LAST_YEAR})")
    weeks = _weeks_in_year(year)
    if not 1 <= week <= weeks:
        raise WeekSpecError(
            f"week {week} does not exist in {year}: it has {weeks} ISO weeks (expected 1-{weeks})"
        )


def _monday(year: int, week: int) -> date:
    _check_week(year, week)
    return date.fromisocalendar(year, week, 1)


def parse_iso_week(text: str, today: date) -> tuple[int, int]:
    """Read an ISO week: ``2026-W49`` (also ``2026W49``, any case), ``this``/``current`` (the
    week containing ``today``) or ``next`` (the week after it).

    Returns (ISO year, week). Raises :class:`WeekSpecError` naming the text for anything else
    or for a week that does not exist (W53 exists only in long years).
    """
    word = text.strip().lower()
    if word in ("this", "current"):
        iso = today.isocalendar()
        return iso.year, iso.week
    if word == "next":
        iso = (today + timedelta(days=7)).isocalendar()
        return iso.year, iso.week
    match = _ISO_WEEK.fullmatch(word)
    if match is None:
        raise WeekSpecError(f'"{text}" is not a week (expected {_WEEK_FORM})')
    year, week = int(match[1]), int(match[2])
    try:
        _check_week(year, week)
    except WeekSpecError as exc:
        raise WeekSpecError(f'"{text}": {exc}') from None
    return year, week


def weeks_from(year: int, week: int, count: int) -> list[tuple[int, int]]:
    """``count`` consecutive ISO weeks starting with (year, week), crossing year ends.

    Raises :class:`WeekSpecError` if the first week does not exist or the weeks run past the
    last year of the calendar (:data:`LAST_YEAR`), and ``ValueError`` if ``count`` is negative.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    monday = _monday(year, week)
    last_monday = date.fromisocalendar(LAST_YEAR, _weeks_in_year(LAST_YEAR), 1)
    if count and (last_monday - monday).days // 7 < count - 1:
        raise WeekSpecError(
            f"{count} weeks from {year}-W{week:02d} run past {LAST_YEAR}-W"
            f"{_weeks_in_year(LAST_YEAR):02d}, the last week the planner can plan"
        )
    result: list[tuple[int, int]] = []
    for index in range(count):
        iso = (monday + timedelta(weeks=index)).isocalendar()
        result.append((iso.year, iso.week))
    return result
