"""``planner history`` for a terminal: the listing and each account's periods, as wide as it.

Drawn with the helpers of :mod:`planner.reports.terminal`: display widths (no line wider than
``width``), post texts shortened to the rest of the line with an ellipsis, URLs in full
beneath (broken across lines only when wider than the terminal). With ``color`` the class is
coloured (give green, pitch yellow, forced red) and so is a period that broke the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from planner.reports.history.formats import TIME_WIDTH, class_cell, dates, plural, when
from planner.reports.history.read import AccountHistory, History, Period, PublishedPost
from planner.reports.preview.formats import rule_text
from planner.reports.preview.model import share_text
from planner.reports.terminal import (
    STYLES,
    Text,
    cell,
    cell_len,
    class_style,
    fit,
    legend,
    render,
    shorten,
)
from planner.reports.terminal import wrap as wrap_text
from planner.text import one_line

ITEM_WIDTH = 28  # columns an item id gets at most
MIN_TEXT = 8
TEXT_ROOM = 24  # columns the text keeps before the item column is narrowed


def render_table(history: History, width: int, *, color: bool = False) -> str:
    """The listing (texts shortened, URLs in full beneath), then each account's periods."""
    days = (history.until - history.since).days + 1
    lines = wrap_text(
        f"published {history.since} to {history.until} ({days} days): "
        f"{plural(len(history.posts), 'post')}",
        width,
    )
    if color and history.posts:
        lines.append(legend("give", "pitch", "forced", "broken"))
    if history.posts:
        lines += [Text(), *_post_lines(history.posts, width)]
    for account in history.accounts:
        lines += [Text(), *_account_lines(account, width)]
    return render(lines, width, color=color)


def _post_lines(posts: Sequence[PublishedPost], width: int) -> list[Text]:
    account_w = max(7, *(cell_len(one_line(post.account)) for post in posts))
    kind_w = max(4, *(cell_len(one_line(post.kind)) for post in posts))
    class_w = max(5, *(cell_len(class_cell(post)) for post in posts))
    fixed = 2 + TIME_WIDTH + 2 + account_w + 2 + kind_w + 2 + class_w + 2
    # The item column gives way first (down to 4 columns), so the text keeps some room.
    item_w = min(ITEM_WIDTH, max(4, *(cell_len(one_line(post.item)) for post in posts)))
    item_w = max(4, min(item_w, width - fixed - 2 - TEXT_ROOM))
    text_w = max(MIN_TEXT, width - fixed - item_w - 2)
    lines = [
        fit(
            Text(
                f"  {'time (local)':<{TIME_WIDTH}}  {'account':<{account_w}}  "
                f"{'kind':<{kind_w}}  {'class':<{class_w}}  {'item':<{item_w}}  text"
            ),
            width,
        )
    ]
    indent = " " * (2 + TIME_WIDTH + 2)
    for post in posts:
        style = class_style(post.class_, post.forced)
        line = Text("  ")
        for value, column_w, column_style in (
            (when(post.local), TIME_WIDTH, ""),
            (post.account, account_w, ""),
            (post.kind, kind_w, style),
            (class_cell(post), class_w, style),
            (post.item, item_w, ""),
        ):
            line.append_text(cell(value, column_w, column_style))
            line.append("  ")
        line.append_text(shorten(post.text or "", text_w))
        lines.append(fit(line, width))
        if post.remote_url:
            lines += _url_lines(post.remote_url, width, indent)
    return lines


def _url_lines(url: str, width: int, indent: str) -> list[Text]:
    """A URL in full: broken into pieces of the room left, never shortened."""
    url = one_line(url)
    room = max(width - len(indent), 1)
    pieces, line = [], Text(indent)
    for character in url:
        if line.cell_len + cell_len(character) > len(indent) + room and line.plain.strip():
            pieces.append(line)
            line = Text(indent)
        line.append(character)
    pieces.append(line)
    return [fit(piece, width) for piece in pieces]


def _account_lines(account: AccountHistory, width: int) -> list[Text]:
    header = ["period", "dates", "give", "pitch", "pitch share", "highest window", "rule"]
    rows = [
        [
            period.label,
            dates(period),
            str(period.give),
            str(period.pitch),
            share_text(period.share) if period.share.total else "no posts",
            share_text(period.max_window) if period.max_window_at else "no pitch",
            _verdict(period, account),
        ]
        for period in [*account.periods, account.total]
    ]
    broken = [not period.within_rule for period in [*account.periods, account.total]]
    widths = [max(cell_len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3}  # counts read best right-aligned

    def line(cells: Sequence[str], style: str = "") -> list[Text]:
        """One row; its last cell (the verdict) wraps beneath itself when the row is too wide."""
        text = Text("  ")
        for index, value in enumerate(cells[:-1]):
            text.append_text(cell(value, widths[index], right=index in right))
            text.append("  ")
        room = width - text.cell_len
        if cell_len(cells[-1]) > room < TEXT_ROOM:  # too narrow beside the others: beneath
            return [fit(text, width), *wrap_text(cells[-1], width, "    ", "    ", style)]
        parts = wrap_text(cells[-1], room, style=style)
        rows = [text + parts[0]]
        rows += [Text(" " * text.cell_len) + part for part in parts[1:]]
        return [fit(row, width) for row in rows]

    lines = wrap_text(f"{account.account} · {account.network} · {account.timezone}", width)
    lines += wrap_text(f"rule: {rule_text(account.settings)}", width, "", "      ")
    lines += line(header)
    for row, is_broken in zip(rows, broken, strict=True):
        lines += line(row, STYLES["broken"] if is_broken else "")
    return lines


def _verdict(period: Period, account: AccountHistory) -> str:
    if period.max_window_at is None:
        text = "within"
    else:
        local = period.max_window_at.astimezone(ZoneInfo(account.timezone))
        text = "within" if period.within_rule else f"BROKEN at {when(local)}"
    if period.forced:
        text += f" ({period.forced} forced)"
    return text
