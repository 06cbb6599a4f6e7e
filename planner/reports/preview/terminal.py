"""``planner preview`` for a terminal: the week as lines that fit its width.

Per account a header, one line per slot grouped by day (with the reason beneath), then the
summary, drawn with the helpers of :mod:`planner.reports.terminal` (display widths, so no
line is wider than ``width``; a post text is shortened to its column with an ellipsis).
With ``color`` the class is coloured (give green, pitch yellow), so are forced posts (red),
held items (magenta) and empty slots (dim), and a legend line says so under the rule.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from planner.reports.preview.formats import (
    empty_text,
    held_text,
    kind_cell,
    left_out_groups,
    media_marker,
    mix_text,
    rule_text,
    runway_text,
    scope_note,
    window_text,
)
from planner.reports.preview.model import EMPTY, AccountPreview, Preview, SlotRow, share_text
from planner.reports.terminal import STYLES, Text, cell, cell_len, fit, legend, render, shorten
from planner.reports.terminal import wrap as wrap_text
from planner.text import one_line

MIN_TEXT = 8  # columns the post text keeps, however narrow the terminal


def render_table(preview: Preview, width: int, *, color: bool = False) -> str:
    """The report as text for a terminal ``width`` columns wide, ending in a newline; with
    ANSI colours when ``color``, else plain."""
    if not preview.accounts:
        return render([Text(f"{preview.label}: no accounts configured")], width, color=color)
    lines: list[Text] = []
    for index, account in enumerate(preview.accounts):
        if index:
            lines.append(Text())
        lines += _account_lines(account, preview.label, width, color)
    return render(lines, width, color=color)


def _account_lines(account: AccountPreview, label: str, width: int, color: bool) -> list[Text]:
    zone = ZoneInfo(account.timezone)
    monday = account.start.astimezone(zone).date()
    sunday = (account.end - timedelta(days=1)).astimezone(zone).date()
    head = (
        f"{account.account} · {account.network} · {account.timezone} · {label}: "
        f"Mon {monday:%Y-%m-%d} to Sun {sunday:%Y-%m-%d}"
    )
    lines = wrap_text(head, width, "", "  ")
    rule = f"rule: {rule_text(account.settings)}{scope_note(account)}"
    lines += wrap_text(rule, width, "", "      ")
    if color:
        lines.append(legend("give", "pitch", "forced", "held", "empty"))
    lines.append(Text())
    lines += _slot_lines(account, width)
    lines += [Text(), Text("summary")]
    held = [_held_entry(account, index) for index in range(len(account.held))]
    summary: list[tuple[str, list[str], str]] = [
        ("give:pitch", [mix_text(account)], ""),
        ("windows", [window_text(account)], ""),
        ("held", held or ["none"], STYLES["held"] if held else ""),
        *((name, entries, "") for name, entries in left_out_groups(account)),
        ("empty", [empty_text(account)], ""),
        ("runway", [runway_text(runway) for runway in account.runway], ""),
    ]
    if account.problems:
        summary.append(("problems", account.problems, ""))
    if account.notes:
        summary.append(("notes", account.notes, ""))
    for title, entries, style in summary:
        for index, entry in enumerate(entries):
            head = f"  {title if index == 0 else '':<11} "
            hanging = " " * (len(head) + 2)
            for part, words in enumerate(entry.split("\n")):
                first = head if part == 0 else hanging
                lines += wrap_text(words, width, first, hanging, style)
    return lines


def _held_entry(account: AccountPreview, index: int) -> str:
    reason, next_fit = held_text(account, account.held[index])
    return f"{reason}\n→ {next_fit}"


def _slot_lines(account: AccountPreview, width: int) -> list[Text]:
    """A column header, then per day its name and one line per slot, each with its reason."""
    rows = [row for day in account.days for row in day.rows]
    kind_w = max([4, *(cell_len(one_line(kind_cell(row))) for row in rows)])
    class_w = max([5, *(cell_len(one_line(row.class_ or "-")) for row in rows)])
    status_w = max([6, *(cell_len(_status_cell(row)) for row in rows)])
    share_w = max([5, *(cell_len(share_text(row.pitch_share)) for row in rows)])
    used = 2 + 5 + 2 + kind_w + 2 + class_w + 2 + status_w + 2 + share_w + 2
    text_w = max(MIN_TEXT, width - used)
    indent = " " * 9
    lines = [
        Text(
            f"  {'time':<5}  {'kind':<{kind_w}}  {'class':<{class_w}}  {'status':<{status_w}}"
            f"  {'share':>{share_w}}  text"
        )
    ]
    for day in account.days:
        lines += [Text(), Text(f"{day.weekday} {day.date:%Y-%m-%d}")]
        for row in day.rows:
            style = _class_style(row)
            line = Text("  ")
            line.append(f"{row.local:%H:%M}")
            line.append("  ")
            line.append_text(cell(kind_cell(row), kind_w, style))
            line.append("  ")
            line.append_text(cell(row.class_ or "-", class_w, style))
            line.append("  ")
            forced = STYLES["forced"] if row.forced else ""
            line.append_text(cell(_status_cell(row), status_w, forced))
            line.append("  ")
            share = Text(share_text(row.pitch_share))
            share.align("right", share_w)
            line.append_text(share)
            if row.text is not None:
                line.append("  ")
                marker = media_marker(row)  # first: a long text is cut, the marker stays
                line.append_text(shorten(f"{marker} {row.text}" if marker else row.text, text_w))
            line.rstrip()
            lines.append(fit(line, width))
            lines += wrap_text(f"why: {row.why or '-'}", width, indent, indent + "     ")
    return lines


def _class_style(row: SlotRow) -> str:
    if row.status == EMPTY:
        return STYLES["empty"]
    if row.class_ and row.class_.startswith("pitch"):
        return STYLES["pitch"]
    return STYLES["give"] if row.class_ else ""


def _status_cell(row: SlotRow) -> str:
    return f"{row.status} (forced)" if row.forced else row.status
