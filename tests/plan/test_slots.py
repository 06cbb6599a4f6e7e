"""Weekly slots: every spec form parses, every mistake says what was expected, and a week's
instants are right across daylight-saving changes and ISO year ends."""

from __future__ import annotations

import functools
import io
import struct
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan.slots import (
    SlotInstant,
    SlotSpecError,
    WeeklySlot,
    WeekSpecError,
    expand_week,
    iso_week_bounds,
    parse_iso_week,
    parse_slot,
    parse_slots,
    weeks_from,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
NUUK = ZoneInfo("America/Nuuk")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "weekdays", "at", "label"),
    [
        ("mon-fri 09:00", [0, 1, 2, 3, 4], time(9), None),
        ("sat 10:30", [5], time(10, 30), None),
        ("tue 14:00 promo", [1], time(14), "promo"),
        ("wed 12:00 give", [2], time(12), "give"),
        ("mon,wed,fri 09:00", [0, 2, 4], time(9), None),
        ("daily 08:15", [0, 1, 2, 3, 4, 5, 6], time(8, 15), None),
        ("weekdays 09:00", [0, 1, 2, 3, 4], time(9), None),
        ("weekends 11:00", [5, 6], time(11), None),
        ("fri-mon 09:00", [4, 5, 6, 0], time(9), None),
        ("sun-mon 00:00", [6, 0], time(0), None),
        ("monday 23:59", [0], time(23, 59), None),
        ("Thursday-SATURDAY 07:05 Event", [3, 4, 5], time(7, 5), "event"),
        ("MON,wed-thu 09:00 my_kind-2", [0, 2, 3], time(9), "my_kind-2"),
        ("  sun   18:45  ", [6], time(18, 45), None),
    ],
)
def test_every_spec_form_parses_to_one_slot_per_day(
    spec: str, weekdays: list[int], at: time, label: str | None
) -> None:
    assert parse_slot(spec) == [WeeklySlot(day, at, label) for day in weekdays]


DAYS = "expected mon..sun, a range like mon-fri, a list like mon,wed, daily, weekdays or weekends"
FORM = 'expected DAYS HH:MM [LABEL], e.g. "mon-fri 09:00" or "tue 14:00 promo"'
TIME = "expected HH:MM, 00:00-23:59"
LABEL = 'expected a kind or class name: a letter, then letters, digits, "_" or "-"'


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mon-fri 25:00", f'"mon-fri 25:00": hour 25 is out of range ({TIME})'),
        ("mon 24:00", f'"mon 24:00": hour 24 is out of range ({TIME})'),
        ("mon 09:60", f'"mon 09:60": minute 60 is out of range ({TIME})'),
        ("mon 9:5", f'"mon 9:5": time "9:5" is not HH:MM ({TIME})'),
        ("mon 9:05", f'"mon 9:05": time "9:05" is not HH:MM ({TIME})'),
        ("mon 0900", f'"mon 0900": time "0900" is not HH:MM ({TIME})'),
        ("funday 09:00", f'"funday 09:00": unknown day "funday" ({DAYS})'),
        ("09:00 mon", f'"09:00 mon": unknown day "09:00" ({DAYS})'),
        ("mon-fun 09:00", f'"mon-fun 09:00": unknown day "fun" in range "mon-fun" ({DAYS})'),
        ("mon,,wed 09:00", f'"mon,,wed 09:00": unknown day "" ({DAYS})'),
        (
            "mon-mon 09:00",
            '"mon-mon 09:00": range "mon-mon" starts and ends on the same day '
            "(expected e.g. mon-fri)",
        ),
        ("mon,Mon 09:00", '"mon,Mon 09:00": day "mon" is named twice in "mon,Mon"'),
        ("mon-wed,tue 09:00", '"mon-wed,tue 09:00": day "tue" is named twice in "mon-wed,tue"'),
        ("mon", f'"mon": missing time ({FORM})'),
        ("", f'"": empty slot ({FORM})'),
        ("mon 09:00 promo now", f'"mon 09:00 promo now": unexpected extra words "now" ({FORM})'),
        ("mon 09:00 9promo", f'"mon 09:00 9promo": bad label "9promo" ({LABEL})'),
        ("mon 09:00 pro!mo", f'"mon 09:00 pro!mo": bad label "pro!mo" ({LABEL})'),
    ],
)
def test_bad_spec_says_what_is_wrong_and_what_was_expected(spec: str, message: str) -> None:
    with pytest.raises(SlotSpecError) as caught:
        parse_slot(spec)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert caught.value.spec == spec


