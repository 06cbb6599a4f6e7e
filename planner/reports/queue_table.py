"""``planner queue list`` for a terminal: one line per item, as wide as the terminal.

Drawn with the helpers of :mod:`planner.reports.terminal`: display widths (no line wider than
``width``), the text (or title) shortened to the rest of the line with an ellipsis, an ID
longer than its column shortened the same way. With ``color`` the class is coloured (give
green, pitch yellow), held items magenta and flagged or failed ones red.

The rows are the JSON rows of ``queue list --json`` (``id``, ``kind``, ``class``, ``status``,
``priority``, ``accounts``, ``title``, ``text``), so the table and the document agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planner.reports.terminal import STYLES, Text, cell, cell_len, fit, legend, render, shorten
from planner.text import one_line

ID_WIDTH = 28
ACCOUNTS_WIDTH = 14
MIN_TEXT = 8
TEXT_ROOM = 24  # columns the text keeps before the ID column is narrowed


def render_items(rows: Sequence[Mapping[str, Any]], width: int, *, color: bool = False) -> str:
    """The header, a line per row, then the count; ``no items`` when there are none."""
    if not rows:
        return render([Text("no items")], width, color=color)
    kind_w = max(4, *(cell_len(one_line(row["kind"])) for row in rows))
    accounts = [",".join(row["accounts"]) or "all" for row in rows]
    accounts_w = min(ACCOUNTS_WIDTH, max(8, *(cell_len(one_line(a)) for a in accounts)))
    fixed = 1 + kind_w + 1 + 5 + 1 + 9 + 1 + 3 + 2 + accounts_w + 1
    id_w = min(ID_WIDTH, max(2, *(cell_len(one_line(row["id"])) for row in rows)))
    id_w = max(8, min(id_w, width - fixed - TEXT_ROOM))
    text_w = max(MIN_TEXT, width - fixed - id_w)
    lines = []
    if color:
        lines.append(legend("give", "pitch", "held", "failed"))
    lines.append(
        fit(
            Text(
                f"{'ID':<{id_w}} {'KIND':<{kind_w}} {'CLASS':<5} {'STATUS':<9} {'PRI':>3}  "
                f"{'ACCOUNTS':<{accounts_w}} TEXT"
            ),
            width,
        )
    )
    for row, where in zip(rows, accounts, strict=True):
        line = Text()
        for value, column_w, style, right, gap in (
            (row["id"], id_w, "", False, " "),
            (row["kind"], kind_w, "", False, " "),
            (row["class"], 5, _class_style(row["class"]), False, " "),
            (row["status"], 9, _status_style(row["status"]), False, " "),
            (str(row["priority"]), 3, "", True, "  "),
            (where, accounts_w, "", False, " "),
        ):
            line.append_text(cell(value, column_w, style, right=right))
            line.append(gap)
        line.append_text(shorten(row["title"] or row["text"] or "", text_w))
        lines.append(fit(line, width))
    lines += [Text(), Text(f"{len(rows)} item(s)")]
    return render(lines, width, color=color)


def _class_style(class_: str) -> str:
    return STYLES.get(class_, "")


def _status_style(status: str) -> str:
    if status == "held":
        return STYLES["held"]
    return STYLES["failed"] if status in ("flagged", "failed") else ""
