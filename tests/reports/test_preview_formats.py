"""``planner preview --format html|ics``: the week grid for a browser and the iCalendar file.

The .ics is read back with the ``icalendar`` library, as a calendar app would; the HTML with
the standard library's parser. Both run on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest

from support.preview_weeks import HELD_B, SOLO_QUEUE, preview_of, run, solo, sync_and_plan

TRICKY = "Commas, semicolons; a back\\slash,\nnew lines and 👩‍👩‍👧 — <b>bold</b> & more " + "x" * 80
TRICKY_QUEUE = SOLO_QUEUE.replace(
    'text = "Tip B: fail fast."',
    f"text = '''{TRICKY}'''",  # a literal string: no escapes
)


def test_ics_has_one_event_per_slot_that_a_calendar_reads_back(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url, queue=TRICKY_QUEUE)
    sync_and_plan(config)
    result = run("--week", "2026-W50", "--format", "ics", config=config)
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    assert raw.endswith(b"END:VCALENDAR\r\n")
    physical = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends in CRLF

    calendar = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    rows = [row for day in preview_of(config).accounts[0].days for row in day.rows]
    assert [event.decoded("DTSTART") for event in events] == [row.at for row in rows]
    assert len({str(event["UID"]) for event in events}) == len(events)
    texts = [str(event["DESCRIPTION"]).split("\nWhy: ")[0] for event in events]
    assert TRICKY in texts  # escaped and folded, then read back intact
    summaries = [str(event["SUMMARY"]) for event in events]
    assert summaries[0] == "solo: help · Tip A: key the cache on the lock file."
    assert summaries[-1] == "solo: empty slot"
    empty = events[-1]
    assert str(empty["DESCRIPTION"]).startswith(f"Why: empty: promo-b held: {HELD_B}")
    assert [str(event["CATEGORIES"].cats[0]) for event in events] == [
        "give",
        "give",
        "pitch",
        "give",
        "empty",
    ]
    assert {str(event["STATUS"]) for event in events} == {"TENTATIVE"}
    assert all(event.decoded("DURATION").total_seconds() == 900 for event in events)


def test_ics_events_keep_their_uid_when_the_slot_gets_another_item(
    tmp_path: Path, db_url: str
) -> None:
    # Importing the file again after a re-plan updates each slot's event, never doubles it.
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    before = icalendar.Calendar.from_ical(run("--format", "ics", "--week", "2026-W50",
                                              config=config).stdout_bytes)  # fmt: skip
    queue = tmp_path / "queue" / "items.toml"
    queue.write_text(queue.read_text().replace('id = "tip-c"', 'id = "tip-c"\npriority = 5'))
    sync_and_plan(config)
    after = icalendar.Calendar.from_ical(run("--format", "ics", "--week", "2026-W50",
                                             config=config).stdout_bytes)  # fmt: skip

    def by_uid(calendar: icalendar.Calendar) -> dict[str, str]:
        return {str(e["UID"]): str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}

    assert by_uid(before).keys() == by_uid(after).keys()
    assert by_uid(before) != by_uid(after)  # tip-c moved to the first slot


class _Grid(HTMLParser):
    """Collects the day columns, the slot cards' classes and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[str] = []
        self.slots: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self._in_day_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article" and "slot" in classes:
            self.slots.append(" ".join(c for c in classes if c != "slot"))
        if tag == "h3":
            self._in_day_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3":
            self._in_day_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_day_title and data.strip():
            self.days.append(data.strip())


def test_html_is_a_week_grid_with_escaped_texts_and_the_summary(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url, queue=TRICKY_QUEUE)
    sync_and_plan(config)
    result = run("--week", "2026-W50", "--format", "html", config=config)
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("<!doctype html>")
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    grid = _Grid()
    grid.feed(page)
    assert "script" not in grid.tags and "link" not in grid.tags  # self-contained, no script
    assert grid.days[::2] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert grid.days[1::2] == ["7 Dec", "8 Dec", "9 Dec", "10 Dec", "11 Dec", "12 Dec", "13 Dec"]
    # Friday's slot stayed empty where the rule held promo-b: the card says so, with numbers.
    assert grid.slots == ["give", "give", "pitch", "give", "empty held"]
    text = "".join(grid.text)
    assert TRICKY in text  # the post text, whole, once unescaped
    assert "3:1 this week, pitch share 1/4 = 25 % (target 2:1, pitch ≤ 33 %)" in text
    assert f"promo-b (promo): {HELD_B} → next fit Wed 16 Dec 09:00" in text
    assert "1: Fri 11 Dec 09:00" in text
    assert "held here: promo-b, 2/5 = 40 % > 33 % over the last 6 posts" in text


def test_a_workspace_template_overrides_the_html_page(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    (tmp_path / "templates").mkdir(exist_ok=True)
    (config.templates_path / "preview.html.j2").write_text(
        "{% for a in accounts %}{{ a.name }}:"
        "{% for d in a.days %}{% for s in d.slots %} {{ s.time }} {{ s.text }}{% endfor %}"
        "{% endfor %}{% endfor %}"
    )
    result = run("--week", "2026-W50", "--format", "html", config=config)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "solo: 09:00 Tip A: key the cache on the lock file. 09:00 Tip B: fail fast."
        " 09:00 Solo Pro makes builds faster. 09:00 Tip C: give every job a timeout. 09:00 "
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{% for a in accounts %}", "line 1: Unexpected end of template"),
        ("{{ accounts[0].nickname }}", "has no attribute 'nickname'"),
    ],
)
def test_a_broken_workspace_template_is_an_input_error_naming_it(
    tmp_path: Path, db_url: str, template: str, message: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    (tmp_path / "templates").mkdir(exist_ok=True)
    (config.templates_path / "preview.html.j2").write_text(template)
    result = run("--week", "2026-W50", "--format", "html", config=config)
    assert result.exit_code == 2
    assert f"{config.templates_path / 'preview.html.j2'}" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
