"""What a person does to one item by hand: hold, release, remove, and a mistyped id.

Each command says so when there is nothing to do (one line, exit 1, naming the item's
state), an unknown id is answered with the ids that look like it, and `queue remove`
archives an item added by hand and takes its planned posts out, on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.content import lookup
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday; 2027-W02 lies ahead
WEEK = "2027-W02"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result) -> str:
    """The one line a refusal prints (exit 1, no traceback)."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0].removeprefix("Error: ")


@pytest.fixture
def db(workspace: Path) -> Iterator[Database]:
    database = open_database(load_config(workspace / "planner.toml").database_url)
    yield database
    database.dispose()


def state(db: Database, item_id: str) -> tuple[str, bool, bool]:
    with db.reading() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.status, item.manual_hold, item.force


def posts_of(db: Database, item_id: str) -> list[str]:
    with db.reading() as session:
        query = select(Post.status).where(Post.item_id == item_id).order_by(Post.slot_at)
        return list(session.scalars(query))


def test_release_of_an_item_that_is_not_held_says_so_and_changes_nothing(
    workspace: Path, db: Database
) -> None:
    ok("queue", "sync")
    not_held = refused(invoke("release", "tip-cache-keys"))
    assert not_held == "tip-cache-keys is not held: it is queued"
    assert state(db, "tip-cache-keys") == (ItemStatus.QUEUED, False, False)


def test_hold_twice_and_release_twice_each_say_so_the_second_time(
    workspace: Path, db: Database
) -> None:
    ok("queue", "sync")
    ok("hold", "tip-cache-keys")
    assert state(db, "tip-cache-keys") == (ItemStatus.HELD, True, False)
    assert refused(invoke("hold", "tip-cache-keys")) == (
        "tip-cache-keys is already held by hand on every account; "
        "`planner release tip-cache-keys` lets it back in"
    )
    ok("release", "tip-cache-keys")
    assert state(db, "tip-cache-keys") == (ItemStatus.QUEUED, False, False)
    not_held = refused(invoke("release", "tip-cache-keys"))
    assert not_held == "tip-cache-keys is not held: it is queued"


def test_an_item_the_rule_holds_is_released_only_with_force(workspace: Path, db: Database) -> None:
    with time_machine.travel(NOW, tick=False):
        ok("queue", "sync")
        verdicts = json.loads(ok("plan", "--week", WEEK, "--json").output)["held"]
        held = sorted(row["item"] for row in verdicts)[0]
        assert state(db, held) == (ItemStatus.HELD, False, False)
        message = refused(invoke("release", held))
        assert message.startswith(f"{held} is held by the ratio rule, not by hand: ")
        assert f"`planner release {held} --force` places it anyway" in message
        assert state(db, held) == (ItemStatus.HELD, False, False)
        ok("release", held, "--force")
        assert state(db, held) == (ItemStatus.QUEUED, False, True)


@pytest.mark.parametrize(
    "command", [("hold",), ("release",), ("release", "--force"), ("queue", "remove")]
)
def test_an_unknown_item_id_gets_a_did_you_mean(workspace: Path, command: tuple[str, ...]) -> None:
    ok("queue", "sync")
    assert refused(invoke(*command, "tip-cache-key")) == (
        "no queue item with id 'tip-cache-key'; did you mean 'tip-cache-keys'?"
    )
    assert refused(invoke(*command, "TIP-FAIL-FAST")).endswith("did you mean 'tip-fail-fast'?")
    # A pasted newline is no part of any id: the id without it is offered.
    assert refused(invoke(*command, "tip-timeouts\n")) == (
        "no queue item with id 'tip-timeouts\\n'; did you mean 'tip-timeouts'?"
    )
    assert refused(invoke(*command, "zzz")) == "no queue item with id 'zzz'"


def test_three_close_ids_at_most_are_offered_closest_first(workspace: Path) -> None:
    for item_id in ("tip-abc", "tip-a3", "tip-a1", "tip-a2"):
        ok("queue", "add", "--kind", "help", "--id", item_id, "--text", f"Tip {item_id}.")
    assert refused(invoke("hold", "tip-a")) == (
        "no queue item with id 'tip-a'; did you mean 'tip-a1', 'tip-a2' or 'tip-a3'?"
    )
    closest = refused(invoke("hold", "tip-ab"))
    assert closest.endswith("did you mean 'tip-abc', 'tip-a1' or 'tip-a2'?")


