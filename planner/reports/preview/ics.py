"""``planner preview --format ics``: the week as an iCalendar file (RFC 5545) for calendar apps.

One event per slot row, empty slots included (a gap is worth seeing), 15 minutes long and
transparent (it never blocks time). Times are UTC (``...Z``), so no time-zone blocks are
needed and every calendar shows them in its own zone. The ``UID`` names the account and the
slot's instant, not the item: after a re-plan, importing the new file updates the slot's
event instead of adding a second one.

The events are ``icalendar`` objects and the library writes the file: it escapes text values
(``\\``, ``;``, ``,``, newlines), folds lines at 75 octets without splitting a character and
ends them in CRLF. Two things are ours, done before a text reaches it: the RFC allows no
control character in a value but the tab, so line breaks of any kind (CR, LF, U+0085 NEL,
U+2028, U+2029) become newlines (escaped by the library) and the other control characters are
dropped; and a backslash followed by ``N`` stays those two characters (the library would read
it as a line break).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from icalendar.prop import vText

from planner.reports.preview.formats import kind_cell, rule_text
from planner.reports.preview.model import EMPTY, AccountPreview, Preview, SlotRow, share_text
from planner.text import shorten

EVENT_MINUTES = 15
SUMMARY_TEXT = 60  # characters of the post text in an event's title
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# Control characters but the tab (C0, DEL, C1): RFC 5545 section 3.3.11 forbids them.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


class _Text(vText):
    """A TEXT value whose characters are all kept: the library's escaping, except that it
    turns a backslash followed by ``N`` into a line break, which a post text may not mean."""

    def to_ical(self) -> bytes:
        parts = (vText(part).to_ical() for part in self.split("\\N"))  # UTF-8
        return b"\\\\N".join(parts)


def format_ics(preview: Preview) -> str:
    """The whole VCALENDAR, CRLF line ends, lines folded at 75 octets."""
    calendar = Calendar()
    calendar.add("prodid", "-//Planner//planner preview//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _text(f"Planner {preview.label}"))
    stamp = preview.generated_at.astimezone(UTC)
    for account in preview.accounts:
        seen: dict[datetime, int] = {}
        for day in account.days:
            for row in day.rows:
                seen[row.at] = seen.get(row.at, 0) + 1
                calendar.add_component(_event(account, row, stamp, seen[row.at]))
    written: bytes = calendar.to_ical()
    return written.decode("utf-8")


def _event(account: AccountPreview, row: SlotRow, stamp: datetime, nth: int) -> Event:
    # A second row at the same instant (a post no slot names any more) needs its own UID.
    suffix = "" if nth == 1 else f"-{nth}"
    kind = kind_cell(row)
    if row.status == EMPTY:
        title = f"{account.account}: empty slot"
    else:
        title = f"{account.account}: {kind}"
        if row.text:
            # One line: a line break is a space (not dropped, which would join two words).
            one_line = _CONTROL.sub("", _LINE_BREAK.sub(" ", row.text))
            title += f" · {shorten(one_line, SUMMARY_TEXT)}"
    details = [row.text] if row.text else []
    details += [
        f"Why: {row.why}",
        f"Status: {row.status}{' (forced)' if row.forced else ''}",
        f"Pitch share after: {share_text(row.pitch_share)}",
        f"Rule: {rule_text(account.settings)}",
    ]
    category = "empty" if row.status == EMPTY else (row.class_ or "give")
    at = row.at.astimezone(UTC)
    event = Event()
    event.add("uid", _text(f"{at:%Y%m%dT%H%M%SZ}{suffix}-{account.account}@planner"))
    event.add("dtstamp", stamp)
    event.add("dtstart", at)
    event.add("duration", timedelta(minutes=EVENT_MINUTES))
    event.add("summary", _text(title))
    # Each part on its own: a text ending in "\r" joined to "\nWhy" would make one "\r\n".
    event.add("description", _Text("\n".join(str(_text(detail)) for detail in details)))
    event.add("categories", [category])
    event.add("status", "CONFIRMED" if row.status == "published" else "TENTATIVE")
    event.add("transp", "TRANSPARENT")
    return event


def _text(value: str) -> _Text:
    """A TEXT value without control characters: line breaks of any kind as newlines."""
    return _Text("\n".join(_CONTROL.sub("", line) for line in _LINE_BREAK.split(value)))