def test_parse_slots_sorts_by_weekday_then_time() -> None:
    slots = parse_slots(["wed 12:00 give", "mon-fri 09:00", "mon 08:00"])
    assert [(s.weekday, s.time, s.label) for s in slots] == [
        (0, time(8), None),
        (0, time(9), None),
        (1, time(9), None),
        (2, time(9), None),
        (2, time(12), "give"),
        (3, time(9), None),
        (4, time(9), None),
    ]


def test_parse_slots_names_both_specs_of_a_duplicate() -> None:
    with pytest.raises(SlotSpecError) as caught:
        parse_slots(["mon-fri 09:00", "wed 09:00 promo"])
    assert str(caught.value) == (
        '"wed 09:00 promo": wed 09:00 is already a slot in "mon-fri 09:00" '
        "(each weekday and time may appear only once)"
    )


def test_parse_slots_of_nothing_is_no_slots() -> None:
    assert parse_slots([]) == []


# --- ISO weeks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "week"),
    [
        ("2026-W49", date(2020, 1, 1), (2026, 49)),
        ("2026w01", date(2020, 1, 1), (2026, 1)),
        ("2026-W53", date(2020, 1, 1), (2026, 53)),  # 2026 is a long ISO year
        ("this", date(2027, 1, 1), (2026, 53)),  # 1 Jan 2027 still belongs to 2026-W53
        ("current", date(2026, 12, 2), (2026, 49)),
        ("next", date(2026, 12, 31), (2027, 1)),
        (" Next ", date(2026, 12, 20), (2026, 52)),
        ("next", date(2025, 12, 28), (2026, 1)),  # 2025 has 52 weeks
    ],
)
def test_parse_iso_week(text: str, today: date, week: tuple[int, int]) -> None:
    assert parse_iso_week(text, today) == week


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2025-W53",
            '"2025-W53": week 53 does not exist in 2025: it has 52 ISO weeks (expected 1-52)',
        ),
        (
            "2026-W00",
            '"2026-W00": week 0 does not exist in 2026: it has 53 ISO weeks (expected 1-53)',
        ),
        (
            "last",
            '"last" is not a week (expected YYYY-Www like "2026-W49", "this", "current" or "next")',
        ),
        (
            "2026-49",
            '"2026-49" is not a week (expected YYYY-Www like "2026-W49", "this", "current" or '
            '"next")',
        ),
    ],
)
def test_bad_iso_week_is_explained(text: str, message: str) -> None:
    with pytest.raises(WeekSpecError) as caught:
        parse_iso_week(text, date(2026, 1, 1))
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_weeks_from_crosses_year_ends_including_week_53() -> None:
    assert weeks_from(2026, 52, 3) == [(2026, 52), (2026, 53), (2027, 1)]
    assert weeks_from(2025, 51, 3) == [(2025, 51), (2025, 52), (2026, 1)]
    assert weeks_from(2026, 10, 0) == []


def test_weeks_from_rejects_a_missing_week_and_a_negative_count() -> None:
    with pytest.raises(WeekSpecError, match="week 53 does not exist in 2025"):
        weeks_from(2025, 53, 1)
    with pytest.raises(ValueError, match="count must be 0 or more, got -1"):
        weeks_from(2026, 1, -1)


