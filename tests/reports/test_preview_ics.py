"""``planner preview --format ics`` written by the ``icalendar`` library, whatever the texts.

The solo week is planned once (SQLite); its post texts are then swapped for hostile ones
(newlines of every kind, control characters, U+2028, very long lines, emoji, a backslash
before ``N``) and the file :func:`format_ics` writes is read back with ``icalendar``, as a
calendar app would: it holds exactly the events written, with their texts, and no control
character reaches the file (RFC 5545 allows none in a value but the tab).
"""

from __future__ import annotations

import re
from pathlib import Path

import icalendar
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from planner.reports.preview.ics import format_ics
from planner.reports.preview.model import Preview
from planner.text import shorten

from support.preview_weeks import preview_of, solo, sync_and_plan, with_texts

# What the file may not hold raw once unfolded: C0 but the tab, DEL, C1, U+2028, U+2029.
RAW_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE = [
    "first line\nsecond line\r\nthird\rfourth\u0085fifth",
    "\x1b[2J\x1b]0;pwned\x07 \x9b31m \x00\x7f bell\x07",
    "one\u2028two\u2029three",
    "long " + "é😀x" * 400,
    "👩‍👩‍👧 family, 日本語のテキスト; C:\\New folder\\N and \\n",
]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Preview:
    tmp_path: Path = tmp_path_factory.mktemp("ics")
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    return preview_of(config)


def _cleaned(text: str) -> str:
    return DROPPED.sub("", BREAKS.sub("\n", text))


@given(texts=st.lists(st.text(st.characters(codec="utf-8"), max_size=300), min_size=4, max_size=4))
@example(texts=HOSTILE[:4])
@example(texts=HOSTILE[1:])
def test_hostile_texts_read_back_as_exactly_the_events_written(
    week: Preview, texts: list[str]
) -> None:
    preview = with_texts(week, texts)
    rows = [row for day in preview.accounts[0].days for row in day.rows]
    raw = format_ics(preview).encode("utf-8")

    assert raw.endswith(b"END:VCALENDAR\r\n")
    physical = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)  # folded by octets
    unfolded = raw.decode("utf-8").replace("\r\n ", "").split("\r\n")
    assert [line for line in unfolded if RAW_CONTROL.search(line)] == []

    events = list(icalendar.Calendar.from_ical(raw).walk("VEVENT"))
    assert [event.decoded("DTSTART") for event in events] == [row.at for row in rows]
    assert len({str(event["UID"]) for event in events}) == len(rows)
    for event, row in zip(events, rows, strict=True):
        assert str(event["STATUS"]) == "TENTATIVE"
        assert str(event["TRANSP"]) == "TRANSPARENT"
        if row.text is None:
            assert str(event["SUMMARY"]) == "solo: empty slot"
            continue
        description = str(event["DESCRIPTION"])
        if row.text:
            assert description.startswith(_cleaned(row.text) + "\nWhy: ")
            title = shorten(DROPPED.sub("", BREAKS.sub(" ", row.text)), 60)
            summary = f"solo: {row.kind} · {title}"
        else:
            assert description.startswith("Why: ")
            summary = f"solo: {row.kind}"
        assert str(event["SUMMARY"]) == summary


def test_uids_and_properties_are_those_calendars_already_hold(week: Preview) -> None:
    # A calendar that imported an earlier file updates these events: the UIDs are unchanged.
    events = list(icalendar.Calendar.from_ical(format_ics(week)).walk("VEVENT"))
    assert [str(event["UID"]) for event in events] == [
        "20261207T080000Z-solo@planner",
        "20261208T080000Z-solo@planner",
        "20261209T080000Z-solo@planner",
        "20261210T080000Z-solo@planner",
        "20261211T080000Z-solo@planner",
    ]
    assert {str(event["TRANSP"]) for event in events} == {"TRANSPARENT"}
    assert {str(event["STATUS"]) for event in events} == {"TENTATIVE"}
    assert "SEQUENCE" not in format_ics(week)  # none today: calendars read it as 0
