"""The stored own-domain flag (planner.plan.own_domains): a give linking to an own domain is a
pitch whatever happened to the item or the config since the flags were computed, on SQLite
and PostgreSQL; every way the code writes an item leaves its flag unknown or right."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, bindparam, delete, event, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from planner.config.settings import Config, load_config
from planner.content.files import QueueItem, queue_file_paths, read_queue_files, source_name
from planner.content.holds import hold_item, release_item
from planner.content.lint_state import apply_lint
from planner.content.store import add_item, sync_items
from planner.plan.own_domains import (
    mentions_own_domain,
    mentions_text,
    recorded_domains,
    refresh_flags,
)
from planner.plan.store import PlanOutcome, plan_weeks
from planner.publish.resolve import resolve_post
from planner.store.database import (
    Database,
    alembic_config,
    head_revision,
    make_engine,
    open_database,
    upgrade_database,
)
from planner.store.models import Base, Item, ItemStatus, OwnDomainFlags, Post, PostStatus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday; week 49 starts Mon 30 Nov
WEEK = [(2026, 49)]
SHARE = "share-our-blog"
OWN_URL = "https://blog.brightline.example/builds"
OTHER_URL = "https://blog.elsewhere.example/builds"
_ITEMS = cast(Table, Item.__table__)


def write_share(workspace: Path, url: str, text: str | None = None) -> None:
    """A top-priority share: offered at the week's first slot, where a pitch breaks the rule."""
    body = f"\ntext = {text!r}" if text else ""
    (workspace / "queue" / "own.toml").write_text(
        f'[[item]]\nid = "{SHARE}"\nkind = "share"\npriority = 9\n'
        f'title = "How we cut build times"\nurl = "{url}"\ncredit = "Brightline"{body}\n'
    )


def with_domains(workspace: Path, domains: list[str]) -> Config:
    path = workspace / "planner.toml"
    lines = path.read_text().splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("own_domains ="))
    lines[at] = "own_domains = [" + ", ".join(f'"{d}"' for d in domains) + "]"
    path.write_text("\n".join(lines) + "\n")
    return load_config(path)


def sync(db: Database, config: Config) -> None:
    files = queue_file_paths([config.queue_path])
    with db.transaction() as session:
        items = read_queue_files(files, config)
        sync_items(session, items, [source_name(f, config) for f in files], NOW)


def run_plan(db: Database, config: Config, *, dry_run: bool = False) -> PlanOutcome:
    with db.transaction() as session:
        outcome = plan_weeks(session, config, WEEK, NOW, dry_run=dry_run)
        if dry_run:
            session.rollback()
        return outcome


def treated_as(outcome: PlanOutcome, item_id: str = SHARE) -> str:
    """ "pitch" when the plan held or placed the item as a pitch, "give" when it placed it as
    a give (the share is offered first, so it is one or the other)."""
    held = [reason for (held_id, _), reason in outcome.held.items() if held_id == item_id]
    placed = [p for p in outcome.placements if p.item is not None and p.item.id == item_id]
    if held:
        assert all(reason.startswith("a pitch, as it links to ") for reason in held), held
        return "pitch"
    assert placed, f"{item_id} was neither held nor placed"
    return "pitch" if placed[0].item is not None and placed[0].item.is_pitch else "give"


def flags(db: Database) -> dict[str, bool | None]:
    with db.reading() as session:
        rows = session.execute(select(Item.id, Item.mentions_own_domain))
        return {item_id: None if flag is None else bool(flag) for item_id, flag in rows}


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace / "planner.toml")


@pytest.fixture
def db(config: Config):  # type: ignore[no-untyped-def]
    database = open_database(config.database_url)
    yield database
    database.dispose()


def test_a_share_linking_to_an_own_domain_is_a_pitch_after_sync_and_flagged_by_the_plan(
    workspace: Path, config: Config, db: Database
) -> None:
    write_share(workspace, OWN_URL)
    sync(db, config)
    assert flags(db)[SHARE] is None  # not known until a plan computes it
    assert treated_as(run_plan(db, config)) == "pitch"
    known = flags(db)
    assert known[SHARE] is True
    with db.reading() as session:
        assert recorded_domains(session) == ["brightline.example"]
    # The promos link to brightline.example too; the other shares and helps do not.
    with db.reading() as session:
        promos = set(session.scalars(select(Item.id).where(Item.kind == "promo")))
    assert promos and {i for i, flag in known.items() if flag} == {SHARE, *promos}
    # The plan's own status writes keep the flags it computed: the next plan has none to redo.
    assert None not in known.values()


