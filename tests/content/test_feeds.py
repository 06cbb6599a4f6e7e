"""`planner feeds sync` against real feed documents served over real HTTP on 127.0.0.1.

Each test syncs, then looks at the queue: only recent entries on a first sync, never a
duplicate, an edited entry updated in place, tracking parameters stripped, relative links
resolved, own-domain entries stored as pitches, and a feed that fails (500, timeout, too
large, not a feed) reported with the queue left exactly as it was.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.content.feed_sync import FeedResult, due_feeds, sync_feed, sync_feeds
from planner.store.database import Database, open_database
from planner.store.models import FeedState, Item

from fakes.fake_feeds import Document, FakeFeeds
from support.feeds import Entry, atom, rss

NOW = datetime.now(UTC).replace(microsecond=0)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def server() -> Iterator[FakeFeeds]:
    with FakeFeeds() as feeds:
        yield feeds


def configure(workspace: Path, feeds: str) -> None:
    config = workspace / "planner.toml"
    config.write_text(config.read_text() + "\n" + feeds)


@pytest.fixture
def db(workspace: Path) -> Iterator[Database]:
    database = open_database(load_config(workspace / "planner.toml").database_url)
    yield database
    database.dispose()


def feed_items(db: Database, name: str = "blog") -> dict[str, Item]:
    with db.reading() as session:
        rows = list(session.scalars(select(Item).where(Item.source == f"feed:{name}")))
        session.expunge_all()
    return {item.id: item for item in rows}


def sync(*names: str) -> tuple[Result, list[dict[str, object]]]:
    """`feeds sync NAMES --json` (default: blog; the example config has a feed of its own)."""
    result = invoke("feeds", "sync", *(names or ("blog",)), "--json")
    assert "Traceback" not in result.output
    start = result.output.index("[")
    end = result.output.rindex("]") + 1
    return result, json.loads(result.output[start:end])


def two_years(count: int = 200) -> list[Entry]:
    """``count`` posts, one every ~3.6 days back from now: two years of a blog."""
    step = timedelta(days=730) / count
    return [
        Entry(
            guid=f"post-{n}",
            title=f"Post number {n}",
            link=f"https://lena.example.dev/posts/{n}?utm_source=rss&utm_medium=feed&ref=top",
            published=NOW - step * n - timedelta(hours=1),
            author="Lena Fischer",
            summary=f"About builds, part {n}",
        )
        for n in range(count)
    ]


def test_first_sync_takes_recent_entries_then_nothing_twice_then_updates(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    entries = two_years()
    server.documents["/feed.xml"] = Document(rss(entries))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')

    result, [report] = sync()
    assert result.exit_code == 0, result.output
    recent = [e for e in entries if e.published and e.published >= NOW - timedelta(days=14)]
    assert 2 <= len(recent) < 10
    assert report["added"] == len(recent) and report["skipped"] == 200 - len(recent)
    items = feed_items(db)
    assert sorted(item.title or "" for item in items.values()) == sorted(e.title for e in recent)
    one = next(iter(items.values()))
    assert one.kind == "share" and one.credit == "Lena Fischer"
    assert one.url is not None and "utm_" not in one.url and "ref=top" in one.url

    again, [second] = sync()
    assert again.exit_code == 0
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, len(recent))
    assert feed_items(db).keys() == items.keys()

    edited = [Entry(**{**vars(entries[0]), "title": "Post number 0, corrected"}), *entries[1:]]
    server.documents["/feed.xml"] = Document(rss(edited))
    _, [third] = sync()
    assert (third["added"], third["updated"]) == (0, 1)
    titles = {item.title for item in feed_items(db).values()}
    assert "Post number 0, corrected" in titles and "Post number 0" not in titles
    assert len(feed_items(db)) == len(recent)


def test_a_failing_feed_is_reported_and_leaves_the_queue_unchanged(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(20)))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    assert sync()[0].exit_code == 0
    before = {key: (item.title, item.updated_at) for key, item in feed_items(db).items()}
    assert before

    server.documents["/feed.xml"].behaviour = "error"
    result = invoke("feeds", "sync", "blog")
    assert result.exit_code == 1
    assert "blog: failed: HTTP 500 Internal Server Error (queue unchanged)" in result.output
    after = {key: (item.title, item.updated_at) for key, item in feed_items(db).items()}
    assert after == before
    listed = {row["feed"]: row for row in json.loads(invoke("feeds", "list", "--json").output)}
    assert listed["blog"]["last_result"] == "error" and "HTTP 500" in listed["blog"]["last_error"]
    assert listed["ci-weekly"]["last_result"] is None  # never synced
    status = invoke("status")
    assert "feed blog" in status.output and "HTTP 500" in status.output


def test_one_failing_feed_does_not_stop_the_others(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/good.xml"] = Document(rss(two_years(20)))
    configure(
        workspace,
        f'[feeds.gone]\nurl = "{server.url}/missing.xml"\n'
        f'[feeds.blog]\nurl = "{server.url}/good.xml"\n',
    )
    result, reports = sync("gone", "blog")
    assert result.exit_code == 1
    assert [(r["feed"], r["result"]) for r in reports] == [("gone", "error"), ("blog", "ok")]
    assert feed_items(db)


def test_conditional_get_sends_validators_and_a_304_changes_nothing(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(
        rss(two_years(20)), etag='"v1"', last_modified="Mon, 30 Nov 2026 08:00:00 GMT"
    )
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    assert sync()[0].exit_code == 0
    before = feed_items(db).keys()
    result, [report] = sync()
    assert result.exit_code == 0 and report["result"] == "not modified"
    assert server.requests[-1].header("If-None-Match") == '"v1"'
    assert server.requests[-1].header("If-Modified-Since") == "Mon, 30 Nov 2026 08:00:00 GMT"
    assert feed_items(db).keys() == before


def test_atom_entries_and_relative_links(workspace: Path, server: FakeFeeds, db: Database) -> None:
    entries = [
        Entry("urn:a", "Cache keys", "/notes/cache-keys?fbclid=abc", NOW - timedelta(days=1),
              author="Ada"),
        Entry("urn:b", "Flaky tests", "notes/flaky?gclid=x&page=2#top", NOW - timedelta(days=2)),
    ]  # fmt: skip
    doc = Document(atom(entries), content_type="application/atom+xml")
    server.documents["/blog/atom.xml"] = doc
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/blog/atom.xml"\n')
    result, _ = sync()
    assert result.exit_code == 0, result.output
    by_title = {item.title: item for item in feed_items(db).values()}
    assert by_title["Cache keys"].url == f"{server.url}/notes/cache-keys"
    assert by_title["Cache keys"].credit == "Ada"
    assert by_title["Flaky tests"].url == f"{server.url}/blog/notes/flaky?page=2"
    assert by_title["Flaky tests"].credit == "Build notes"  # no author: the feed's title


def test_broken_xml_that_feedparser_recovers(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    body = rss(two_years(3)).replace(b"</channel></rss>", b"<item><title>cut off")
    body = body.replace(b"Post number 1", b"Post & number 1")  # a bare ampersand
    server.documents["/feed.xml"] = Document(body)
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    result = invoke("feeds", "sync", "blog")
    assert result.exit_code == 0, result.output
    assert "malformed, recovered" in result.output
    assert feed_items(db)


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("slow", "no answer within 0.5 s"),
        ("huge", "larger than max_bytes"),
        ("huge_undeclared", "larger than max_bytes"),
        ("not a feed", "not a feed"),
    ],
)
def test_timeouts_caps_and_non_feeds_fail_the_feed_only(
    workspace: Path, server: FakeFeeds, db: Database, behaviour: str, said: str
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(20)))
    config = workspace / "planner.toml"
    text = config.read_text().replace("timeout_seconds = 20", "timeout_seconds = 0.5")
    config.write_text(text.replace("max_bytes = 5242880", "max_bytes = 1048576"))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    assert sync()[0].exit_code == 0
    before = set(feed_items(db))
    if behaviour == "not a feed":
        server.documents["/feed.xml"] = Document(b"<html><body>Moved!</body>", "text/html")
    else:
        server.documents["/feed.xml"].behaviour = behaviour
    result = invoke("feeds", "sync", "blog")
    assert result.exit_code == 1
    assert said in result.output, result.output
    assert set(feed_items(db)) == before


def test_redirects_are_followed_within_the_limit(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(20)))
    server.documents["/old"] = Document(b"", behaviour="redirect", redirect_to="/feed.xml")
    server.documents["/loop"] = Document(b"", behaviour="redirect", redirect_to="/loop")
    configure(
        workspace,
        f'[feeds.blog]\nurl = "{server.url}/old"\n[feeds.loop]\nurl = "{server.url}/loop"\n',
    )
    result, reports = sync("blog", "loop")
    assert [r["result"] for r in reports] == ["ok", "error"]
    assert "more than 5 redirects" in str(reports[1]["error"])
    assert feed_items(db)


def test_own_domain_entries_become_labelled_pitches(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    entries = [
        Entry("1", "We shipped Test Insights", "https://brightline.example/blog/insights",
              NOW - timedelta(days=1), author="Brightline"),
        Entry("2", "Someone else's post", "https://lena.example.dev/x", NOW - timedelta(days=1),
              author="Lena"),
    ]  # fmt: skip
    server.documents["/feed.xml"] = Document(rss(entries))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\ntags = ["news"]\n')
    result = invoke("feeds", "sync", "blog")
    assert "1 link to your own domains: stored as pitches" in result.output
    by_title = {item.title: item for item in feed_items(db).values()}
    assert by_title["We shipped Test Insights"].kind == "promo"
    assert by_title["We shipped Test Insights"].tags == ["news", "own-domain"]
    assert by_title["Someone else's post"].kind == "share"


def test_filters_cap_and_expiry(workspace: Path, server: FakeFeeds, db: Database) -> None:
    monday = (NOW - timedelta(days=NOW.weekday() + 7)).replace(hour=12, minute=0, second=0)
    entries = [
        Entry(
            str(n),
            f"CI tip {n}" + (" (sponsored)" if n == 3 else ""),
            f"https://lena.example.dev/{n}",
            monday + timedelta(hours=n),
            author="Lena",
        )
        for n in range(6)
    ] + [Entry("x", "Cooking pasta", "https://lena.example.dev/pasta", monday, author="Lena")]
    # fmt: skip
    server.documents["/feed.xml"] = Document(rss(entries))
    configure(
        workspace,
        f'[feeds.blog]\nurl = "{server.url}/feed.xml"\ninclude = ["ci"]\n'
        'exclude = ["Sponsored"]\nmax_per_week = 3\nnot_after_days = 10\nfirst_sync_days = 30\n',
    )
    _, [report] = sync()
    titles = sorted(item.title or "" for item in feed_items(db).values())
    assert titles == ["CI tip 2", "CI tip 4", "CI tip 5"]  # the newest three of the week
    assert report["skipped"] == 4
    item = next(iter(feed_items(db).values()))
    published = datetime.fromisoformat(str(item.fields["published"]))
    assert item.not_after == published + timedelta(days=10)


def test_feed_entries_are_planned_as_shares(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(40)))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    assert invoke("feeds", "sync", "blog").exit_code == 0
    plan = invoke("plan", "--week", "next", "--json")
    assert plan.exit_code == 0, plan.output
    assert "feed:blog:" in plan.output


def test_a_feed_file_given_by_path(workspace: Path, db: Database) -> None:
    (workspace / "feeds").mkdir()
    (workspace / "feeds" / "blog.xml").write_bytes(rss(two_years(20)))
    configure(workspace, '[feeds.blog]\nurl = "feeds/blog.xml"\n')
    result = invoke("feeds", "sync", "blog")
    assert result.exit_code == 0, result.output
    assert feed_items(db)
    with db.reading() as session:
        state = session.get(FeedState, "blog")
        assert state is not None and state.last_result == "ok"


def test_an_entry_removed_by_hand_stays_removed(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(20)))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    assert sync()[0].exit_code == 0
    gone = sorted(feed_items(db))[0]
    assert invoke("queue", "remove", gone).exit_code == 0
    _, [report] = sync()
    assert report["added"] == 0 and report["updated"] == 0
    assert feed_items(db)[gone].status == "archived"


def test_feeds_are_due_for_a_refresh_after_refresh_minutes(workspace: Path, db: Database) -> None:
    config = workspace / "planner.toml"
    config.write_text(config.read_text().replace("# refresh_minutes = 60", "refresh_minutes = 60"))
    loaded = load_config(config)
    assert due_feeds(db, loaded, NOW) == ["ci-weekly"]  # never fetched
    assert invoke("feeds", "sync").exit_code == 0
    synced_at = feed_state(db, "ci-weekly").last_fetch_at
    assert synced_at is not None
    assert due_feeds(db, loaded, synced_at + timedelta(minutes=59)) == []
    assert due_feeds(db, loaded, synced_at + timedelta(minutes=60)) == ["ci-weekly"]


def test_no_refresh_without_refresh_minutes(workspace: Path, db: Database) -> None:
    assert due_feeds(db, load_config(workspace / "planner.toml"), NOW) == []


def feed_state(db: Database, name: str) -> FeedState:
    with db.reading() as session:
        state = session.get(FeedState, name)
        assert state is not None
        session.expunge(state)
        return state


def test_a_body_that_names_a_local_file_is_not_read_as_that_file(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    # feedparser opens bytes naming an existing file: a server must not make it read ours.
    local = workspace / "private-feed.xml"
    local.write_bytes(rss(two_years(20)))
    server.documents["/feed.xml"] = Document(str(local).encode())
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    result = invoke("feeds", "sync", "blog")
    assert result.exit_code == 1 and "not a feed" in result.output
    assert feed_items(db) == {}


def test_the_example_feed_is_planned_as_shares_in_the_first_week(
    workspace: Path, db: Database
) -> None:
    assert invoke("queue", "sync").exit_code == 0
    result = invoke("feeds", "sync")
    assert result.exit_code == 0, result.output
    assert "1 link to your own domains: stored as pitches" in result.output
    plan = json.loads(invoke("plan", "--week", "next", "--json").output)
    planned = [slot for slot in plan["slots"] if str(slot["item"]).startswith("feed:ci-weekly:")]
    assert sum(slot["kind"] == "share" for slot in planned) >= 2
    pitches = {slot["item"] for slot in planned if slot["kind"] != "share"}
    own = {i for i, item in feed_items(db, "ci-weekly").items() if "own-domain" in item.tags}
    assert pitches <= own  # only the entry linking to brightline.example goes as a promo
    urls = {item.url for item in feed_items(db, "ci-weekly").values()}
    assert all(url and "utm_" not in url and "fbclid" not in url for url in urls)


def test_two_syncs_of_one_feed_at_once_take_turns(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/feed.xml"] = Document(rss(two_years(60)))
    configure(workspace, f'[feeds.blog]\nurl = "{server.url}/feed.xml"\n')
    config = load_config(workspace / "planner.toml")
    start = threading.Barrier(2)
    results: list[FeedResult] = []
    errors: list[BaseException] = []

    def one_sync() -> None:
        database = open_database(config.database_url)
        try:
            start.wait()
            results.append(sync_feed(database, config, "blog", NOW))
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=one_sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(result.added for result in results)[0] == 0  # the second found them stored
    assert sum(result.added for result in results) == len(feed_items(db))


def test_feeds_sync_tells_its_progress_feed_by_feed(
    workspace: Path, server: FakeFeeds, db: Database
) -> None:
    server.documents["/good.xml"] = Document(rss(two_years(5)))
    configure(
        workspace,
        f'[feeds.gone]\nurl = "{server.url}/missing.xml"\n'
        f'[feeds.blog]\nurl = "{server.url}/good.xml"\n',
    )
    told: list[int] = []
    config = load_config(workspace / "planner.toml")
    results = sync_feeds(db, config, NOW, ["gone", "blog"], progress=told.append)
    assert [r.name for r in results] == ["gone", "blog"]
    assert told == [1, 1]  # a failing feed counts as done too
