"""What the reports print cannot be turned against the person reading them.

Queue texts (and a network's answers) may hold raw HTML, table pipes, terminal escape
sequences and Unicode line separators. The Markdown preview shows raw HTML as text and keeps
its table whole; the iCalendar file holds no control character (RFC 5545), read back with
the ``icalendar`` library; every terminal report (the preview table, ``queue list``,
``status``, ``history``, ``simulate``) shows control characters as visible escapes; the JSON
documents still carry the texts exactly. On SQLite and PostgreSQL (``db_url``).

The hostile texts are written into the database after planning, as a feed or ``queue add``
could bring them, so these tests do not depend on what queue files accept.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from planner.cli import main
from planner.config.settings import Config
from planner.store.database import open_database
from planner.store.models import Item, Post, PostStatus

from support.preview_weeks import NOW, solo, sync_and_plan

ESCAPES = "\x1b[2J\x1b]0;pwned\x07 \x9b31m \u202eevil\u202c \x7f"
HTML = "<script>alert(1)</script> | <img src=x onerror=alert(1)> &lt;b&gt; a|b"
SEPARATORS = "one\u2028two\u2029three\u0085four\rfive"
HOSTILE = f"{HTML} {ESCAPES} {SEPARATORS}"
# What no terminal report may print: C0 controls but the newline, DEL, C1, the Unicode line
# and paragraph separators and the bidirectional controls.
LIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MON = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Mon 7 Dec 09:00 in Berlin: tip-a's slot
LATER = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)


def cli(config: Config, *args: str, at: datetime = NOW) -> Result:
    with time_machine.travel(at, tick=False):
        return CliRunner().invoke(main, ["--config", str(config.path), *args])


@pytest.fixture
def week(tmp_path: Path, db_url: str) -> Config:
    """The solo week, planned; then tip-b's texts made hostile, tip-a published with a hostile
    URL, tip-c failed and promo-a retrying, both with hostile reasons."""
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            item_text = f"{ESCAPES} {HTML}"  # the escapes first: the list shortens texts
            session.execute(update(Item).where(Item.id == "tip-b").values(text=item_text))
            session.execute(update(Post).where(Post.item_id == "tip-b").values(text=HOSTILE))
            session.execute(
                update(Post)
                .where(Post.item_id == "tip-a")
                .values(
                    status=PostStatus.PUBLISHED,
                    published_at=MON,
                    remote_url=f"https://net.example/1?{ESCAPES}",
                )
            )
            stale = MON + timedelta(minutes=5)  # the retry time it had before it failed
            session.execute(
                update(Post)
                .where(Post.item_id == "tip-c")
                .values(status=PostStatus.FAILED, next_attempt_at=stale, reason=f"422 {ESCAPES}")
            )
            session.execute(
                update(Post)
                .where(Post.item_id == "promo-a")
                .values(status=PostStatus.RETRY, next_attempt_at=LATER, reason=f"503 {ESCAPES}")
            )
    finally:
        db.dispose()
    return config


def assert_nothing_live(output: str) -> None:
    assert LIVE.findall(output) == []
    assert "\\x1b[2J" in output  # shown, not obeyed


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_shows_raw_html_as_text_and_keeps_its_table_whole(week: Config) -> None:
    result = cli(week, "preview", "--week", "2026-W50", "--format", "markdown")
    assert result.exit_code == 0, result.output
    markdown = result.stdout
    for tag in ("<script", "</script", "<img"):
        assert tag not in markdown
    assert "&lt;script>alert(1)&lt;/script>" in markdown
    assert "&lt;img src=x onerror=alert(1)>" in markdown
    assert "&amp;lt;b&amp;gt;" in markdown  # an entity in the text stays text too
    assert_nothing_live(markdown)
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    header = table[0]
    for row in table:  # a cell ends only at an unescaped pipe: every row has six cells
        assert len(re.split(r"(?<!\\)\|", row)) == len(re.split(r"(?<!\\)\|", header)) == 8
    tip_b = next(row for row in table if "alert" in row)
    assert "\\| &lt;img" in tip_b and "a\\|b" in tip_b


# --- iCalendar ------------------------------------------------------------------------------


def test_ics_holds_no_control_character_and_reads_back_with_the_text(week: Config) -> None:
    result = cli(week, "preview", "--week", "2026-W50", "--format", "ics")
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes.decode("utf-8")
    values = raw.replace("\r\n ", "").split("\r\n")  # unfolded content lines
    for line in values:
        assert re.findall("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]", line) == [], line
    events = list(icalendar.Calendar.from_ical(result.stdout_bytes).walk("VEVENT"))
    assert len(events) == 5
    description = next(str(e["DESCRIPTION"]) for e in events if "alert" in str(e["DESCRIPTION"]))
    text = description.split("\nWhy: ")[0]
    # The separators became line breaks; the control characters are gone (the bidirectional
    # marks are not control characters: right-to-left texts need them).
    assert text == f"{HTML} [2J]0;pwned 31m \u202eevil\u202c  one\ntwo\nthree\nfour\nfive"
    summary = next(str(e["SUMMARY"]) for e in events if "alert" in str(e["SUMMARY"]))
    assert summary.startswith("solo: help · <script>alert(1)</script> | <img")


# --- the terminal ---------------------------------------------------------------------------


def test_the_preview_table_shows_control_characters_as_escapes(week: Config) -> None:
    result = cli(week, "preview", "--week", "2026-W50")
    assert result.exit_code == 0, result.output
    assert_nothing_live(result.stdout)


def test_queue_list_shows_control_characters_as_escapes(week: Config) -> None:
    result = cli(week, "queue", "list")
    assert result.exit_code == 0, result.output
    assert_nothing_live(result.stdout)
    line = next(line for line in result.stdout.splitlines() if line.startswith("tip-b"))
    # Shortened to the rest of the 100 columns, escapes and all (the columns as wide as needed).
    assert line.endswith("all      \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m \\u202eevil\\u202c \\x7f…")
    assert len(line) <= 100


def test_status_shows_escapes_and_a_next_retry_only_for_a_post_in_retry(week: Config) -> None:
    result = cli(week, "status", at=MON + timedelta(hours=1))
    assert result.exit_code == 0, result.output
    assert_nothing_live(result.stdout)
    lines = result.stdout.splitlines()
    failed = next(line for line in lines if "422" in line)
    retrying = next(line for line in lines if "503" in line)
    assert " next " not in failed
    # Times in the account's own zone (named once, on the account's line), not UTC.
    assert "solo (outbox, times in Europe/Berlin)" in lines
    assert " next Mon 2026-12-14 13:00: 503 \\x1b[2J" in retrying  # 12:00 UTC
    report = json.loads(cli(week, "status", "--json", at=MON + timedelta(hours=1)).stdout)
    assert [row["next_attempt_at"] for row in report["failed"]] == [None]
    assert [row["next_attempt_at"] for row in report["retrying"]] == [LATER.isoformat()]
    assert report["failed"][0]["reason"] == f"422 {ESCAPES}"  # JSON keeps the text exactly


def test_history_shows_escapes_in_texts_and_urls(week: Config) -> None:
    result = cli(week, "history", "--since", "2026-12-07", "--until", "2026-12-13", at=LATER)
    assert result.exit_code == 0, result.output
    assert_nothing_live(result.stdout)
    assert "https://net.example/1?\\x1b[2J" in result.stdout


def test_simulate_shows_escapes_in_texts(week: Config) -> None:
    result = cli(week, "simulate", "--week", "2026-W50")
    assert result.exit_code == 0, result.output
    assert LIVE.findall(result.stdout) == []
    assert "alert(1)" in result.stdout and "\\x1b" in result.stdout


# --- JSON stays exact -----------------------------------------------------------------------


def test_preview_json_carries_the_hostile_text_exactly(week: Config) -> None:
    result = cli(week, "preview", "--week", "2026-W50", "--format", "json")
    assert result.exit_code == 0, result.output
    assert LIVE.findall(result.stdout.replace("\n", "")) == []  # JSON escapes them itself
    slots = [
        slot for day in json.loads(result.stdout)["accounts"][0]["days"] for slot in day["slots"]
    ]
    assert next(slot["text"] for slot in slots if slot["item"] == "tip-b") == HOSTILE


def test_the_database_kept_the_text_exactly(week: Config) -> None:
    db = open_database(week.database_url)
    try:
        with db.transaction() as session:
            assert session.scalar(select(Post.text).where(Post.item_id == "tip-b")) == HOSTILE
    finally:
        db.dispose()