def test_week_bounds_are_local_mondays_and_follow_dst() -> None:
    # 2026-W13 ends on the day Berlin springs forward: 7 days minus one hour.
    start, end = iso_week_bounds(2026, 13, BERLIN)
    assert (start, end) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    # 2026-W53 runs from 28 Dec 2026 to 4 Jan 2027.
    assert iso_week_bounds(2026, 53, ZoneInfo("UTC")) == (utc(2026, 12, 28), utc(2027, 1, 4))
    with pytest.raises(WeekSpecError):
        iso_week_bounds(2025, 53, BERLIN)


# --- expanding a week -------------------------------------------------------------------


def only(instants: list[SlotInstant]) -> SlotInstant:
    assert len(instants) == 1, instants
    return instants[0]


def test_plain_week_puts_each_slot_at_its_local_wall_time() -> None:
    instants = expand_week(parse_slots(["mon-fri 09:00", "wed 12:00 give"]), 2026, 10, BERLIN)
    assert [i.at for i in instants] == [
        utc(2026, 3, 2, 8),
        utc(2026, 3, 3, 8),
        utc(2026, 3, 4, 8),
        utc(2026, 3, 4, 11),
        utc(2026, 3, 5, 8),
        utc(2026, 3, 6, 8),
    ]
    assert not any(i.shifted for i in instants)
    assert instants[3].slot.label == "give"
    assert all(i.at.tzinfo is UTC and i.local.tzinfo is BERLIN for i in instants)


def test_berlin_spring_gap_moves_to_the_first_minute_after_it() -> None:
    instant = only(expand_week(parse_slots(["sun 02:30"]), 2026, 13, BERLIN))
    assert instant.at == utc(2026, 3, 29, 1)
    assert instant.local.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)
    assert instant.shifted


def test_slots_shifted_onto_one_instant_collapse_keeping_the_earlier() -> None:
    specs = ["sun 02:15 give", "sun 02:45 promo", "sun 03:00", "sun 03:01"]
    instants = expand_week(parse_slots(specs), 2026, 13, BERLIN)
    assert [(i.at, i.slot.time, i.shifted) for i in instants] == [
        (utc(2026, 3, 29, 1), time(2, 15), True),
        (utc(2026, 3, 29, 1, 1), time(3, 1), False),
    ]


def test_berlin_autumn_overlap_happens_once_at_the_first_occurrence() -> None:
    instants = expand_week(parse_slots(["sun 01:59", "sun 02:30", "sun 03:00"]), 2026, 43, BERLIN)
    assert [i.at for i in instants] == [
        utc(2026, 10, 24, 23, 59),
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST, not 02:30 CET an hour later
        utc(2026, 10, 25, 2, 0),
    ]
    assert instants[1].local.fold == 0
    assert not any(i.shifted for i in instants)


@pytest.mark.parametrize(
    ("tz", "year", "week", "spec", "at", "wall", "shifted"),
    [
        # New York springs forward 2026-03-08 02:00 -> 03:00 EDT.
        (NEW_YORK, 2026, 10, "sun 02:30", utc(2026, 3, 8, 7), datetime(2026, 3, 8, 3), True),
        # ... and falls back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 EDT comes first.
        (
            NEW_YORK,
            2026,
            44,
            "sun 01:30",
            utc(2026, 11, 1, 5, 30),
            datetime(2026, 11, 1, 1, 30),
            False,
        ),
        # Sydney falls back 2026-04-05 03:00 AEDT -> 02:00 AEST: 02:30 AEDT comes first.
        (
            SYDNEY,
            2026,
            14,
            "sun 02:30",
            utc(2026, 4, 4, 15, 30),
            datetime(2026, 4, 5, 2, 30),
            False,
        ),
        # ... and springs forward 2026-10-04 02:00 -> 03:00 AEDT.
        (SYDNEY, 2026, 40, "sun 02:30", utc(2026, 10, 3, 16), datetime(2026, 10, 4, 3), True),
        # Lord Howe moves only half an hour: 02:00 -> 02:30 (+10:30 -> +11).
        (
            LORD_HOWE,
            2026,
            40,
            "sun 02:15",
            utc(2026, 10, 3, 15, 30),
            datetime(2026, 10, 4, 2, 30),
            True,
        ),
    ],
)
def test_pinned_dst_changes(
    tz: ZoneInfo, year: int, week: int, spec: str, at: datetime, wall: datetime, shifted: bool
) -> None:
    instant = only(expand_week(parse_slots([spec]), year, week, tz))
    assert (instant.at, instant.local.replace(tzinfo=None), instant.shifted) == (at, wall, shifted)


