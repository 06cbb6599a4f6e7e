"""`planner plan` against a real database: idempotent re-planning, kept posts, holds, render
problems and the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from planner.cli import main
from planner.config.settings import Config, load_config
from planner.content.files import queue_file_paths, read_queue_files, source_name
from planner.content.holds import hold_item, release_item
from planner.content.store import sync_items
from planner.plan.engine import plan
from planner.plan.history import existing_posts, history_reach, rule_reach
from planner.plan.load import candidates as load_candidates
from planner.plan.load import plan_rules, week_slots
from planner.plan.model import FixedPost
from planner.plan.render import Renderer, RenderInput
from planner.plan.store import plan_weeks
from planner.store.database import Database, open_database
from planner.store.models import EmptySlot, Item, ItemStatus, Post, PostStatus

from support.example_queue import synced_database
from support.renderers import CountingRenderer

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday; week 49 starts Mon 30 Nov
WEEK = [(2026, 49)]


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace / "planner.toml")


@pytest.fixture
def db(config: Config):  # type: ignore[no-untyped-def]
    database = synced_database(config, NOW)
    yield database
    database.dispose()


def posts(db: Database) -> list[tuple[str, str, datetime, str | None, str, bool]]:
    with db.transaction() as session:
        rows = session.execute(
            select(
                Post.account, Post.item_id, Post.slot_at, Post.text, Post.status, Post.forced
            ).order_by(Post.slot_at)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def statuses(db: Database) -> dict[str, str]:
    with db.transaction() as session:
        return dict(session.execute(select(Item.id, Item.status)).all())  # type: ignore[arg-type]


def run_plan(db: Database, config: Config, **options):  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return plan_weeks(session, config, WEEK, NOW, **options)


def test_plan_fills_the_week_and_holds_excess_promos(db: Database, config: Config) -> None:
    outcome = run_plan(db, config)
    planned = posts(db)
    assert len(planned) == 13 == len(outcome.placements)  # the example's 13 weekly slots
    assert all(text for *_, text, _, _ in [(p[0], p[1], p[2], p[3], p[4], p[5]) for p in planned])
    states = statuses(db)
    assert set(outcome.held) and all(states[i] == ItemStatus.HELD for i, _ in outcome.held)
    # The item's status names the account whose verdict it sums up.
    with db.reading() as session:
        reasons = {
            row.id: row.status_reason
            for row in session.execute(select(Item.id, Item.status_reason))
        }
    item_id, account = sorted(outcome.held)[0]
    assert reasons[item_id] == f"on {account}: {outcome.held[item_id, account]}"
    assert sum(states[p[1]] == ItemStatus.PLANNED for p in planned) == 13
    shares = [p for p in planned if p[1].startswith("share-")]
    assert all(" by " in (p[3] or "") for p in shares)  # rendered with the share template


def test_replanning_gives_the_same_plan(db: Database, config: Config) -> None:
    run_plan(db, config)
    first, first_states = posts(db), statuses(db)
    outcome = run_plan(db, config)
    assert outcome.replaced == 13
    assert posts(db) == first
    assert statuses(db) == first_states


def test_replanning_keeps_published_posts_and_does_not_reuse_their_items(
    db: Database, config: Config
) -> None:
    run_plan(db, config)
    with db.transaction() as session:
        first = session.scalars(select(Post).order_by(Post.slot_at)).first()
        assert first is not None
        first.status = PostStatus.PUBLISHED
        published_item, published_at = first.item_id, first.slot_at
    outcome = run_plan(db, config)
    assert outcome.replaced == 12 and outcome.kept == 1
    after = posts(db)
    assert [p[1] for p in after].count(published_item) == 1
    assert (after[0][1], after[0][2], after[0][4]) == (published_item, published_at, "published")


def test_dry_run_writes_nothing(db: Database, config: Config) -> None:
    before = statuses(db)
    outcome = run_plan(db, config, dry_run=True)
    assert len(outcome.placements) == 13
    assert posts(db) == [] and statuses(db) == before


def test_a_manually_held_item_leaves_the_plan_and_comes_back_on_release(
    db: Database, config: Config
) -> None:
    run_plan(db, config)
    chosen = posts(db)[0][1]
    with db.transaction() as session:
        hold_item(session, chosen, NOW)
    run_plan(db, config)
    assert chosen not in [p[1] for p in posts(db)]
    assert statuses(db)[chosen] == ItemStatus.HELD
    with db.transaction() as session:
        release_item(session, chosen, NOW)
    run_plan(db, config)
    assert chosen in [p[1] for p in posts(db)]


def test_forced_release_places_a_held_promo_and_marks_the_override(
    db: Database, config: Config
) -> None:
    outcome = run_plan(db, config)
    held, _ = sorted(outcome.held)[0]
    with db.transaction() as session:
        release_item(session, held, NOW, force=True)
    run_plan(db, config)
    forced = [p for p in posts(db) if p[1] == held]
    assert len(forced) == 1 and forced[0][5] is True
    with db.transaction() as session:
        reason = session.scalar(select(Post.reason).where(Post.item_id == held))
    assert reason == "forced release (override of the ratio rule)"


def test_an_item_that_cannot_render_is_reported_and_the_week_is_still_full(
    db: Database, config: Config, workspace: Path
) -> None:
    (workspace / "templates" / "help.txt.j2").write_text("{{ text }} {{ missing_variable }}")
    outcome = run_plan(db, config)
    assert outcome.render_problems
    assert "missing_variable" in outcome.render_problems[0]
    assert outcome.skipped and all("missing_variable" in why for why in outcome.skipped.values())
    assert len(posts(db)) == 13  # the help slots went to other gives
    assert not any(p[1].startswith("tip-") for p in posts(db))


def test_progress_is_told_each_step_as_it_starts(db: Database, config: Config) -> None:
    steps: list[str] = []
    outcome = run_plan(db, config, progress=steps.append)
    filled = sum(p.item is not None for p in outcome.placements)
    assert steps == [
        "reading the queue",
        "choosing 13 slots",
        f"rendering {filled} posts",
        "writing the plan",
    ]
    steps.clear()
    run_plan(db, config, progress=steps.append, dry_run=True)
    assert "writing the plan" not in steps


def test_a_plan_keeps_the_cycle_collector_off_older_objects_while_it_runs(
    db: Database, config: Config
) -> None:
    gc.unfreeze()
    frozen_at_each_step: list[int] = []
    run_plan(db, config, progress=lambda _: frozen_at_each_step.append(gc.get_freeze_count()))
    assert len(frozen_at_each_step) == 4 and all(frozen_at_each_step)
    assert gc.get_freeze_count() == 0  # and gives them back


def test_empty_slots_are_recorded_with_their_reason(db: Database, config: Config) -> None:
    with db.transaction() as session:
        session.execute(update(Item).where(Item.kind != "promo").values(status=ItemStatus.ARCHIVED))
    run_plan(db, config)
    with db.transaction() as session:
        notes = session.scalars(select(EmptySlot.reason)).all()
    assert len(notes) == 13 - len(posts(db)) > 0
    assert all(note.startswith("empty: ") for note in notes)


def test_expired_items_are_marked(db: Database, config: Config) -> None:
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == "webinar-dec").values(not_after=NOW))
    run_plan(db, config)
    assert statuses(db)["webinar-dec"] == ItemStatus.EXPIRED


# --- the command line ---------------------------------------------------------------------


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def test_cli_plan_hold_release(workspace: Path) -> None:
    # The command reads the clock: pin it, so 2027-W02 stays a week in the future.
    with time_machine.travel(NOW, tick=False):
        assert invoke("queue", "sync").exit_code == 0
        result = invoke("plan", "--week", "2027-W02", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["weeks"] == "2027-W02" and len(report["slots"]) == 13
        assert report["held"]
        held = sorted(report["held"], key=lambda row: row["item"])[0]["item"]
        assert {"item", "account", "reason"} == set(report["held"][0])
        assert invoke("hold", held).exit_code == 0
        assert invoke("release", held, "--force").exit_code == 0
        text = invoke("plan", "--week", "2027-W02").output
        assert "planned 13 of 13 slots" in text


def test_cli_plan_prints_ten_lines_of_each_list_and_counts_the_rest(workspace: Path) -> None:
    # Four weeks drain the example queue: a long plan must not print a line per empty slot.
    with time_machine.travel(NOW, tick=False):
        assert invoke("queue", "sync").exit_code == 0
        result = invoke("plan", "--week", "2027-W02", "--weeks", "4", "--json")
        empty = [slot for slot in json.loads(result.output)["slots"] if slot["item"] is None]
        assert len(empty) > 10
        text = invoke("plan", "--week", "2027-W02", "--weeks", "4").output  # the same plan
    warnings = [line for line in text.splitlines() if line.startswith("  warning: ")]
    assert len(warnings) == 10
    assert warnings[0].startswith(f"  warning: {empty[0]['account']} ")
    assert f"  … and {len(empty) - 10} more empty slots: `planner preview" in text


def test_cli_plan_input_errors_exit_2(workspace: Path) -> None:
    assert invoke("plan", "--week", "2026-W99").exit_code == 2
    assert invoke("plan", "--account", "nobody").exit_code == 2
    missing = invoke("hold", "no-such-item")
    assert missing.exit_code == 1 and "no queue item with id 'no-such-item'" in missing.output


def test_a_text_the_network_would_refuse_is_skipped_at_plan_time(
    db: Database, config: Config
) -> None:
    def short_only(text: str) -> list[str]:
        return [f"{len(text)} characters, more than 90"] if len(text) > 90 else []

    outcome = run_plan(db, config, validators={"main": short_only})
    assert outcome.render_problems
    assert all("more than 90" in problem for problem in outcome.render_problems)
    # Each skip names its fix: a shorter text for that network.
    assert all("[item.variants.outbox] text" in why for why in outcome.skipped.values())
    texts = [row[3] or "" for row in posts(db)]
    assert texts and all(len(text) <= 90 for text in texts)


def test_an_own_domain_share_is_listed_and_held_as_a_pitch_naming_its_link(
    workspace: Path, config: Config
) -> None:
    (workspace / "queue" / "own.toml").write_text(
        '[[item]]\nid = "share-our-blog"\nkind = "share"\npriority = 9\n'
        'title = "How we cut build times"\nurl = "https://blog.brightline.example/builds"\n'
        'credit = "Brightline"\n'
    )
    db = open_database(config.database_url)
    try:
        files = queue_file_paths([config.queue_path])
        with db.transaction() as session:
            sync_items(session, read_queue_files(files, config),
                       [source_name(f, config) for f in files], NOW)  # fmt: skip
        outcome = run_plan(db, config)
        listing = CliRunner().invoke(main, ["queue", "list", "--json"])
    finally:
        db.dispose()
    # Top priority, so offered at the week's first slot: a pitch there breaks the rule.
    reason = outcome.held["share-our-blog", "main"]
    assert reason.startswith("a pitch, as it links to https://blog.brightline.example/builds: ")
    assert "pitch share would be" in reason
    row = next(r for r in json.loads(listing.output) if r["id"] == "share-our-blog")
    assert (row["kind"], row["class"]) == ("share", "pitch")
    assert row["pitch_link"] == "https://blog.brightline.example/builds"
    assert row["status_reason"] == f"on main: {reason}"


def test_plan_names_the_pitches_waiting_for_a_turn_of_the_mix(tmp_path: Path, db_url: str) -> None:
    (tmp_path / "queue").mkdir()
    items = "".join(
        f'[[item]]\nid = "{kind}-{n}"\nkind = "{kind}"\ntext = "{kind} number {n}."\n\n'
        for kind in ("help", "promo")
        for n in range(8)
    )
    (tmp_path / "queue" / "items.toml").write_text(items)
    (tmp_path / "planner.toml").write_text(
        f'timezone = "UTC"\n[database]\nurl = "{db_url}"\n'
        '[balance]\ngive_to_pitch = "1:1"\nwindow_posts = 10\nmin_pitch_gap_hours = 0\n'
        '[kinds.help]\nclass = "give"\nweight = 7\n[kinds.promo]\nclass = "pitch"\nweight = 1\n'
        '[accounts.main]\nnetwork = "outbox"\nslots = ["mon-thu 09:00", "mon-thu 15:00"]\n'
    )
    config = str(tmp_path / "planner.toml")
    assert CliRunner().invoke(main, ["--config", config, "queue", "sync"]).exit_code == 0
    with time_machine.travel(NOW, tick=False):
        result = CliRunner().invoke(main, ["--config", config, "plan", "--week", "2026-W49"])
        data = json.loads(
            CliRunner()
            .invoke(main, ["--config", config, "plan", "--week", "2026-W49", "--json"])
            .output
        )
    # The rule would take up to half pitches; the mix (share 4, help 7, promo 1) gives promo 1
    # of 12 open slots.
    assert data["held"] == []
    assert len(data["waiting"]) == 7
    reason = next(w["reason"] for w in data["waiting"] if w["item"] == "promo-7")
    assert "promo gets 1 of 12 open slots" in reason and "[kinds.promo] weight" in reason
    assert "  waiting promo-7 on main: promo gets 1 of 12 open slots" in result.output


def test_a_plan_reads_the_history_its_rule_can_feel_and_plans_as_if_it_read_it_all(
    db: Database, config: Config
) -> None:
    """300 days of posts older than the longest days window, gap and duplicate-URL guard, and
    20 more older than the rule's windows and gap but within the guard: the plan reads each
    scope's last `window_posts` (a count window reaches back that many posts, however old),
    the older uses of items it may still place and, within the guard, the posts with a URL;
    and decides the same as with every post."""
    names = list(config.settings.accounts)
    slots, ranges = week_slots(config, names, WEEK, NOW)
    rules = plan_rules(config, names)
    first = min(slot.at for slot in slots)
    rule_since, url_since = first - rule_reach(rules), first - history_reach(rules)
    assert url_since + timedelta(days=20) < rule_since
    with db.transaction() as session:
        ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        evergreen = set(session.scalars(select(Item.id).where(Item.evergreen.is_(True))))
        with_url = set(session.scalars(select(Item.id).where(Item.url.is_not(None))))
        still_queued, published = ids[0], ids[1:]
        # The band's items are not evergreen: those stay free to go out again this week.
        linked = [i for i in published if i in with_url and i not in evergreen]
        plain = [i for i in published if i not in with_url and i not in evergreen]
        session.execute(
            update(Item).where(Item.id.in_(published)).values(status=ItemStatus.PUBLISHED)
        )
        went_out: dict[str, datetime] = {}
        for n in range(320):  # a post a day, every third a pitch
            if n < 20:  # within the duplicate-URL guard, half of them with a URL
                at = rule_since - timedelta(days=n + 1)
                pick = linked if n % 2 else plain
                item_id = pick[n // 2 % len(pick)]
            else:
                at = url_since - timedelta(days=n - 19)
                item_id = still_queued if n == 270 else published[n % len(published)]
            session.add(
                Post(item_id=item_id, account=names[n % len(names)], slot_at=at, kind="promo",
                     is_pitch=n % 3 == 0, text="t", status=PostStatus.PUBLISHED,
                     idempotency_key=f"old-{n}", created_at=at, updated_at=at)
            )  # fmt: skip
            went_out[item_id] = max(at, went_out.get(item_id, at))
        for item_id, at in went_out.items():  # as publishing does
            session.execute(update(Item).where(Item.id == item_id).values(last_published_at=at))
    last_slot = max(slot.at for slot in slots)
    results = []
    with db.transaction() as session:
        bounded = existing_posts(session, names, names, ranges, rules)
        every = existing_posts(session, names, names, ranges)
        for fixed in (bounded.fixed, every.fixed):
            # The plain gives and pitches come from cursors: plan while they are open.
            supply = load_candidates(session, config, first, last_slot, {p.item_id for p in fixed})
            results.append(plan(slots, fixed, supply.eager, rules, lambda c, a: c.id, supply.later))
            supply.close()
    assert len(every.fixed) == 320
    # Uses of items it may still place: the queued one, and the evergreen ones (reposted
    # after a cooldown, at most so many times).
    placeable = {still_queued} | evergreen
    uses = {post for post in every.fixed if post.item_id in placeable}
    assert uses and uses <= set(bounded.fixed)
    # Per scope, its count window's worth of the latest posts before the rule's reach.
    last: set[FixedPost] = set()
    for scope, settings in rules.balance.items():
        assert settings.window_posts
        members = [
            post for post in every.fixed
            if rules.scope_of[post.account] == scope and post.at < rule_since
        ]  # fmt: skip
        last.update(members[-settings.window_posts :])
    guarded = {post for post in every.fixed if post.at >= url_since and post.url is not None}
    assert guarded and guarded <= set(bounded.fixed)
    assert last <= set(bounded.fixed) == last | uses | guarded
    unread = {p for p in every.fixed if p.at >= url_since and p.url is None} - last - uses
    assert unread and not unread & set(bounded.fixed)
    chosen = [
        [(p.slot, p.item and p.item.id, p.reason, p.forced) for p in result.placements]
        for result in results
    ]
    assert chosen[0] == chosen[1]
    assert sum(item is not None for _, item, _, _ in chosen[0]) > 0
    assert results[0].held == results[1].held
    assert results[0].waiting == results[1].waiting
    assert results[0].unlisted == results[1].unlisted


def test_an_older_post_that_has_not_gone_out_still_uses_its_item(
    db: Database, config: Config
) -> None:
    """A post long before the plan still waiting to go out (retrying, or its outcome unknown)
    uses its item although the item never went out: the plan reads it, and does not place
    the item on that account again."""
    names = list(config.settings.accounts)
    slots, ranges = week_slots(config, names, WEEK, NOW)
    rules = plan_rules(config, names)
    first = min(slot.at for slot in slots)
    at = first - history_reach(rules) - timedelta(days=40)
    # Items this week's plan places on main, when nothing used them before.
    queued = [
        p.item.id for p in run_plan(db, config, dry_run=True).placements
        if p.item is not None and p.slot.account == "main" and not p.item.evergreen
    ]  # fmt: skip
    with db.transaction() as session:
        # Ten posts on each account after them: the stale ones are no count window's either.
        filler = session.scalars(
            select(Item.id).where(Item.id.not_in(queued), Item.evergreen.is_(False))
        ).first()
        session.execute(
            update(Item).where(Item.id == filler)
            .values(status=ItemStatus.PUBLISHED, last_published_at=at + timedelta(days=1))
        )  # fmt: skip
        for n in range(10 * len(names)):
            later = at + timedelta(hours=n + 1)
            session.add(
                Post(item_id=filler, account=names[n % len(names)], slot_at=later, kind="help",
                     is_pitch=False, text="t", status=PostStatus.PUBLISHED,
                     idempotency_key=f"filler-{n}", created_at=later, updated_at=later)
            )  # fmt: skip
        for n, (item_id, status) in enumerate(
            zip(queued, (PostStatus.RETRY, PostStatus.UNKNOWN, PostStatus.FAILED), strict=False)
        ):
            session.add(
                Post(item_id=item_id, account="main", slot_at=at, kind="help", is_pitch=False,
                     text="t", status=status, idempotency_key=f"stale-{n}", created_at=at,
                     updated_at=at)
            )  # fmt: skip
    with db.transaction() as session:
        read = {post.item_id for post in existing_posts(session, names, names, ranges, rules).fixed}
    assert read - {filler} == set(queued[:2])  # a failed post is no use
    placed = {(p.item.id, p.slot.account) for p in run_plan(db, config).placements if p.item}
    assert not {(queued[0], "main"), (queued[1], "main")} & placed
    assert (queued[2], "main") in placed


def test_a_week_with_pitches_read_lazily_decides_as_with_every_pitch_read(
    db: Database, config: Config
) -> None:
    """250 more promos: for every account and for `main`, some due only after the week, some
    expiring in it, one forced, two already posted on `main` and still queued. A week's plan
    reads the plain pitches as far as its slots and its report need, counts the rest, and
    decides and reports exactly as when it reads them all."""
    names = list(config.settings.accounts)
    slots, ranges = week_slots(config, names, WEEK, NOW)
    rules = plan_rules(config, names)
    first, last = min(s.at for s in slots), max(s.at for s in slots)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(250):
        rows.append(
            {"id": f"lazy-promo-{n:03d}", "kind": "promo", "text": f"Offer {n}",
             "url": f"https://shop.example/{n}", "fields": {}, "variants": {},
             "accounts": ["main"] if n % 3 else [], "tags": [], "evergreen": False,
             "priority": n % 4, "status": "queued", "manual_hold": False,
             "force": n == 7, "source": "test", "content_hash": f"h{n}",
             "not_before": last + timedelta(days=1) if n % 25 == 0 else None,
             "not_after": first + timedelta(days=2) if n % 40 == 1 else None,
             "created_at": created + timedelta(minutes=n), "updated_at": created}
        )  # fmt: skip
    with db.transaction() as session:
        session.execute(insert(Item), rows)
        # One more kept post, of an item that went out for good: no candidate any more.
        gone_for_good = session.scalars(
            select(Item.id).where(Item.evergreen.is_(False), Item.kind == "help")
        ).first()
        at = first - timedelta(days=3)
        session.execute(
            update(Item)
            .where(Item.id == gone_for_good)
            .values(status=ItemStatus.PUBLISHED, last_published_at=at)
        )
        session.add(
            Post(item_id=gone_for_good, account="main", slot_at=at, kind="help", is_pitch=False,
                 text="t", status=PostStatus.PUBLISHED, idempotency_key="gone-for-good",
                 created_at=at, updated_at=at)
        )  # fmt: skip
        for n, item_id in enumerate(("lazy-promo-002", "lazy-promo-005")):
            at = first - timedelta(days=30 + n)
            session.add(
                Post(item_id=item_id, account="main", slot_at=at, kind="promo", is_pitch=True,
                     text="t", status=PostStatus.PUBLISHED, idempotency_key=f"old-lazy-{n}",
                     created_at=at, updated_at=at)
            )  # fmt: skip
    results = []
    with db.transaction() as session:
        existing = existing_posts(session, names, names, ranges, rules)
        used = {post.item_id for post in existing.fixed}
        assert {"lazy-promo-002", "lazy-promo-005"} <= used
        # The items a plan may read again: those of the kept posts still open.
        open_now = set(
            session.scalars(
                select(Item.id).where(
                    Item.id.in_(used),
                    Item.manual_hold.is_(False),
                    Item.status.in_(["queued", "held", "planned", "expired"])
                    | (Item.evergreen.is_(True) & (Item.status == "published")),
                )
            )
        )
        assert existing.open_item_ids == open_now and "lazy-promo-002" in open_now
        assert gone_for_good in used - existing.open_item_ids
        for horizon in (last, None):  # lazily (a week's plan), then everything at once
            supply = load_candidates(
                session, config, first, horizon, existing.open_item_ids if horizon else used
            )
            results.append(
                plan(slots, existing.fixed, supply.eager, rules, lambda c, a: c.id, supply.later)
            )
            lazily_read = len(supply.later)
            supply.close()
            if horizon is not None:
                assert lazily_read and not any(c.kind == "promo" for c in supply.eager
                                               if not c.forced and c.not_after is None)  # fmt: skip
    lazy, whole = results
    assert [(p.slot, p.item and p.item.id, p.reason) for p in lazy.placements] == [
        (p.slot, p.item and p.item.id, p.reason) for p in whole.placements
    ]
    assert (lazy.held, lazy.waiting, lazy.expired, lazy.unlisted) == (
        whole.held, whole.waiting, whole.expired, whole.unlisted
    )  # fmt: skip
    assert whole.unlisted.get("main", 0) > 0  # more promos left out than a plan names
    assert ("lazy-promo-002", "main") not in whole.held | whole.waiting  # posted there


def test_a_kind_with_many_dated_items_is_read_whole_and_the_gives_stay_lazy(
    db: Database, config: Config
) -> None:
    """A plan over years, where every promo's not_after falls inside it: the promos are too
    many to read by id, so the kind is read whole; the gives still come lazily (reading the
    whole queue at once took a two-year plan from 234 MB to 375 MB)."""
    names = list(config.settings.accounts)
    slots, _ = week_slots(config, names, WEEK, NOW)
    first, last = min(s.at for s in slots), max(s.at for s in slots)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"id": f"dated-promo-{n:04d}", "kind": "promo", "text": f"Offer {n}",
         "url": f"https://shop.example/{n}", "fields": {}, "variants": {}, "accounts": [],
         "tags": [], "evergreen": False, "priority": 0, "status": "queued",
         "manual_hold": False, "force": False, "source": "test", "content_hash": f"h{n}",
         "not_after": last - timedelta(hours=1), "created_at": created + timedelta(minutes=n),
         "updated_at": created}
        for n in range(600)
    ]  # fmt: skip
    with db.transaction() as session:
        session.execute(insert(Item), rows)
    with db.transaction() as session:
        supply = load_candidates(session, config, first, last)
        kinds_later = set(supply.later)
        dated = sum(c.id.startswith("dated-promo-") for c in supply.eager)
        supply.close()
    assert "promo" not in kinds_later and {"share", "help"} <= kinds_later
    assert dated == 600


@pytest.mark.parametrize(
    ("template", "renders_per_item"),
    [("{{ text }} (from the team)", 2), ("{{ text }} (from {{ account }})", 3)],
)
def test_a_shared_item_renders_once_a_network_unless_the_template_names_the_account(
    tmp_path: Path, db_url: str, template: str, renders_per_item: int
) -> None:
    (tmp_path / "queue").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "help.txt.j2").write_text(template)
    (tmp_path / "queue" / "items.toml").write_text(
        "".join(
            f'[[item]]\nid = "help-{n}"\nkind = "help"\ntext = "Tip {n}."\n\n' for n in range(4)
        )
    )
    (tmp_path / "planner.toml").write_text(
        f'timezone = "UTC"\ntemplates_dir = "templates"\n[database]\nurl = "{db_url}"\n'
        '[kinds.help]\nclass = "give"\nweight = 1\n'
        '[accounts.a]\nnetwork = "outbox"\nslots = ["mon 09:00"]\n'
        '[accounts.b]\nnetwork = "outbox"\nslots = ["mon 10:00"]\n'
        '[accounts.c]\nnetwork = "webhook"\nslots = ["mon 11:00"]\n'
        '[accounts.c.options]\nurl = "http://127.0.0.1:9/hook"\n'
    )
    config = load_config(tmp_path / "planner.toml")
    database = synced_database(config, NOW)
    try:
        renderer = CountingRenderer(config.templates_path)
        with database.transaction() as session:
            outcome = plan_weeks(session, config, WEEK, NOW, renderer=renderer)
        placed = [(p.slot.account, p.item.id, p.text) for p in outcome.placements if p.item]
        # The best item goes to every account's one slot.
        assert [(account, item) for account, item, _ in placed] == [
            ("a", "help-0"),
            ("b", "help-0"),
            ("c", "help-0"),
        ]
        assert renderer.renders == renders_per_item
        expected = {
            account: Renderer(config.templates_path).render(
                RenderInput(id="help-0", kind="help", text="Tip 0."), network, account
            )
            for account, network in (("a", "outbox"), ("b", "outbox"), ("c", "webhook"))
        }
        assert {account: text for account, _, text in placed} == expected
        assert [text for _, text in sorted(posts_texts(database))] == [
            expected["a"],
            expected["b"],
            expected["c"],
        ]
    finally:
        database.dispose()


def posts_texts(db: Database) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        return [tuple(row) for row in session.execute(select(Post.account, Post.text))]  # type: ignore[misc]
