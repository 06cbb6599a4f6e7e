"""``planner preview`` for a terminal: the week as lines that fit its width, drawn with ``rich``.

Per account a header, one line per slot grouped by day (with the reason beneath), then the
summary. Widths are display widths (``rich``'s cell lengths): a CJK character or an emoji
takes two columns, a combining mark none, so no line is wider than ``width``; a post text is
shortened to its column with an ellipsis, by display width too.

With ``color`` the class is coloured (give green, pitch yellow), so are forced posts (red),
held items (magenta) and empty slots (dim), and a legend line says so under the rule. Without
it the lines are plain text, no escape code at all. Control characters in texts are shown as
escapes (:func:`planner.text.visible`) before anything is styled, so the only escape codes
in the output are the colours asked for.

``rich`` is imported here and only here among the preview's modules: the command imports this
module when it prints a table, so ``planner --help`` never loads it.
"""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from planner.reports.preview.formats import (
    empty_text,
    held_text,
    kind_cell,
    left_out_groups,
    mix_text,
    rule_text,
    runway_text,
    scope_note,
    window_text,
)
from planner.reports.preview.model import EMPTY, AccountPreview, Preview, SlotRow, share_text
from planner.text import one_line

TABLE_WIDTH = 100  # when the output is not a terminal and COLUMNS is not set
MIN_TEXT = 8  # columns the post text keeps, however narrow the terminal
STYLES = {
    "give": "green",
    "pitch": "yellow",
    "forced": "bold red",
    "held": "magenta",
    "empty": "dim",
}


def render_table(preview: Preview, width: int = TABLE_WIDTH, *, color: bool = False) -> str:
    """The report as text for a terminal ``width`` columns wide, ending in a newline; with
    ANSI colours when ``color``, else plain."""
    console = Console(
        file=io.StringIO(),
        width=max(width, 1),
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,  # the lines are cut to the width here, never by the console
        legacy_windows=False,
    )
    if not preview.accounts:
        console.print(Text(f"{preview.label}: no accounts configured"))
    for index, account in enumerate(preview.accounts):
        if index:
            console.print()
        for line in _account_lines(account, preview.label, width, console, color):
            console.print(line)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def _account_lines(
    account: AccountPreview, label: str, width: int, console: Console, color: bool
) -> list[Text]:
    zone = ZoneInfo(account.timezone)
    monday = account.start.astimezone(zone).date()
    sunday = (account.end - timedelta(days=1)).astimezone(zone).date()
    head = (
        f"{account.account} · {account.network} · {account.timezone} · {label}: "
        f"Mon {monday:%Y-%m-%d} to Sun {sunday:%Y-%m-%d}"
    )
    lines = _wrap(head, width, "", "  ", console)
    rule = f"rule: {rule_text(account.settings)}{scope_note(account)}"
    lines += _wrap(rule, width, "", "      ", console)
    if color:
        lines.append(_legend())
    lines.append(Text())
    lines += _slot_lines(account, width, console)
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
                lines += _wrap(words, width, first, hanging, console, style)
    return lines


def _legend() -> Text:
    legend = Text("colours: ")
    for index, name in enumerate(("give", "pitch", "forced", "held", "empty")):
        legend.append(", " if index else "")
        legend.append(name, style=STYLES[name])
    return legend


def _held_entry(account: AccountPreview, index: int) -> str:
    reason, fit = held_text(account, account.held[index])
    return f"{reason}\n→ {fit}"


def _slot_lines(account: AccountPreview, width: int, console: Console) -> list[Text]:
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
            line.append_text(_cell(kind_cell(row), kind_w, style))
            line.append("  ")
            line.append_text(_cell(row.class_ or "-", class_w, style))
            line.append("  ")
            forced = STYLES["forced"] if row.forced else ""
            line.append_text(_cell(_status_cell(row), status_w, forced))
            line.append("  ")
            share = Text(share_text(row.pitch_share))
            share.align("right", share_w)
            line.append_text(share)
            if row.text is not None:
                line.append("  ")
                line.append_text(_shorten(Text(one_line(row.text)), text_w))
            line.rstrip()
            lines.append(_fit(line, width))
            lines += _wrap(f"why: {row.why or '-'}", width, indent, indent + "     ", console)
    return lines


def _class_style(row: SlotRow) -> str:
    if row.status == EMPTY:
        return STYLES["empty"]
    if row.class_ and row.class_.startswith("pitch"):
        return STYLES["pitch"]
    return STYLES["give"] if row.class_ else ""


def _status_cell(row: SlotRow) -> str:
    return f"{row.status} (forced)" if row.forced else row.status


def _cell(value: str, width: int, style: str) -> Text:
    """``value`` on one line, padded or cut (with an ellipsis) to ``width`` columns."""
    cell = _shorten(Text(one_line(value), style=style), width)
    cell.align("left", width)
    return cell


def _shorten(text: Text, width: int) -> Text:
    """``text`` cut to ``width`` columns with an ellipsis when wider (no space before it, even
    where a wide character did not fit)."""
    if text.cell_len <= width:
        return text
    text.truncate(max(width - 1, 0))
    text.rstrip()
    text.append("…")
    return text


def _fit(line: Text, width: int) -> Text:
    """A line no wider than ``width`` (columns wider than a very narrow terminal are cut)."""
    return _shorten(line, width)


def _wrap(
    text: str, width: int, first: str, rest: str, console: Console, style: str = ""
) -> list[Text]:
    """``text`` on one line, wrapped at word boundaries to ``width`` display columns: the
    first line after ``first``, the others after ``rest`` (a word too long is broken)."""
    body = Text(one_line(text), style=style)
    room = max(width - max(cell_len(first), cell_len(rest)), 1)
    wrapped = body.wrap(console, room, overflow="fold")
    lines = []
    for index, part in enumerate(wrapped):
        part.rstrip()
        line = Text(first if index == 0 else rest)
        line.append_text(part)
        lines.append(_fit(line, width))
    return lines or [Text(first.rstrip())]
