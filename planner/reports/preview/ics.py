"""``planner preview --format ics``: the week as an iCalendar file (RFC 5545) for calendar apps.

One event per slot row, empty slots included (a gap is worth seeing), 15 minutes long and
transparent (it never blocks time). Times are UTC (``...Z``), so no time-zone blocks are
needed and every calendar shows them in its own zone. The ``UID`` names the account and the
slot's instant, not the item: after a re-plan, importing the new file updates the slot's
event instead of adding a second one.

Text values are escaped (``\\``, ``;``, ``,``, newlines) and lines folded at 75 octets
without splitting a UTF-8 sequence; lines end in CRLF, as the RFC requires. The RFC allows
no control character in a value but the tab: line breaks of any kind (CR, LF, U+0085 NEL,
U+2028, U+2029) become escaped newlines, and the other control characters are dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from planner.reports.preview.formats import kind_cell, rule_text
from planner.reports.preview.model import EMPTY, AccountPreview, Preview, SlotRow, share_text
from planner.text import shorten

EVENT_MINUTES = 15
SUMMARY_TEXT = 60  # characters of the post text in an event's title
_FOLD_AT = 75  # octets per line, CRLF excluded (RFC 5545 section 3.1)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# Control characters but the tab (C0, DEL, C1): RFC 5545 section 3.3.11 forbids them.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def format_ics(preview: Preview) -> str:
    """The whole VCALENDAR, CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Planner//planner preview//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(f'Planner {preview.label}')}",
    ]
    stamp = _utc(preview.generated_at)
    for account in preview.accounts:
        seen: dict[datetime, int] = {}
        for day in account.days:
            for row in day.rows:
                seen[row.at] = seen.get(row.at, 0) + 1
                lines += _event(account, row, stamp, seen[row.at])
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _event(account: AccountPreview, row: SlotRow, stamp: str, nth: int) -> list[str]:
    # A second row at the same instant (a post no slot names any more) needs its own UID.
    suffix = "" if nth == 1 else f"-{nth}"
    kind = kind_cell(row)
    if row.status == EMPTY:
        title = f"{account.account}: empty slot"
    else:
        title = f"{account.account}: {kind}"
        if row.text:
            title += f" · {shorten(_CONTROL.sub('', row.text), SUMMARY_TEXT)}"
    details = [row.text] if row.text else []
    details += [
        f"Why: {row.why}",
        f"Status: {row.status}{' (forced)' if row.forced else ''}",
        f"Pitch share after: {share_text(row.pitch_share)}",
        f"Rule: {rule_text(account.settings)}",
    ]
    category = "empty" if row.status == EMPTY else (row.class_ or "give")
    return [
        "BEGIN:VEVENT",
        f"UID:{_utc(row.at)}{suffix}-{_text(account.account)}@planner",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(row.at)}",
        f"DURATION:PT{EVENT_MINUTES}M",
        f"SUMMARY:{_text(title)}",
        f"DESCRIPTION:{_text(chr(10).join(details))}",
        f"CATEGORIES:{_text(category)}",
        f"STATUS:{'CONFIRMED' if row.status == 'published' else 'TENTATIVE'}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def _utc(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 section 3.3.11), without control characters."""
    lines = (_CONTROL.sub("", line) for line in _LINE_BREAK.split(value))
    return "\\n".join(
        line.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,") for line in lines
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets, folded: CRLF and one space before each continuation."""
    encoded = line.encode("utf-8")
    if len(encoded) <= _FOLD_AT:
        return line
    parts: list[str] = []
    start, limit = 0, _FOLD_AT
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and encoded[end] & 0xC0 == 0x80:  # inside a UTF-8 sequence
            end -= 1
        parts.append(encoded[start:end].decode("utf-8"))
        start, limit = end, _FOLD_AT - 1  # a continuation's leading space counts
    return "\r\n ".join(parts)
