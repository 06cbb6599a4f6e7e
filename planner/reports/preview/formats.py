"""Turn a :class:`~planner.reports.preview.model.Preview` into JSON or Markdown, and the words
the other formats share (the terminal table is :mod:`~planner.reports.preview.terminal`).

Pure: plain values in, plain values out; no click, no printing, no clock.

The JSON document (:func:`as_json`) is a documented, stable contract: keys come in a fixed
order, fractions are ``"p/q"`` strings (a window's share is ``"pitches/posts"``, not reduced),
times are ISO-8601 in UTC. See the README section "planner preview" for every key.
"""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from planner.reports.preview.model import (
    EMPTY,
    LOOKAHEAD_WEEKS,
    AccountPreview,
    HeldItem,
    LeftOut,
    Preview,
    Runway,
    SlotRow,
    share_text,
    when_text,
)
from planner.rule.balancer import BalanceSettings, percent
from planner.text import iso_utc, one_line

# "&amp;", "&#60;", "&#x3c;": an ampersand Markdown would read as the start of an entity.
_ENTITY = re.compile(r"&(?=#?\w+;)")
# A "<" that Markdown could read as raw HTML or an autolink: a tag, a closing tag, a
# comment, a declaration or a processing instruction.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def as_json(preview: Preview) -> dict[str, Any]:
    """The preview as JSON-ready data (see the module docstring)."""
    return {
        "week": preview.label,
        "generated_at": iso_utc(preview.generated_at),
        "accounts": [_account_json(account) for account in preview.accounts],
        "ok": preview.ok,
    }


def _account_json(account: AccountPreview) -> dict[str, Any]:
    give, pitch = account.target
    return {
        "account": account.account,
        "network": account.network,
        "timezone": account.timezone,
        "target": {
            "give": give,
            "pitch": pitch,
            "max_pitch_share": _fraction(account.settings.max_pitch_share),
        },
        "days": [
            {
                "date": day.date.isoformat(),
                "weekday": day.weekday,
                "slots": [_slot_json(row) for row in day.rows],
            }
            for day in account.days
        ],
        "summary": {
            "give": account.give,
            "pitch": account.pitch,
            "pitch_share": str(account.week_share),
            "max_window_share": str(account.max_window),
            "max_window_at": iso_utc(account.max_window_at),
            "within_rule": account.within_rule,
            "empty_slots": len(account.empty),
            "held": [
                {"item": held.item, "reason": held.reason, "next_fit": iso_utc(held.next_fit)}
                for held in account.held
            ],
            **{
                name: [_left_out_json(left) for left in items]
                for name, items in (
                    ("waiting", account.waiting),
                    ("expired", account.expired),
                    ("skipped", account.skipped),
                )
            },
            "unlisted": account.unlisted,
            "runway": [
                {
                    "kind": runway.kind,
                    "available": runway.available,
                    "planned_this_week": runway.planned_this_week,
                    "lasts_days": runway.lasts_days,
                    "runs_dry_on": runway.runs_dry_on,
                }
                for runway in account.runway
            ],
            "problems": account.problems,
            "notes": account.notes,
        },
    }


def _left_out_json(left: LeftOut) -> dict[str, Any]:
    return {
        "item": left.item,
        "kind": left.kind,
        "reason": left.reason,
        "not_after": iso_utc(left.until),
    }


def _slot_json(row: SlotRow) -> dict[str, Any]:
    slot: dict[str, Any] = {
        "at": iso_utc(row.at),
        "local_time": f"{row.local:%H:%M}",
        "label": row.label,
        "status": row.status,
        "item": row.item,
        "kind": row.kind,
        "class": row.class_,
        "forced": row.forced,
        "text": row.text,
        "why": row.why,
        "pitch_share": str(row.pitch_share),
    }
    if row.media:  # only on a post with images: the document of any other week is unchanged
        slot["media"] = [
            {"alt": image.alt, "type": image.mime, "width": image.width,
             "height": image.height, "source": image.source, "thumbnail": image.thumbnail}
            for image in row.media
        ]  # fmt: skip
    return slot


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


# --- words shared by the table and Markdown -------------------------------------------------


def rule_text(settings: BalanceSettings) -> str:
    """``"4:1 (pitch ≤ 20 %) over the last 10 posts and 7 days; pitches ≥ 24 h apart"``."""
    give, pitch = settings.give_to_pitch
    windows = []
    if settings.window_posts is not None:
        windows.append(_count(settings.window_posts, "post"))
    if settings.window_days is not None:
        windows.append(_count(settings.window_days, "day"))
    text = (
        f"{give}:{pitch} (pitch ≤ {percent(settings.max_pitch_share)}) "
        f"over the last {' and '.join(windows)}"
    )
    if settings.min_pitch_gap_hours:
        text += f"; pitches ≥ {settings.min_pitch_gap_hours:g} h apart"
    return text


def mix_text(account: AccountPreview) -> str:
    give, pitch = account.target
    text = (
        f"{account.give}:{account.pitch} this week, pitch share {share_text(account.week_share)} "
        f"(target {give}:{pitch}, pitch ≤ {percent(account.settings.max_pitch_share)})"
    )
    if account.week_over_target:
        text += ": above the target for the week; the rule is kept or broken window by window"
    return text


def window_text(account: AccountPreview) -> str:
    if account.max_window_at is None:
        verdict = "no pitch this week"
    else:
        verdict = (
            f"highest {share_text(account.max_window)} at "
            f"{when_text(_local(account, account.max_window_at))}"
        )
    return f"{verdict}: {account.verdict}"