def test_a_large_queue_is_searched_among_ids_that_start_alike(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above POOL items only ids starting like the one typed are compared (at most POOL of
    # them): a typo further on is still found, and `_` is no LIKE wildcard.
    monkeypatch.setattr(lookup, "POOL", 20)
    with db.transaction() as session:
        for n in range(60):
            session.add(Item(id=f"note-{n:03d}", kind="help", text="t", source="x",
                             content_hash="x"))  # fmt: skip
        session.add(Item(id="t_cache-keys", kind="help", text="t", source="x", content_hash="x"))
        session.add(Item(id="txcache-keys", kind="help", text="t", source="x", content_hash="x"))
    with db.reading() as session:
        assert lookup.similar_ids(session, "t_cahce-keys") == ["t_cache-keys"]
        # 62 ids start with "no", 60 with "note-0", 10 with "note-05": those are compared.
        assert lookup.similar_ids(session, "note-059x")[0] == "note-059"
        assert lookup.similar_ids(session, "note-05.9")[0] == "note-059"
        # The price: with a typo in the first characters the right id may not be among
        # those read; a queue of at most POOL ids is compared whole.
        assert "note-059" not in lookup.similar_ids(session, "mote-059")
    monkeypatch.setattr(lookup, "POOL", 100)
    with db.reading() as session:
        assert lookup.similar_ids(session, "mote-059")[0] == "note-059"


def test_queue_remove_archives_an_item_added_by_hand_and_unplans_it(
    workspace: Path, db: Database
) -> None:
    with time_machine.travel(NOW, tick=False):
        ok("queue", "sync")
        ok("queue", "add", "--kind", "help", "--id", "my-tip", "--priority", "100",
           "--text", "Pin your actions to a commit.")  # fmt: skip
        ok("plan", "--week", WEEK)
        assert posts_of(db, "my-tip") == [PostStatus.PLANNED]
        result = ok("queue", "remove", "my-tip")
        assert result.output.strip() == (
            "archived my-tip; took 1 planned post out of the plan: run `planner plan` to fill "
            "its slot"
        )
        assert state(db, "my-tip") == (ItemStatus.ARCHIVED, False, False)
        assert posts_of(db, "my-tip") == []
        preview = json.loads(ok("preview", "--week", WEEK, "--format", "json").output)
        slots = [slot for day in preview["accounts"][0]["days"] for slot in day["slots"]]
        assert [slot["status"] for slot in slots].count("empty") == 1
        # A re-plan fills the slot and leaves the item archived (not back in the queue).
        assert "planned 13 of 13 slots" in ok("plan", "--week", WEEK).output
        assert posts_of(db, "my-tip") == []
        assert state(db, "my-tip")[0] == ItemStatus.ARCHIVED
        archived = json.loads(ok("queue", "list", "--status", "archived", "--json").output)
        assert [row["id"] for row in archived] == ["my-tip"]
        assert refused(invoke("queue", "remove", "my-tip")) == (
            "my-tip is archived already: there is nothing to remove"
        )
        # Adding it again brings it back.
        ok("queue", "add", "--kind", "help", "--id", "my-tip", "--text", "Pin your actions.")
        assert state(db, "my-tip")[0] == ItemStatus.QUEUED


def test_queue_remove_keeps_published_posts_and_posts_under_way(
    workspace: Path, db: Database
) -> None:
    ok("queue", "add", "--kind", "help", "--id", "my-tip", "--text", "Pin your actions.")
    now = datetime.now(UTC)
    with db.transaction() as session:
        for n, status in enumerate([PostStatus.PUBLISHED, PostStatus.RETRY, PostStatus.PLANNED]):
            session.add(Post(item_id="my-tip", account="main", slot_at=now + timedelta(days=n),
                             kind="help", is_pitch=False, text="t", status=status,
                             idempotency_key=f"k{n}"))  # fmt: skip
    result = json.loads(ok("queue", "remove", "my-tip", "--json").output)
    assert result == {
        "item": "my-tip", "status": "archived", "unplanned": 1, "under_way": 1, "published": 1,
    }  # fmt: skip
    assert posts_of(db, "my-tip") == [PostStatus.PUBLISHED, PostStatus.RETRY]


def test_queue_remove_of_an_item_from_a_queue_file_says_how(workspace: Path, db: Database) -> None:
    ok("queue", "sync")
    assert refused(invoke("queue", "remove", "tip-cache-keys")) == (
        "tip-cache-keys comes from queue/help.toml: delete it from that file and run "
        "`planner queue sync`, which archives it (removing it here would be undone by the next "
        "sync); `planner hold tip-cache-keys` keeps it out of the plan meanwhile"
    )
    assert state(db, "tip-cache-keys") == (ItemStatus.QUEUED, False, False)
    # Once its file is gone nothing would bring it back: it is archived like any other.
    (workspace / "queue" / "help.toml").rename(workspace / "help.toml.old")
    assert ok("queue", "remove", "tip-cache-keys").output.strip() == "archived tip-cache-keys"
    ok("queue", "sync")
    assert state(db, "tip-cache-keys")[0] == ItemStatus.ARCHIVED


def test_resolve_of_an_unknown_post_names_the_posts_waiting_for_it(
    workspace: Path, db: Database
) -> None:
    ok("queue", "add", "--kind", "help", "--id", "my-tip", "--text", "Pin your actions.")
    assert refused(invoke("resolve", "999999", "--not-published")) == (
        "no post with id 999999; no post is waiting for `planner resolve`"
    )
    with db.transaction() as session:
        post = Post(item_id="my-tip", account="main", slot_at=NOW, kind="help", is_pitch=False,
                    text="t", status=PostStatus.UNKNOWN, idempotency_key="k1")  # fmt: skip
        session.add(post)
        session.flush()
        post_id = post.id
    assert refused(invoke("resolve", "999999", "--not-published")) == (
        f"no post with id 999999; waiting for `planner resolve`: post {post_id} "
        "(see `planner status`)"
    )
