"""``planner preview``: the week per account, its summary, the JSON contract and ``--check``.

Every test runs on SQLite and PostgreSQL (the ``db_url`` fixture). Weeks are planned with a
fixed ``now`` and the command runs with the clock frozen at the same instant.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from planner.config.settings import Config, load_config
from planner.plan.store import idempotency_key
from planner.reports.preview.formats import mix_text
from planner.reports.preview.html import page_verdict
from planner.reports.preview.model import NOT_PLANNED, PASSED
from planner.rule.balancer import WindowTracker
from planner.store.database import open_database
from planner.store.models import LIVE_STATUSES, Item, Post

from support.preview_weeks import (
    HELD_B,
    PROMO_A,
    SOLO_QUEUE,
    W50,
    preview_of,
    run,
    solo,
    sync_and_plan,
)


def add_post(config: Config, item_id: str, at: datetime, *, forced: bool = False) -> None:
    """A pitch placed by hand, behind the planner's back (it never breaks the rule itself)."""
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            session.add(
                Post(
                    item_id=item_id,
                    account="main",
                    slot_at=at,
                    kind="promo",
                    is_pitch=True,
                    forced=forced,
                    text="by hand",
                    reason="added by hand",
                    idempotency_key=idempotency_key("main", at, item_id),
                )
            )
    finally:
        db.dispose()


EXPECTED_SOLO: dict[str, Any] = {
    "week": "2026-W50",
    "generated_at": "2026-12-01T00:00:00+00:00",
    "accounts": [
        {
            "account": "solo",
            "network": "outbox",
            "timezone": "Europe/Berlin",
            "target": {"give": 2, "pitch": 1, "max_pitch_share": "1/3"},
            "days": [
                {
                    "date": "2026-12-07",
                    "weekday": "Mon",
                    "slots": [
                        {
                            "at": "2026-12-07T08:00:00+00:00",
                            "local_time": "09:00",
                            "label": None,
                            "status": "planned",
                            "item": "tip-a",
                            "kind": "help",
                            "class": "give",
                            "forced": False,
                            "text": "Tip A: key the cache on the lock file.",
                            "why": "mix: help",
                            "pitch_share": "0/1",
                        }
                    ],
                },
                {
                    "date": "2026-12-08",
                    "weekday": "Tue",
                    "slots": [
                        {
                            "at": "2026-12-08T08:00:00+00:00",
                            "local_time": "09:00",
                            "label": None,
                            "status": "planned",
                            "item": "tip-b",
                            "kind": "help",
                            "class": "give",
                            "forced": False,
                            "text": "Tip B: fail fast.",
                            "why": "mix: help",
                            "pitch_share": "0/2",
                        }
                    ],
                },
                {
                    "date": "2026-12-09",
                    "weekday": "Wed",
                    "slots": [
                        {
                            "at": "2026-12-09T08:00:00+00:00",
                            "local_time": "09:00",
                            "label": None,
                            "status": "planned",
                            "item": "promo-a",
                            "kind": "promo",
                            "class": "pitch",
                            "forced": False,
                            "text": "Solo Pro makes builds faster.",
                            "why": f"mix: promo ({PROMO_A})",
                            "pitch_share": "1/3",
                        }
                    ],
                },
                {
                    "date": "2026-12-10",
                    "weekday": "Thu",
                    "slots": [
                        {
                            "at": "2026-12-10T08:00:00+00:00",
                            "local_time": "09:00",
                            "label": None,
                            "status": "planned",
                            "item": "tip-c",
                            "kind": "help",
                            "class": "give",
                            "forced": False,
                            "text": "Tip C: give every job a timeout.",
                            "why": "mix: help",
                            "pitch_share": "1/4",
                        }
                    ],
                },
                {
                    "date": "2026-12-11",
                    "weekday": "Fri",
                    "slots": [
                        {
                            "at": "2026-12-11T08:00:00+00:00",
                            "local_time": "09:00",
                            "label": None,
                            "status": "empty",
                            "item": None,
                            "kind": None,
                            "class": None,
                            "forced": False,
                            "text": None,
                            "why": "empty: promo-b held: "
                            + HELD_B
                            + ", and no give item is left to take the slot",
                            "pitch_share": "1/4",
                        }
                    ],
                },
            ],
            "summary": {
                "give": 3,
                "pitch": 1,
                "pitch_share": "1/4",
                "max_window_share": "1/3",
                "max_window_at": "2026-12-09T08:00:00+00:00",
                "within_rule": True,
                "empty_slots": 1,
                # Tried after Thu: Fri 2/5 and Mon 14 and Tue 15 2/5 in the 7-day window are
                # too many; Wed 16 has 1/5 in 7 days and 2/6 in the last 6 posts.
                "held": [
                    {"item": "promo-b", "reason": HELD_B, "next_fit": "2026-12-16T08:00:00+00:00"}
                ],
                "waiting": [],
                "expired": [],
                "skipped": [],
                "unlisted": 0,
                "runway": [
                    {
                        "kind": "share",
                        "available": 0,
                        "planned_this_week": 0,
                        "lasts_days": None,
                        "runs_dry_on": None,
                    },
                    {
                        "kind": "help",
                        "available": 0,
                        "planned_this_week": 3,
                        "lasts_days": 0,
                        "runs_dry_on": "Mon",
                    },
                    {
                        "kind": "promo",
                        "available": 1,
                        "planned_this_week": 1,
                        "lasts_days": 7,
                        "runs_dry_on": None,
                    },
                ],
                "problems": ["1 empty slot: Fri 11 Dec 09:00"],
                "notes": [],
            },
        }
    ],
    "ok": False,
}


