"""An account's own rule inherits what it leaves out from [balance]; `config check` shows it all.

The bug this guards against: `[accounts.NAME.balance] preset = "4-1-1"` silently dropped the
top-level days window and gap between pitches, and `config check` showed "last 6 posts".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.store.database import open_database
from planner.store.models import Post

CONFIG = """\
[balance]
give_to_pitch = "4:1"
window_posts = 12
window_days = 14
min_pitch_gap_hours = 48

[accounts.roast_x]
network = "outbox"
slots = ["mon-fri 09:00"]

[accounts.roast_m]
network = "outbox"
slots = ["mon-fri 09:00"]
[accounts.roast_m.balance]
preset = "4-1-1"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def check(tmp_path: Path, text: str, *args: str) -> Result:
    path = tmp_path / "planner.toml"
    path.write_text(text)
    return run("--config", str(path), "config", "check", *args)


def test_an_account_preset_keeps_the_top_level_days_window_and_gap(tmp_path: Path) -> None:
    result = check(tmp_path, CONFIG)
    assert result.exit_code == 0, result.output
    assert (
        "    balance preset 4-1-1: pitch <= 1/6 (16.7 %), last 6 posts and last 14 days, "
        "pitches >= 48 h apart, scope account (days window and gap from [balance])\n"
    ) in result.output
    assert (
        "    balance pitch <= 1/5 (20 %), last 12 posts and last 14 days, pitches >= 48 h apart, "
        "scope account (all from [balance])\n"
    ) in result.output

    report = json.loads(check(tmp_path, CONFIG, "--json").output)
    assert report["accounts"]["roast_m"]["balance"] == {
        "preset": "4-1-1",
        "max_pitch_share": "1/6",
        "max_pitch_percent": 16.7,
        "window_posts": 6,
        "window_days": 14,
        "min_pitch_gap_hours": 48,
        "scope": "account",
        "from_balance": ["window_days", "min_pitch_gap_hours"],
    }
    assert report["balance"]["scope"] == "account"
    assert "from_balance" not in report["balance"]


def test_what_an_account_sets_wins_and_a_zero_gap_is_shown_as_none(tmp_path: Path) -> None:
    text = CONFIG + "window_days = 3\nmin_pitch_gap_hours = 0\n"
    result = check(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert (
        "preset 4-1-1: pitch <= 1/6 (16.7 %), last 6 posts and last 3 days, "
        "no minimum gap between pitches, scope account\n"
    ) in result.output
    account = json.loads(check(tmp_path, text, "--json").output)["accounts"]["roast_m"]
    balance = account["balance"]
    assert (balance["window_days"], balance["min_pitch_gap_hours"]) == (3, None)
    assert balance["from_balance"] == []


def test_an_account_ratio_alone_keeps_the_top_level_windows(tmp_path: Path) -> None:
    text = CONFIG.replace('preset = "4-1-1"', 'give_to_pitch = "2:1"')
    balance = json.loads(check(tmp_path, text, "--json").output)["accounts"]["roast_m"]["balance"]
    assert (balance["max_pitch_share"], balance["window_posts"], balance["preset"]) == (
        "1/3",
        12,
        None,
    )
    assert balance["from_balance"] == ["window_posts", "window_days", "min_pitch_gap_hours"]


def test_a_top_level_preset_without_window_keys_has_no_days_window_or_gap(tmp_path: Path) -> None:
    text = '[balance]\npreset = "80/20"\n' + CONFIG.split("\n\n", 1)[1]
    result = check(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert (
        "  balance    preset 80/20: pitch <= 1/5 (20 %), last 10 posts and no days window, "
        "no minimum gap between pitches, scope account\n"
    ) in result.output


def test_scope_in_an_account_table_is_refused_with_its_line(tmp_path: Path) -> None:
    result = check(tmp_path, CONFIG + 'scope = "brand"\n')
    assert result.exit_code == 2
    assert "planner.toml:16: accounts.roast_m.balance.scope: scope is brand-wide" in result.output


def test_an_account_table_under_brand_scope_is_refused_not_ignored(tmp_path: Path) -> None:
    result = check(
        tmp_path, CONFIG.replace("window_posts = 12", 'window_posts = 12\nscope = "brand"')
    )
    assert result.exit_code == 2
    assert "planner.toml:15: accounts.roast_m.balance: not used: with [balance] scope" in (
        result.output
    )


def test_plan_keeps_the_top_level_gap_on_an_account_with_a_preset(workspace: Path) -> None:
    """The example account with a preset of its own: its pitches stay 72 h apart, as
    [balance] says, where the preset alone has no gap (Tue and Thu promo slots are 48 h)."""
    config = workspace / "planner.toml"
    text = config.read_text().replace("min_pitch_gap_hours = 24", "min_pitch_gap_hours = 72")
    config.write_text(text + '\n[accounts.main.balance]\npreset = "80/20"\n')
    with time_machine.travel(datetime(2026, 11, 26, tzinfo=UTC), tick=False):
        assert run("queue", "sync").exit_code == 0
        planned = run("plan", "--week", "2026-W50", "--weeks", "2")
        assert planned.exit_code == 0, planned.output
    db = open_database(load_config(config).database_url)
    try:
        with db.transaction() as session:
            query = select(Post.slot_at).where(Post.is_pitch).order_by(Post.slot_at)
            pitches = list(session.scalars(query))
    finally:
        db.dispose()
    assert len(pitches) >= 2  # enough pitches for the gap to matter
    assert all(later - earlier >= timedelta(hours=72) for earlier, later in pairwise(pitches))
