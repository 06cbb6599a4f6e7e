"""Every table on a real terminal (a pseudo-terminal) fits it, whatever the texts' characters.

The solo week, planned, then its texts made wide (CJK, emoji, combining marks) and hostile
(escape sequences); one post published, one failed. ``preview``, ``history``, ``simulate``,
``queue list`` and ``status`` run at 80 and 120 columns: no line is wider than the terminal
(measured as it measures, ``rich``'s cell length), colours are there, the user's escape
sequences are not. Piped, or with ``NO_COLOR``, there is no escape code at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from rich.cells import cell_len
from sqlalchemy import update

from planner.cli import main
from planner.config.settings import Config
from planner.store.database import open_database
from planner.store.models import Item, Post, PostStatus

from support.preview_weeks import NOW, solo, sync_and_plan
from support.terminal import run_on_terminal

WIDE = {
    "tip-a": "日本語のテキストはターミナルで二列ずつ使います。" * 3,
    "tip-b": "😀🎉👩‍👩‍👧 emoji everywhere " + "🚀" * 50,
    "tip-c": "combining: e\u0301e\u0301e\u0301 " * 12 + "\x1b[2J\x1b]0;pwned\x07",
    "promo-a": "한국어 텍스트도 넓습니다 " * 8,
}
MON = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COMMANDS = {
    "preview": (["preview", "--week", "2026-W50"], NOW),
    "history": (["history", "--since", "2026-12-07", "--until", "2026-12-13"], LATER),
    "simulate": (["simulate", "--week", "2026-W50"], NOW),
    "queue list": (["queue", "list"], NOW),
    "status": (["status"], MON + timedelta(hours=1)),
}


@pytest.fixture
def week(tmp_path: Path) -> Config:
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            for item, text in WIDE.items():
                session.execute(update(Item).where(Item.id == item).values(text=text))
                session.execute(update(Post).where(Post.item_id == item).values(text=text))
            session.execute(
                update(Post)
                .where(Post.item_id == "tip-a")
                .values(
                    status=PostStatus.PUBLISHED,
                    published_at=MON,
                    remote_url="https://net.example/1/" + "长" * 60,
                )  # fmt: skip
            )
            session.execute(
                update(Post)
                .where(Post.item_id == "tip-c")
                .values(status=PostStatus.FAILED, reason="422 " + "説明" * 60)
            )
    finally:
        db.dispose()
    return config


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_table_fits_the_terminal(week: Config, command: str, columns: int) -> None:
    args, at = COMMANDS[command]
    shown = run_on_terminal(["--config", str(week.path), *args], at=at, columns=columns)
    plain = ANSI.sub("", shown)
    widest = max(plain.splitlines(), key=cell_len)
    assert cell_len(widest) <= columns, widest
    assert "\x1b[" in shown  # coloured on a terminal
    assert "\x1b[2J" not in shown and "\x1b]0" not in shown  # the texts' own codes never live


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_escape_code_when_piped_or_with_no_color(week: Config, command: str) -> None:
    args, at = COMMANDS[command]
    with time_machine.travel(at, tick=False):
        piped = CliRunner().invoke(main, ["--config", str(week.path), *args], color=True)
    assert piped.exit_code == 0, piped.output
    assert "\x1b" not in piped.stdout
    shown = run_on_terminal(
        ["--config", str(week.path), *args], at=at, columns=100, env={"NO_COLOR": "1"}
    )
    assert "\x1b" not in shown
