"""The etiquette lint in the queue: warnings at sync, add and plan; with [lint] mode = "hold"
an item that asks for shares is flagged (kept out of the plan, the reason stored) until its
text is fixed, and goes back to the queue when the lint no longer holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planner.cli import main
from planner.config.settings import load_config
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, Post

ASKING = '[[item]]\nid = "tip-asks"\nkind = "help"\ntext = "Faster CI in one step. Please RT!"\n'
FIXED = '[[item]]\nid = "tip-asks"\nkind = "help"\ntext = "Faster CI in one step."\n'


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def set_mode(workspace: Path, mode: str) -> None:
    config = workspace / "planner.toml"
    config.write_text(config.read_text().replace('mode = "warn"', f'mode = "{mode}"'))


@pytest.fixture
def db(workspace: Path) -> Iterator[Database]:
    database = open_database(load_config(workspace / "planner.toml").database_url)
    yield database
    database.dispose()


def item(db: Database, item_id: str) -> Item:
    with db.reading() as session:
        found = session.get(Item, item_id)
        assert found is not None
        session.expunge(found)
        return found


def test_warn_mode_names_the_item_and_phrase_and_plans_it(workspace: Path, db: Database) -> None:
    (workspace / "queue" / "asks.toml").write_text(ASKING)
    result = invoke("queue", "sync")
    assert result.exit_code == 0, result.output
    assert 'lint: tip-asks: asks the audience for something back ("Please RT")' in result.output
    assert item(db, "tip-asks").status == ItemStatus.QUEUED
    planned = invoke("plan", "--week", "next", "--weeks", "4", "--json")
    report = json.loads(planned.output)
    assert any(slot["item"] == "tip-asks" for slot in report["slots"])
    assert any(line.startswith("tip-asks: asks") for line in report["lint"])


def test_hold_mode_flags_until_fixed(workspace: Path, db: Database) -> None:
    set_mode(workspace, "hold")
    (workspace / "queue" / "asks.toml").write_text(ASKING)
    result = invoke("queue", "sync", "--json")
    report = json.loads(result.output)
    assert report["flagged"] == 1 and report["lint"][0]["rule"] == "asks"
    flagged = item(db, "tip-asks")
    assert flagged.status == ItemStatus.FLAGGED
    assert flagged.status_reason is not None and "Please RT" in flagged.status_reason
    planned = json.loads(invoke("plan", "--week", "next", "--weeks", "4", "--json").output)
    assert all(slot["item"] != "tip-asks" for slot in planned["slots"])
    listed = invoke("queue", "list", "--status", "flagged")
    assert "tip-asks" in listed.output

    (workspace / "queue" / "asks.toml").write_text(FIXED)
    again = json.loads(invoke("queue", "sync", "--json").output)
    assert again["unflagged"] == 1
    assert item(db, "tip-asks").status == ItemStatus.QUEUED


def test_switching_back_to_warn_releases_flagged_items(workspace: Path, db: Database) -> None:
    set_mode(workspace, "hold")
    (workspace / "queue" / "asks.toml").write_text(ASKING)
    assert invoke("queue", "sync").exit_code == 0
    set_mode_back = (
        (workspace / "planner.toml").read_text().replace('mode = "hold"', 'mode = "warn"')
    )
    (workspace / "planner.toml").write_text(set_mode_back)
    result = invoke("queue", "sync")
    assert "1 flagged item(s) queued again" in result.output
    assert item(db, "tip-asks").status == ItemStatus.QUEUED


def test_a_planned_item_flagged_later_loses_its_planned_posts(
    workspace: Path, db: Database
) -> None:
    (workspace / "queue" / "asks.toml").write_text(ASKING)
    assert invoke("queue", "sync").exit_code == 0
    assert invoke("plan", "--week", "next", "--weeks", "4").exit_code == 0
    with db.reading() as session:
        assert session.query(Post).filter(Post.item_id == "tip-asks").count() > 0
    set_mode(workspace, "hold")
    result = invoke("queue", "sync")
    assert "had planned posts, taken out" in result.output
    with db.reading() as session:
        assert session.query(Post).filter(Post.item_id == "tip-asks").count() == 0


def test_queue_add_in_hold_mode_flags_at_once(workspace: Path, db: Database) -> None:
    set_mode(workspace, "hold")
    assert invoke("queue", "sync").exit_code == 0
    result = invoke("queue", "add", "--kind", "help", "--id", "tip-ff", "--text", "#FF @ada @lena")
    assert result.exit_code == 0
    assert "flagged by the etiquette lint" in result.output
    assert item(db, "tip-ff").status == ItemStatus.FLAGGED


def test_an_item_held_by_hand_is_left_to_its_person(workspace: Path, db: Database) -> None:
    (workspace / "queue" / "asks.toml").write_text(ASKING)
    assert invoke("queue", "sync").exit_code == 0
    assert invoke("hold", "tip-asks").exit_code == 0
    set_mode(workspace, "hold")
    assert invoke("queue", "sync").exit_code == 0
    held = item(db, "tip-asks")
    assert held.manual_hold and held.status == ItemStatus.HELD