def test_a_plan_reads_the_record_of_the_flags_domains_once(
    workspace: Path, config: Config, db: Database
) -> None:
    """The plan's own refresh (which locks the record) makes the flags current: loading the
    candidates trusts them without reading the record again. A dry run refreshes nothing
    and reads it to decide."""
    write_share(workspace, OWN_URL)
    sync(db, config)
    reads: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "FROM own_domain_flags" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert treated_as(run_plan(db, config)) == "pitch"
        assert len(reads) == 1, reads
        reads.clear()
        assert treated_as(run_plan(db, config, dry_run=True)) == "pitch"
        assert len(reads) == 1, reads
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_an_edit_that_adds_or_removes_the_link_is_seen_by_the_next_plan(
    workspace: Path, config: Config, db: Database
) -> None:
    write_share(workspace, OTHER_URL)
    sync(db, config)
    assert treated_as(run_plan(db, config)) == "give"
    assert flags(db)[SHARE] is False
    # The link comes in the text, the url stays elsewhere: the flag computed False is stale.
    write_share(workspace, OTHER_URL, text=f"Our own write-up: {OWN_URL}")
    sync(db, config)
    assert treated_as(run_plan(db, config)) == "pitch"
    write_share(workspace, OTHER_URL)
    sync(db, config)
    assert treated_as(run_plan(db, config)) == "give"


def test_a_dry_run_before_any_plan_sees_the_link_and_writes_no_flag(
    workspace: Path, config: Config, db: Database
) -> None:
    write_share(workspace, OWN_URL)
    sync(db, config)
    assert treated_as(run_plan(db, config, dry_run=True)) == "pitch"
    assert set(flags(db).values()) == {None}
    with db.reading() as session:
        assert recorded_domains(session) is None


def test_a_dry_run_sees_a_link_added_since_the_last_plan(
    workspace: Path, config: Config, db: Database
) -> None:
    write_share(workspace, OTHER_URL)
    sync(db, config)
    assert treated_as(run_plan(db, config)) == "give"
    write_share(workspace, OTHER_URL, text=f"Our own write-up: {OWN_URL}")
    sync(db, config)
    # The flags are current for the config's domains, except this edited row's.
    assert treated_as(run_plan(db, config, dry_run=True)) == "pitch"
    assert flags(db)[SHARE] is None


@pytest.mark.parametrize("plan_between", [True, False], ids=["planned-before", "never-planned"])
def test_changed_own_domains_are_applied_to_every_item(
    workspace: Path, config: Config, db: Database, plan_between: bool
) -> None:
    write_share(workspace, "https://blog.ours.example/builds")
    sync(db, config)
    if plan_between:
        assert treated_as(run_plan(db, config)) == "give"  # ours.example is not an own domain
        assert flags(db)[SHARE] is False
    changed = with_domains(workspace, ["ours.example", "brightline.example"])
    # A dry run cannot trust flags computed for other domains: it searches the text.
    assert treated_as(run_plan(db, changed, dry_run=True)) == "pitch"
    assert treated_as(run_plan(db, changed)) == "pitch"
    assert flags(db)[SHARE] is True
    with db.reading() as session:
        assert recorded_domains(session) == ["brightline.example", "ours.example"]
    # Back to the first domains.
    first = with_domains(workspace, ["brightline.example"])
    assert treated_as(run_plan(db, first)) == "give"
    assert flags(db)[SHARE] is False


def test_without_own_domains_nothing_is_a_pitch_by_its_link(
    workspace: Path, config: Config, db: Database
) -> None:
    write_share(workspace, OWN_URL)
    sync(db, config)
    assert treated_as(run_plan(db, config)) == "pitch"
    none = with_domains(workspace, [])
    assert treated_as(run_plan(db, none)) == "give"
    # The flags still describe brightline.example, and are right when it comes back.
    with db.reading() as session:
        assert recorded_domains(session) == ["brightline.example"]
    assert treated_as(run_plan(db, with_domains(workspace, ["brightline.example"]))) == "pitch"