def held_text(account: AccountPreview, held: HeldItem) -> tuple[str, str]:
    """What holds the item, and where it would fit: ``("promo-b (promo): …", "next fit …")``."""
    if held.manual:
        fit = f"not tried: `planner release {held.item}` to plan it again"
    elif held.next_fit is None:
        fit = f"no slot in the next {LOOKAHEAD_WEEKS} weeks"
    else:
        fit = f"next fit {when_text(_local(account, held.next_fit))}"
    return f"{held.item} ({held.kind}): {held.reason or 'held'}", fit


def left_out_text(left: LeftOut) -> str:
    """``"promo-b (promo): promo gets 1 of 8 open slots; …"``; an expired item says when."""
    until = f"expired {when_text(left.until)}: " if left.until is not None else ""
    return f"{left.item} ({left.kind}): {until}{left.reason}"


def left_out_groups(account: AccountPreview) -> list[tuple[str, list[str]]]:
    """The account's waiting, expired and skipped items, each group only when it has any."""
    groups = [("waiting", account.waiting), ("expired", account.expired),
              ("skipped", account.skipped)]  # fmt: skip
    found = [(name, [left_out_text(left) for left in items]) for name, items in groups if items]
    if account.unlisted:
        found.append(
            ("not named", [f"{account.unlisted} more pitches or dated items the plan left out"])
        )
    return found


def runway_text(runway: Runway) -> str:
    """``"help: 12 items, 3 a week → lasts ~4 weeks"``; ``"… → runs dry on Thu"``."""
    head = f"{runway.kind}: {_count(runway.available, 'item')}"
    if runway.lasts_days is None:
        return f"{head}, not used this week"
    head += f", {runway.planned_this_week} a week → "
    if runway.runs_dry_on is not None:
        return head + f"runs dry on {runway.runs_dry_on}"
    return head + f"lasts ~{_count(runway.lasts_days // 7, 'week')}"


def empty_text(account: AccountPreview) -> str:
    if not account.empty:
        return "none"
    return f"{len(account.empty)}: " + ", ".join(when_text(row.local) for row in account.empty)


def scope_note(account: AccountPreview) -> str:
    return " (brand-wide: every account's posts count)" if account.scope == "brand" else ""


def _local(account: AccountPreview, at: datetime) -> datetime:
    return at.astimezone(ZoneInfo(account.timezone))


def _count(amount: float, unit: str) -> str:
    return f"{amount:g} {unit}" if amount == 1 else f"{amount:g} {unit}s"


# --- cells shared by the terminal table and the calendar -----------------------------------


def media_marker(row: SlotRow) -> str:
    """``[image]`` or ``[3 images]`` for a post with images, else empty."""
    count = len(row.media)
    if not count:
        return ""
    return "[image]" if count == 1 else f"[{count} images]"


def kind_cell(row: SlotRow) -> str:
    if row.status == EMPTY:
        return f"({row.label})" if row.label else "-"
    return row.kind or "-"


# --- Markdown -------------------------------------------------------------------------------


def format_markdown(preview: Preview) -> str:
    """A ``## account`` section per account: a table of the slots, the summary as bullets."""
    parts = [f"# Planner preview {preview.label}", ""]
    for account in preview.accounts:
        parts += _account_markdown(account)
    return "\n".join(parts).rstrip() + "\n"


def _account_markdown(account: AccountPreview) -> list[str]:
    lines = [
        f"## {_md_inline(account.account)}",
        "",
        f"{account.network} · {account.timezone} · rule {rule_text(account.settings)}"
        f"{scope_note(account)}",
        "",
        "| Day | Time | Kind | Class | Text | Why |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for day in account.days:
        for index, row in enumerate(day.rows):
            day_cell = f"{day.weekday} {day.date:%Y-%m-%d}" if index == 0 else ""
            class_cell = (row.class_ or "") + (" (forced)" if row.forced else "")
            why = row.why
            if row.status not in (EMPTY, "planned"):
                why = f"**{row.status}** · {why}"
            why += f" · share after: {share_text(row.pitch_share)}"
            text = row.text or ""
            for image in row.media:  # the alt text is what a reader of the table can see
                text += f" [image: {image.alt or 'no alt text'}]"
            cells = [day_cell, f"{row.local:%H:%M}", kind_cell(row), class_cell, text, why]
            lines.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    lines += [
        "",
        f"- **Give:pitch**: {mix_text(account)}",
        f"- **Windows**: {window_text(account)}",
        "- **Held**: none" if not account.held else "- **Held**:",
    ]
    lines += [f"  - {_md_inline(' → '.join(held_text(account, held)))}" for held in account.held]
    for name, entries in left_out_groups(account):
        lines.append(f"- **{name.capitalize()}**:")
        lines += [f"  - {_md_inline(entry)}" for entry in entries]
    lines.append(f"- **Empty slots**: {empty_text(account)}")
    lines.append("- **Runway**:")
    lines += [f"  - {_md_inline(runway_text(runway))}" for runway in account.runway]
    if account.problems:
        lines.append("- **Problems**:")
        lines += [f"  - {_md_inline(problem)}" for problem in account.problems]
    if account.notes:
        lines.append("- **Notes**:")
        lines += [f"  - {_md_inline(note)}" for note in account.notes]
    lines.append("")
    return lines


def _md_cell(text: str) -> str:
    """A table cell: every ``|`` escaped, so a text cannot end its cell or add one."""
    return _md_inline(text).replace("|", "\\|")


def _md_inline(text: str) -> str:
    """A text on one line that Markdown shows as written: raw HTML in it (``<script>``,
    ``<img onerror=…>``, ``<!-- -->``, ``<https://…>``) comes out as text, never as markup or
    a link, and so do entities. Only a ``<`` that could open one is escaped, so "<= 33 %"
    and "40 % > 33 %" stay readable in the file."""
    return _TAG_START.sub("&lt;", _ENTITY.sub("&amp;", one_line(text)))