def test_a_gap_across_midnight_collapses_slots_of_two_days() -> None:
    # Nuuk springs forward on Saturday 2026-03-28 at 23:00 straight to Sunday 00:00.
    instant = only(expand_week(parse_slots(["sat 23:30", "sun 00:00"]), 2026, 13, NUUK))
    assert instant.local.replace(tzinfo=None) == datetime(2026, 3, 29, 0, 0)
    assert (instant.slot.weekday, instant.shifted) == (5, True)


def posix_zone(rule: str) -> ZoneInfo:
    """A zone that follows one POSIX TZ rule forever (a TZif file with no transitions)."""
    block = struct.pack(">6l", 0, 0, 0, 0, 1, 4) + struct.pack(">lbb", 0, 0, 0) + b"UTC\0"
    header = b"TZif2" + bytes(15)
    data = header + block + header + block + b"\n" + rule.encode() + b"\n"
    return ZoneInfo.from_file(io.BytesIO(data), key=rule)


def test_a_slot_pushed_past_sunday_midnight_belongs_to_the_next_week() -> None:
    # No real zone does this (yet): spring forward on Sunday 23:30 straight to Monday 00:30.
    tz = posix_zone("XST-1XDT,M3.5.0/23:30,M10.5.0/3")
    slots = parse_slots(["sun 23:45", "mon 00:15", "mon 00:45"])
    assert iso_week_bounds(2026, 14, tz)[0] == utc(2026, 3, 29, 22, 30)  # Monday 00:30 local
    before = expand_week(slots, 2026, 13, tz)
    after = expand_week(slots, 2026, 14, tz)
    assert [(i.slot.weekday, i.slot.time) for i in before] == [(0, time(0, 15)), (0, time(0, 45))]
    assert [(i.at, i.slot.weekday, i.shifted) for i in after[:2]] == [
        (utc(2026, 3, 29, 22, 30), 6, True),  # Sunday's slot, collapsed with Monday 00:15
        (utc(2026, 3, 29, 22, 45), 0, False),
    ]


def test_a_gap_ending_between_minutes_moves_to_the_next_whole_minute() -> None:
    tz = posix_zone("XST-1XDT,M3.5.0/2:00:30,M10.5.0/3")  # 02:00:30 jumps to 03:00:30
    instant = only(expand_week(parse_slots(["sun 02:30"]), 2026, 13, tz))
    assert instant.local.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 1)
    assert instant.shifted


def test_no_slots_no_instants() -> None:
    assert expand_week([], 2026, 13, BERLIN) == []


# --- properties -------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "America/Nuuk",  # changes at 23:00 local, gaps cross midnight
    "America/Santiago",  # changes at midnight
    "Europe/Dublin",  # negative DST in tzdata
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Tehran",  # DST until 2022, changes at midnight
    "Asia/Kolkata",  # no DST
    "UTC",
]


@functools.cache
def dst_weeks(zone: str, year: int) -> tuple[int, ...]:
    """The ISO weeks of ``year`` in which ``zone`` changes its UTC offset."""
    tz = ZoneInfo(zone)
    weeks: set[int] = set()
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(tz).utcoffset()
    while moment.year == year:
        moment += timedelta(hours=3)
        if moment.astimezone(tz).utcoffset() != offset:
            offset = moment.astimezone(tz).utcoffset()
            iso = moment.astimezone(tz).isocalendar()
            if iso.year == year:
                weeks.add(iso.week)
    return tuple(sorted(weeks))