def test_a_database_upgraded_from_0009_plans_the_same(
    workspace: Path, config: Config, db_url: str
) -> None:
    write_share(workspace, OWN_URL)
    fresh = open_database(db_url)
    try:
        sync(fresh, config)
        expected = run_plan(fresh, config)
    finally:
        fresh.dispose()
    # The same database emptied, brought to 0009 and synced there: the queue a planner of
    # yesterday stored, with no flag column yet.
    engine = make_engine(db_url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    command.upgrade(alembic_config(engine), "0009")
    assert "mentions_own_domain" not in {c["name"] for c in inspect(engine).get_columns("items")}
    sync(Database(engine, sessionmaker(engine), url=db_url), config)  # inserts only
    engine.dispose()
    assert upgrade_database(db_url) == ("0009", head_revision())
    upgraded = open_database(db_url)
    try:
        assert set(flags(upgraded).values()) == {None}
        got = run_plan(upgraded, config)
        assert set(flags(upgraded).values()) == {True, False}
    finally:
        upgraded.dispose()
    assert treated_as(got) == treated_as(expected) == "pitch"
    assert [(p.slot, p.item and p.item.id, p.reason) for p in got.placements] == [
        (p.slot, p.item and p.item.id, p.reason) for p in expected.placements
    ]
    assert got.held == expected.held


def test_flags_without_a_record_of_their_domains_are_not_trusted(
    workspace: Path, config: Config, db: Database
) -> None:
    # Items copied with their flags but not the record (as `planner simulate` copies a queue).
    write_share(workspace, OWN_URL)
    sync(db, config)
    with db.transaction() as session:
        session.execute(update(Item).values(mentions_own_domain=False))
    assert treated_as(run_plan(db, config, dry_run=True)) == "pitch"
    assert treated_as(run_plan(db, config)) == "pitch"
    assert flags(db)[SHARE] is True


# --- every kind of write the code makes to an item resets the flag ---------------------------


def help_item(
    item_id: str,
    text: str | None,
    title: str | None = None,
    url: str | None = None,
    variants: dict[str, dict[str, str]] | None = None,
) -> QueueItem:
    content = repr((text, title, url, variants)).encode()
    return QueueItem(
        id=item_id, kind="help", text=text, title=title, url=url, credit=None, accounts=[],
        variants=variants or {}, fields={}, not_before=None, not_after=None, evergreen=False,
        cooldown_days=None, max_reposts=None, priority=0, tags=[], source="cli",
        content_hash=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip


def _sync_edit(session: Session, text: str) -> None:  # queue/CSV/feed sync
    sync_items(session, [help_item("help-edited", text)], [], NOW)


def _add_again(session: Session, text: str) -> None:  # `queue add` of a known id
    add_item(session, help_item("help-edited", text), NOW)


def _core_update(session: Session, text: str) -> None:  # archive, publishing, plan statuses
    session.execute(update(_ITEMS).where(_ITEMS.c.id == "help-edited").values(text=text))


def _core_executemany(session: Session, text: str) -> None:  # verdicts' per-item statuses
    change = update(_ITEMS).where(_ITEMS.c.id == bindparam("key")).values(text=bindparam("new"))
    session.connection().execute(change, [{"key": "help-edited", "new": text}])


def _orm_update(session: Session, text: str) -> None:  # lint clearing, recheck, recovery
    session.execute(update(Item).where(Item.id == "help-edited").values(text=text))


def _orm_bulk_by_key(session: Session, text: str) -> None:  # lint flagging
    session.execute(update(Item), [{"id": "help-edited", "text": text}])


def _unit_of_work(session: Session, text: str) -> None:  # holds, removal
    edited = session.get(Item, "help-edited")
    assert edited is not None
    edited.text = text


@pytest.mark.parametrize(
    "write",
    [_sync_edit, _add_again, _core_update, _core_executemany, _orm_update, _orm_bulk_by_key,
     _unit_of_work],
    ids=lambda write: write.__name__.strip("_"),
)  # fmt: skip
def test_every_kind_of_item_write_leaves_the_flag_unknown(
    db: Database, config: Config, write: Callable[[Session, str], None]
) -> None:
    with db.transaction() as session:
        sync_items(session, [help_item("help-edited", "Nothing of ours here.")], [], NOW)
        refresh_flags(session, ["brightline.example"], NOW)
    assert flags(db) == {"help-edited": False}
    with db.transaction() as session:
        write(session, f"Now with {OWN_URL}")
    assert flags(db) == {"help-edited": None}
    with db.transaction() as session:
        assert refresh_flags(session, ["brightline.example"], NOW) == 1
    assert flags(db) == {"help-edited": True}


def test_holds_releases_the_lint_and_resolve_keep_a_known_flag(
    workspace: Path, db: Database
) -> None:
    """A write of an item's status alone (by hand, by the etiquette lint, by `planner
    resolve`) leaves its text as it was: the flag computed from that text stays known, and
    the next plan has nothing to search again."""
    path = workspace / "planner.toml"
    path.write_text(path.read_text().replace('mode = "warn"', 'mode = "hold"'))
    config = load_config(path)
    assert config.settings.lint.mode == "hold"
    own = help_item("help-own", f"Our notes: {OWN_URL}")
    pushy = help_item("help-pushy", f"Please RT! {OWN_URL}")
    with db.transaction() as session:
        sync_items(session, [own, pushy], [], NOW)
        refresh_flags(session, ["brightline.example"], NOW)
    assert flags(db) == {"help-own": True, "help-pushy": True}

    account = next(iter(config.settings.accounts))
    steps: list[Callable[[Session], object]] = [
        lambda s: hold_item(s, "help-own", NOW),
        lambda s: release_item(s, "help-own", NOW),
        lambda s: hold_item(s, "help-own", NOW),
        lambda s: release_item(
            s, "help-own", NOW, account=account, accounts=list(config.settings.accounts)
        ),
        lambda s: release_item(s, "help-own", NOW, force=True),
        lambda s: apply_lint(s, config, NOW),  # flags help-pushy
    ]
    for step in steps:
        with db.transaction() as session:
            step(session)
        assert flags(db) == {"help-own": True, "help-pushy": True}, step
    with db.reading() as session:
        assert session.get(Item, "help-pushy").status == ItemStatus.FLAGGED  # type: ignore[union-attr]

    # The lint lets it go again once the mode is warn.
    path.write_text(path.read_text().replace('mode = "hold"', 'mode = "warn"'))
    with db.transaction() as session:
        apply_lint(session, load_config(path), NOW)
    with db.reading() as session:
        assert session.get(Item, "help-pushy").status == ItemStatus.QUEUED  # type: ignore[union-attr]
    assert flags(db) == {"help-own": True, "help-pushy": True}

    # `planner resolve` of a post whose publishing is unknown.
    with db.transaction() as session:
        post = Post(item_id="help-own", account=account, slot_at=NOW, kind="help",
                    is_pitch=True, text="t", status=PostStatus.UNKNOWN,
                    idempotency_key="unknown-1", created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(post)
        session.flush()
        post_id = post.id
    with db.transaction() as session:
        resolve_post(session, post_id, NOW, published_url="https://example.social/1")
    assert flags(db) == {"help-own": True, "help-pushy": True}


# --- whatever is written and planned, the flags pick what the text search picks --------------

DOMAINS = ("ours.example", "brightline.example", "b.example")
FRAGMENTS = ("see https://blog.ours.example/x", "BRIGHTLINE.EXAMPLE rocks", "b.example",
             "https://a.b.example.org", "plain words")  # fmt: skip
texts = st.none() | st.lists(st.sampled_from(FRAGMENTS), max_size=2).map(" ".join)
edits = st.tuples(
    st.sampled_from(["sync", "add", "core"]),
    st.integers(0, 2),
    texts,
    texts,
    st.none() | st.sampled_from(FRAGMENTS).map(lambda f: f"https://{f.split()[-1]}"),
    st.none() | texts.map(lambda t: {"mastodon": {"text": t or ""}}),
)
refreshes = st.tuples(st.just("refresh"), st.sets(st.sampled_from(DOMAINS), min_size=1))
domain_sets = st.sets(st.sampled_from(DOMAINS))


def _write(session: Session, edit: tuple[Any, ...]) -> None:
    how, n, text_, title, url, variants = edit
    item = help_item(f"help-{n}", text_, title, url, variants)
    if how == "sync":
        sync_items(session, [item], [], NOW)
    elif how == "add":
        add_item(session, item, NOW)
    elif session.get(Item, item.id) is not None:
        session.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id == item.id)
            .values(text=text_, title=title, url=url, variants=variants or {})
        )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(edits | refreshes, min_size=2, max_size=10), config_domains=domain_sets)
def test_the_flags_pick_the_items_the_text_search_picks(
    db: Database, steps: list[tuple[Any, ...]], config_domains: set[str]
) -> None:
    with db.transaction() as session:
        session.execute(delete(Item))
        session.execute(delete(OwnDomainFlags))
    for step in steps:
        with db.transaction() as session:
            if step[0] == "refresh":
                refresh_flags(session, step[1], NOW)
            else:
                _write(session, step)
        with db.reading() as session:
            # A dry run's test (flags known or not) picks what the text search picks.
            for domains in (config_domains, *(d for d in [recorded_domains(session)] if d)):
                by_flags = select(Item.id).where(mentions_own_domain(session, domains))
                by_text = select(Item.id).where(mentions_text(domains))
                assert set(session.scalars(by_flags)) == set(session.scalars(by_text))
            # Every known flag is the text search's answer for the recorded domains.
            recorded = recorded_domains(session)
            known = session.execute(
                select(Item.id, Item.mentions_own_domain, mentions_text(recorded or []))
                .where(Item.mentions_own_domain.is_not(None))
            ).all()  # fmt: skip
            assert recorded is not None or not known
            assert all(bool(flag) == bool(found) for _, flag, found in known), known
