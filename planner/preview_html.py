"""``planner preview --format html``: the week as a grid a browser shows, one page for all
accounts.

Per account a row of seven day columns (Monday to Sunday in the account's zone), each slot a
card coloured by class (give, pitch, empty) with its time, kind, status, text, reason and the
pitch share after it; then the same summary as the table. The page is self-contained (inline
CSS, no script, nothing fetched) and every value is HTML-escaped by Jinja2's autoescape: post
texts are user content.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined

from planner import __version__
from planner.preview_format import (
    empty_text,
    held_text,
    kind_cell,
    mix_text,
    rule_text,
    runway_text,
    scope_note,
    window_text,
)
from planner.preview_model import EMPTY, WEEKDAYS, AccountPreview, Preview, SlotRow, share_text
from planner.text import iso_utc

_TEMPLATE = "preview_week.html.j2"


def format_html(preview: Preview) -> str:
    """The whole HTML document."""
    environment = Environment(
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = environment.from_string(files("planner").joinpath(_TEMPLATE).read_text("utf-8"))
    return template.render(
        version=__version__,
        label=preview.label,
        generated=f"{preview.generated_at:%Y-%m-%d %H:%M} UTC",
        ok=preview.ok,
        verdict="every account within the rule, no empty slot"
        if preview.ok
        else f"{len(preview.problems)} problem(s)",
        accounts=[_account(account) for account in preview.accounts],
    )


def _account(account: AccountPreview) -> dict[str, Any]:
    zone = ZoneInfo(account.timezone)
    rows_by_date = {day.date: day.rows for day in account.days}
    monday = account.start.astimezone(zone).date()
    week = [monday + timedelta(days=offset) for offset in range(7)]
    return {
        "name": account.account,
        "network": account.network,
        "timezone": account.timezone,
        "rule": rule_text(account.settings) + scope_note(account),
        "days": [
            {
                "weekday": WEEKDAYS[offset],
                "iso": date.isoformat(),
                "title": f"{date.day} {date:%b}",
                "slots": [_slot(row) for row in rows_by_date.get(date, [])],
            }
            for offset, date in enumerate(week)
        ],
        "mix": mix_text(account),
        "windows": window_text(account),
        "held": [held_text(account, held) for held in account.held],
        "empty": empty_text(account),
        "runway": [runway_text(runway) for runway in account.runway],
        "problems": account.problems,
        "notes": account.notes,
    }


def _slot(row: SlotRow) -> dict[str, Any]:
    css = (
        EMPTY
        if row.status == EMPTY
        else ("pitch" if (row.class_ or "").startswith("pitch") else "give")
    )
    status = "" if row.status in (EMPTY, "planned") else row.status
    return {
        "css": css + (" forced" if row.forced else ""),
        "iso": iso_utc(row.at),
        "time": f"{row.local:%H:%M}",
        "kind": kind_cell(row),
        "class_": (row.class_ or "") + (" (forced)" if row.forced else ""),
        "status": status,
        "text": row.text or "",
        "why": row.why,
        "share": share_text(row.pitch_share),
    }