def first_valid(wall: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """Oracle: walk minute by minute to the first wall time that exists (its first occurrence)."""
    for minutes in range(4 * 60):
        candidate = wall + timedelta(minutes=minutes)
        at = candidate.replace(tzinfo=tz).astimezone(UTC)
        if at.astimezone(tz).replace(tzinfo=None) == candidate:
            return at, minutes > 0
    raise AssertionError(f"no valid wall time within 4 h of {wall} in {tz}")


hours = st.one_of(st.sampled_from([0, 1, 2, 3, 23]), st.integers(0, 23))
minutes = st.one_of(st.sampled_from([0, 15, 30, 45, 59]), st.integers(0, 59))
slot_sets = st.lists(
    st.builds(WeeklySlot, st.integers(0, 6), st.builds(time, hours, minutes), st.just(None)),
    max_size=12,
    unique_by=lambda slot: (slot.weekday, slot.time),
)


@st.composite
def zone_weeks(draw: st.DrawFn) -> tuple[ZoneInfo, int, int]:
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(1995, 2040))
    changes = dst_weeks(zone, year)
    last = date(year, 12, 28).isocalendar().week
    # Half the time pick a week with a DST change, where the interesting cases live.
    if changes and draw(st.booleans()):
        week = draw(st.sampled_from(changes))
    else:
        week = draw(st.integers(1, last))
    return ZoneInfo(zone), year, week


@settings(max_examples=150, deadline=None)
@given(zone_week=zone_weeks(), slots=slot_sets)
def test_expanded_week_matches_a_minute_by_minute_oracle(
    zone_week: tuple[ZoneInfo, int, int], slots: list[WeeklySlot]
) -> None:
    tz, year, week = zone_week
    instants = expand_week(slots, year, week, tz)
    start, end = iso_week_bounds(year, week, tz)
    monday = date.fromisocalendar(year, week, 1)

    # The bounds are the first instants of this Monday and of the next, locally.
    assert start.astimezone(tz).date() == monday
    assert (start - timedelta(seconds=1)).astimezone(tz).date() < monday
    assert end.astimezone(tz).date() == monday + timedelta(days=7)
    assert (end - timedelta(seconds=1)).astimezone(tz).date() < monday + timedelta(days=7)

    for instant in instants:
        assert start <= instant.at < end
        assert instant.local == instant.at.astimezone(tz)
        wall = (instant.local.weekday(), instant.local.time().replace(tzinfo=None))
        if not instant.shifted:
            assert wall == (instant.slot.weekday, instant.slot.time)
    assert all(a.at < b.at for a, b in zip(instants, instants[1:], strict=False))

    # Every slot yields exactly one instant, unless it collapsed onto an earlier slot's.
    expected: dict[datetime, tuple[WeeklySlot, bool]] = {}
    for offset in range(-1, 7):
        day = monday + timedelta(days=offset)
        for slot in sorted(slots, key=lambda s: s.time):
            if slot.weekday != day.weekday():
                continue
            at, shifted = first_valid(datetime.combine(day, slot.time), tz)
            if start <= at < end and at not in expected:
                expected[at] = (slot, shifted)
    assert [(i.at, i.slot, i.shifted) for i in instants] == [
        (at, slot, shifted) for at, (slot, shifted) in sorted(expected.items())
    ]


@settings(max_examples=100, deadline=None)
@given(zone_week=zone_weeks())
def test_consecutive_weeks_share_their_boundary(zone_week: tuple[ZoneInfo, int, int]) -> None:
    tz, year, week = zone_week
    (_, end), (next_start, _) = (iso_week_bounds(y, w, tz) for y, w in weeks_from(year, week, 2))
    assert end == next_start