def test_json_document_of_a_small_week_is_exactly_the_documented_one(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    result = run("--week", "2026-W50", "--format", "json", config=config)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == EXPECTED_SOLO
    # The order of keys is part of the contract too: compare the documents as text.
    assert json.dumps(document) == json.dumps(EXPECTED_SOLO)


def test_table_has_a_line_per_slot_by_day_and_the_summary(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    result = run("--week", "2026-W50", config=config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "solo · outbox · Europe/Berlin · 2026-W50: Mon 2026-12-07 to Sun 2026-12-13"
    assert lines[1] == "rule: 2:1 (pitch ≤ 33 %) over the last 6 posts and 7 days"
    for expected in [
        "Wed 2026-12-09",
        "  09:00  promo  pitch  planned  1/3 = 33 %  Solo Pro makes builds faster.",
        "         why: mix: promo (pitch share 1/3 = 33 % <= 33 % over the last 6 posts)",
        "  09:00  -      -      empty    1/4 = 25 %",
        "  give:pitch  3:1 this week, pitch share 1/4 = 25 % (target 2:1, pitch ≤ 33 %)",
        "  windows     highest 1/3 = 33 % at Wed 9 Dec 09:00: within the rule",
        "  empty       1: Fri 11 Dec 09:00",
        "              help: 0 items, 3 a week → runs dry on Mon",
        "              promo: 1 item, 1 a week → lasts ~1 week",
        "  problems    1 empty slot: Fri 11 Dec 09:00",
    ]:
        assert expected in lines, expected
    held = lines.index(f"  held        promo-b (promo): {HELD_B}")
    assert lines[held + 1] == "                → next fit Wed 16 Dec 09:00"
    assert max(len(line) for line in lines) <= 100


def test_table_shortens_long_texts_to_fit_100_columns(tmp_path: Path, db_url: str) -> None:
    long_text = "A very long tip " + "that goes on and on " * 10
    config = solo(
        tmp_path, db_url, queue=f'[[item]]\nid = "long"\nkind = "help"\ntext = "{long_text}"\n'
    )
    sync_and_plan(config)
    lines = run("--week", "2026-W50", config=config).stdout.splitlines()
    row = next(line for line in lines if "A very long tip" in line)
    assert row.endswith("…") and len(row) <= 100
    assert len(row.split("  A very long tip")[1]) < 60


def test_markdown_has_a_section_table_and_summary_bullets(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    result = run("--week", "2026-W50", "--format", "markdown", config=config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for expected in [
        "## solo",
        "| Day | Time | Kind | Class | Text | Why |",
        "| Wed 2026-12-09 | 09:00 | promo | pitch | Solo Pro makes builds faster. | mix: promo "
        "(pitch share 1/3 = 33 % <= 33 % over the last 6 posts) · share after: 1/3 = 33 % |",
        f"| Fri 2026-12-11 | 09:00 | - |  |  | empty: promo-b held: {HELD_B}, and no give "
        "item is left to take the slot · share after: 1/4 = 25 % |",
        "- **Give:pitch**: 3:1 this week, pitch share 1/4 = 25 % (target 2:1, pitch ≤ 33 %)",
        f"  - promo-b (promo): {HELD_B} → next fit Wed 16 Dec 09:00",
        "- **Empty slots**: 1: Fri 11 Dec 09:00",
        "  - help: 0 items, 3 a week → runs dry on Mon",
    ]:
        assert expected in lines, expected


def test_held_promo_without_a_fit_before_it_expires_says_so(tmp_path: Path, db_url: str) -> None:
    # promo-b would fit on Wed 16 December; ending on the 15th, it never fits.
    queue = SOLO_QUEUE.replace(
        'text = "Solo Pro is 20 % off this month."',
        'text = "Solo Pro is 20 % off this month."\nnot_after = 2026-12-15',
    )
    config = solo(tmp_path, db_url, queue=queue)
    sync_and_plan(config)
    [held] = preview_of(config).accounts[0].held
    assert (held.item, held.next_fit) == ("promo-b", None)
    table = run("--week", "2026-W50", config=config).stdout
    assert "promo-b (promo):" in table and "→ no slot in the next 4 weeks" in table


def test_held_promo_fit_skips_slots_typed_for_gives(tmp_path: Path, db_url: str) -> None:
    # Saturday's give slot would fit the promo by the numbers (2/6), but it takes gives only:
    # the trial counts it as a give and the promo fits on Monday.
    config = solo(tmp_path, db_url, slots='["mon-fri 09:00", "sat 10:00 give"]')
    sync_and_plan(config)
    [held] = preview_of(config).accounts[0].held
    assert held.next_fit == datetime(2026, 12, 14, 8, tzinfo=UTC)


def test_runway_says_how_long_each_queue_lasts_and_when_it_runs_dry(
    tmp_path: Path, db_url: str
) -> None:
    tips = "".join(f'[[item]]\nid = "tip-{n}"\nkind = "help"\ntext = "Tip {n}"\n' for n in range(5))
    questions = "".join(
        f'[[item]]\nid = "q-{n:02}"\nkind = "question"\ntext = "Question {n}?"\n' for n in range(12)
    )
    config = solo(
        tmp_path,
        db_url,
        slots='["mon,wed,fri 09:00 help", "tue 09:00 question"]',
        queue=tips + questions,
        extra='\n[kinds.question]\nclass = "give"\n',
    )
    sync_and_plan(config)
    runway = {r.kind: r for r in preview_of(config).accounts[0].runway}
    # help: 3 used this week, 2 left: a week like this one gets Mon and Wed, not Fri.
    assert (runway["help"].available, runway["help"].planned_this_week) == (2, 3)
    assert (runway["help"].lasts_days, runway["help"].runs_dry_on) == (4, "Fri")
    # question: 1 a week, 11 left: 77 days.
    assert (runway["question"].lasts_days, runway["question"].runs_dry_on) == (77, None)
    table = run("--week", "2026-W50", config=config).stdout
    assert "help: 2 items, 3 a week → runs dry on Fri" in table
    assert "question: 11 items, 1 a week → lasts ~11 weeks" in table


def test_check_exits_1_on_an_empty_slot_and_says_so_last(tmp_path: Path, db_url: str) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    result = run("--week", "2026-W50", "--check", config=config)
    assert result.exit_code == 1
    assert "Tip C: give every job a timeout." in result.stdout  # the report is printed anyway
    assert result.output.splitlines()[-1] == (
        "Error: check failed for 2026-W50: solo: 1 empty slot: Fri 11 Dec 09:00"
    )


# --- the example workspace ------------------------------------------------------------------


@pytest.fixture
def example(workspace: Path) -> Config:
    return load_config(workspace / "planner.toml")


def test_check_passes_on_a_week_the_planner_filled(example: Config) -> None:
    sync_and_plan(example)
    result = run("--week", "2026-W50", "--check")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith("check passed for 2026-W50")
    [windows] = [line for line in result.stdout.splitlines() if line.startswith("  windows ")]
    assert windows.startswith("  windows     highest ") and windows.endswith(": within the rule")


def test_check_exits_1_when_a_window_breaks_the_rule(example: Config) -> None:
    sync_and_plan(example)
    # A second promo on Wednesday afternoon (16:00 Berlin): 2 pitches in the last 8 posts.
    add_post(example, "case-study-acme", datetime(2026, 12, 9, 15, tzinfo=UTC))
    result = run("--week", "2026-W50", "--check", "--format", "json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)["accounts"][0]["summary"]
    assert summary["within_rule"] is False
    assert summary["max_window_share"] == "3/10"
    last = result.output.splitlines()[-1]
    assert last.startswith("Error: check failed for 2026-W50: main: pitch share 2/8 = 25 % > 20 %")
    assert "at Wed 9 Dec 16:00, case-study-acme" in last


def test_a_window_over_the_limit_only_because_of_a_forced_post_passes_with_a_note(
    example: Config,
) -> None:
    sync_and_plan(example)
    add_post(example, "case-study-acme", datetime(2026, 12, 9, 15, tzinfo=UTC), forced=True)
    result = run("--week", "2026-W50", "--check", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["accounts"][0]["summary"]
    assert summary["within_rule"] is True
    assert summary["max_window_share"] == "3/10"
    assert summary["notes"][0].startswith("pitch share 2/8 = 25 % > 20 % over the last 10 posts")
    assert summary["notes"][0].endswith("allowed, only because of forced posts (override)")
    day = json.loads(result.stdout)["accounts"][0]["days"][2]
    assert [s["forced"] for s in day["slots"]] == [False, False, True]
    # In words, the verdict matches the numbers: not "within the rule", which it is not.
    table = run("--week", "2026-W50").stdout
    windows = next(line for line in table.splitlines() if "highest 3/10" in line)
    assert windows.endswith("over the rule only because of forced posts")
    assert "within the rule" not in windows
    page = run("--week", "2026-W50", "--format", "html").stdout
    assert "over the rule only because of forced posts on" in page
    assert "every account within the rule" not in page


def test_a_week_above_the_target_says_so_beside_the_windows_verdict(
    tmp_path: Path, db_url: str
) -> None:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    account = preview_of(config).accounts[0]
    assert not account.week_over_target and account.verdict == "within the rule"
    # 2 pitches in 5 posts against a 2:1 rule (pitch <= 33 %): the week is above the
    # target, whatever its windows say; the headline must not claim "within the rule".
    over = replace(account, give=3, pitch=2, empty=[])  # (and no empty Friday)
    assert over.week_over_target
    assert mix_text(over).endswith(
        "(target 2:1, pitch ≤ 33 %): above the target for the week; the rule is kept or "
        "broken window by window"
    )
    verdict = page_verdict(replace(preview_of(config), accounts=[over]))
    assert "every account within the rule" not in verdict
    assert "pitch share above the target for the week on solo" in verdict


def test_an_unplanned_week_shows_every_slot_as_not_planned_yet(example: Config) -> None:
    sync_and_plan(example, weeks=())
    result = run("--week", "2026-W51", "--format", "json", "--check")
    assert result.exit_code == 1
    days = json.loads(result.stdout)["accounts"][0]["days"]
    slots = [s for day in days for s in day["slots"]]
    assert len(slots) == 13  # mon-fri 09:00 and 13:00, tue and thu 16:00, sat 10:30
    assert {(s["status"], s["why"], s["item"]) for s in slots} == {("empty", NOT_PLANNED, None)}
    assert "13 empty slots" in result.output.splitlines()[-1]
    table = run("--week", "2026-W51").stdout
    assert "why: empty: not planned yet — run `planner plan`" in table


def test_slots_of_this_week_that_passed_unplanned_say_so(example: Config) -> None:
    sync_and_plan(example, weeks=())
    [account] = json.loads(run("--week", "this", "--format", "json").stdout)["accounts"]
    monday, tuesday = account["days"][:2]
    assert (monday["date"], tuesday["date"]) == ("2026-11-30", "2026-12-01")  # NOW: Tue 01:00
    assert {s["why"] for s in monday["slots"]} == {PASSED}
    assert {s["why"] for s in tuesday["slots"]} == {NOT_PLANNED}


def test_check_exits_1_when_pitches_come_closer_than_the_gap(example: Config) -> None:
    sync_and_plan(example)
    # Wednesday 09:00 Berlin, 17 hours after Tuesday's 16:00 promo.
    add_post(example, "case-study-acme", datetime(2026, 12, 9, 8, tzinfo=UTC))
    result = run("--week", "2026-W50", "--check")
    assert result.exit_code == 1
    assert (
        "main: pitches 17.0 h apart at Wed 9 Dec 09:00 (minimum gap 24 h), case-study-acme"
        in result.output.splitlines()[-1]
    )
    problems = " ".join(result.stdout[result.stdout.index("  problems  ") :].split())
    assert problems == (
        "problems pitches 17.0 h apart at Wed 9 Dec 09:00 (minimum gap 24 h), case-study-acme "
        "pitch share 2/7 = 29 % > 20 % over the last 10 posts at Wed 9 Dec 09:00, case-study-acme "
        "pitch share 3/10 = 30 % > 20 % over the last 10 posts at Thu 10 Dec 16:00, "
        "annual-discount"
    )


def test_account_filter_shows_only_that_account(example: Config) -> None:
    with example.path.open("a") as file:
        file.write('\n[accounts.second]\nnetwork = "outbox"\ntimezone = "America/New_York"\n')
        file.write('slots = ["mon 10:00"]\n')
    sync_and_plan(load_config(example.path))
    both = json.loads(run("--week", "2026-W50", "--format", "json").stdout)
    assert [a["account"] for a in both["accounts"]] == ["main", "second"]
    only = json.loads(run("--week", "2026-W50", "--account", "second", "--format", "json").stdout)
    [second] = only["accounts"]
    assert (second["account"], second["timezone"]) == ("second", "America/New_York")
    [day] = second["days"]
    assert (day["date"], day["slots"][0]["at"]) == ("2026-12-07", "2026-12-07T15:00:00+00:00")
    unknown = run("--week", "2026-W50", "--account", "nobody")
    assert unknown.exit_code == 2 and "no account 'nobody'" in unknown.output


@pytest.mark.parametrize("week", ["2026-W60", "soon"])
def test_a_bad_week_exits_2(example: Config, week: str) -> None:
    result = run("--week", week)
    assert result.exit_code == 2
    assert "--week" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("scope", ["account", "brand"])
def test_running_share_and_highest_window_agree_with_the_balancer(
    example: Config, scope: str
) -> None:
    text = example.path.read_text().replace('scope = "account"', f'scope = "{scope}"')
    text += (
        '\n[accounts.second]\nnetwork = "outbox"\nslots = ["mon-fri 11:00", "wed 17:00 promo"]\n'
    )
    example.path.write_text(text)
    config = load_config(example.path)
    sync_and_plan(config, weeks=[(2026, 49), W50])  # W49 is history for W50's windows
    preview = preview_of(config)
    settings = config.balance_for_brand() if scope == "brand" else config.balance_for("main")

    db = open_database(config.database_url)
    with db.transaction() as session:
        query = select(Post.account, Post.slot_at, Post.is_pitch, Post.id)
        query = query.where(Post.status.in_(LIVE_STATUSES)).order_by(
            Post.slot_at, Post.account, Post.id
        )
        posts = list(session.execute(query))
    db.dispose()

    for account in preview.accounts:
        mine = [p for p in posts if scope == "brand" or p.account == account.account]
        tracker = WindowTracker(settings)
        recorded, highest = 0, None
        for row in (row for day in account.days for row in day.rows):
            while recorded < len(mine) and (mine[recorded].slot_at, mine[recorded].account) <= (
                row.at,
                account.account,
            ):
                post = mine[recorded]
                if (
                    post.account == account.account
                    and post.is_pitch
                    and post.slot_at >= account.start
                ):
                    share = tracker.share_if_added(post.slot_at, True)
                    highest = share if highest is None else max(highest, share)
                tracker.record(post.slot_at, post.is_pitch)
                recorded += 1
            assert row.pitch_share.value == tracker.pitch_share_now(row.at), row
        assert account.max_window.value == (highest or 0)
    # The first post of W50 already sees W49 in its windows.
    assert preview.accounts[0].days[0].rows[0].pitch_share.total > 1


def test_held_items_by_hand_are_listed_without_a_fit(example: Config) -> None:
    sync_and_plan(example)
    db = open_database(example.database_url)
    with db.transaction() as session:
        item = session.get(Item, "free-tier")
        assert item is not None
        item.manual_hold, item.status_reason = True, "held by hand (planner hold)"
    db.dispose()
    held = {h.item: h for h in preview_of(example).accounts[0].held}
    assert held["free-tier"].manual and held["free-tier"].next_fit is None
    assert held["case-study-acme"].next_fit is not None
    table = run("--week", "2026-W50").stdout
    at = table.index("free-tier (promo): held by hand on every account (planner hold)")
    assert (
        table[at:]
        .splitlines()[1]
        .endswith("→ not tried: `planner release free-tier` to plan it again")
    )
