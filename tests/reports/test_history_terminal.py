"""``planner history`` on a terminal: no line wider than it, however wide the texts' characters.

A history made by hand (plain values) with CJK, emoji, combining marks, control characters
and a very long URL, drawn at 80 and 120 columns, measured as a terminal does.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len

from planner.reports.history.read import AccountHistory, History, Period, PublishedPost
from planner.reports.history.terminal import render_table
from planner.reports.preview.model import Share
from planner.rule.balancer import BalanceSettings

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TEXTS = [
    "日本語のテキストはターミナルで二列ずつ使います。" * 3,
    "😀🎉👩‍👩‍👧 emoji " + "🚀" * 60,
    "combining: e\u0301e\u0301e\u0301 " * 12,
    "\x1b[2J\x1b]0;pwned\x07 한국어 텍스트도 넓습니다 " * 4,
]
START = datetime(2026, 12, 7, 8, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Tokyo")


def _history() -> History:
    posts = [
        PublishedPost(
            id=index + 1,
            account="東京アカウント",
            published_at=START + timedelta(days=index),
            local=(START + timedelta(days=index)).astimezone(ZONE),
            kind="promo" if index == 1 else "help",
            class_="pitch" if index == 1 else "give",
            forced=index == 1,
            item=f"項目-{index}-" + "x" * 40,
            remote_id=str(index),
            remote_url=f"https://net.example/{index}/" + "path/" * 40,
            text=text,
        )
        for index, text in enumerate(TEXTS)
    ]
    week = Period(
        label="2026-W50",
        first=date(2026, 12, 7),
        last=date(2026, 12, 13),
        give=3,
        pitch=1,
        forced=1,
        max_window=Share(1, 2, "6 posts"),
        max_window_at=START + timedelta(days=1),
        within_rule=False,
    )
    account = AccountHistory(
        account="東京アカウント",
        network="outbox",
        timezone="Asia/Tokyo",
        settings=BalanceSettings(Fraction(1, 3), 6, 7, 0),
        periods=[week],
        total=week,
    )
    return History(
        since=date(2026, 12, 7),
        until=date(2026, 12, 13),
        by="week",
        generated_at=START + timedelta(days=7),
        posts=posts,
        accounts=[account],
    )


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("color", [False, True])
def test_no_line_is_wider_than_the_terminal(width: int, color: bool) -> None:
    table = render_table(_history(), width, color=color)
    lines = ANSI.sub("", table).splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "\\x1b[2J" in table and "\x1b[2J" not in table  # shown, not obeyed
    assert ("\x1b[" in table) is color
    rows = [line for line in lines if line.startswith("  Mon ") or line.startswith("  Tue ")]
    assert rows and all(row.endswith("…") for row in rows)  # texts shortened to fit
    # The URLs are whole, broken across lines only.
    joined = "".join(line.strip() for line in lines if line.startswith(" " * 24))
    assert "https://net.example/3/" + "path/" * 40 in joined
    assert "BROKEN at" in ANSI.sub("", table)
