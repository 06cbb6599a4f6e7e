"""Benchmark: `planner feeds sync` of 50 feeds of 100 entries each, from a loopback server.

Run by hand (`.venv/bin/python bench/feeds.py [FEEDS] [ENTRIES]`). Prints, best of three:

- the floor: fetching the same documents with httpx and parsing them with feedparser,
  nothing else (what any feed reader pays);
- the first sync: fetch, parse, 5,000 items made, rendered for their account and stored
  in SQLite, the feeds' state written (target: under 3 times the floor);
- a re-sync of unchanged documents served without validators (all parsed again, nothing
  written but the feeds' state);
- a re-sync answered 304 Not Modified (conditional GET).

The server is the tests' own feed fake (tests/fakes/fake_feeds.py).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from planner.config.settings import load_config  # noqa: E402
from planner.content.feed_sync import sync_feeds  # noqa: E402
from planner.content.files import QueueItem  # noqa: E402
from planner.plan.sync_check import ItemChecker  # noqa: E402
from planner.store.database import open_database  # noqa: E402

from fakes.fake_feeds import Document, FakeFeeds  # noqa: E402
from support.feeds import Entry, rss  # noqa: E402


def documents(feeds: int, entries: int, now: datetime) -> dict[str, bytes]:
    out = {}
    for f in range(feeds):
        items = [
            Entry(
                guid=f"feed{f}-post{n}",
                title=f"Post {n} of blog {f}: what we learned about builds",
                link=f"https://blog{f}.example.org/posts/{n}?utm_source=rss",
                published=now - timedelta(hours=3 * n + 1),
                author=f"Author {f}",
                summary="A summary of a few sentences about builds and tests. " * 3,
            )
            for n in range(entries)
        ]
        out[f"/feed{f}.xml"] = rss(items, title=f"Blog {f}")
    return out


def best(runs: int, setup: Callable[[], None], work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        setup()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    feeds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    now = datetime.now(UTC)
    docs = documents(feeds, entries, now)
    folder = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    with FakeFeeds() as server:
        for path, body in docs.items():
            server.documents[path] = Document(body)

        def floor() -> None:
            with httpx.Client() as client:
                for path in docs:
                    body = client.get(server.url + path).content
                    parsed = feedparser.parse(body)
                    assert len(parsed.entries) == entries

        floor_s = best(3, lambda: None, floor)

        config_text = (REPO / "config.example.toml").read_text()
        config_text = (
            config_text.split("[feeds.ci-weekly]")[0]
            + "\n".join(
                f'[feeds.f{f}]\nurl = "{server.url}/feed{f}.xml"\nfirst_sync_days = 3660\n'
                for f in range(feeds)
            )
            + "\n[lint]"
            + config_text.split("[lint]", 1)[1]
        )
        (folder / "planner.toml").write_text(config_text)
        shutil.copytree(REPO / "templates", folder / "templates")
        config = load_config(folder / "planner.toml")
        checker = ItemChecker(config)

        def check(item: QueueItem) -> list[str]:
            return [message for _item, _key, message in checker.failures(item)]

        db_path = folder / "planner.db"

        def fresh() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)

        def first() -> None:
            db = open_database(config.database_url)
            results = sync_feeds(db, config, now, check=check)
            db.dispose()
            assert sum(r.added for r in results) == feeds * entries, results[0]

        first_s = best(3, fresh, first)

        def again() -> None:
            db = open_database(config.database_url)
            results = sync_feeds(db, config, now, check=check)
            db.dispose()
            assert all(r.unchanged == entries for r in results)

        again_s = best(3, lambda: None, again)
        for path in docs:
            server.documents[path].etag = '"v1"'
        again()  # the server's validators are stored

        def not_modified() -> None:
            db = open_database(config.database_url)
            results = sync_feeds(db, config, now, check=check)
            db.dispose()
            assert all(r.result == "not modified" for r in results)

        nm_s = best(3, lambda: None, not_modified)
    shutil.rmtree(folder)
    total = feeds * entries
    print(f"{feeds} feeds x {entries} entries ({total} entries) from 127.0.0.1, best of 3:")
    print(f"  floor (httpx fetch + feedparser parse)  {floor_s:6.2f} s")
    print(f"  first sync (5,000 items stored)         {first_s:6.2f} s  ({first_s / floor_s:.2f}x)")
    print(f"  re-sync, unchanged documents            {again_s:6.2f} s  ({again_s / floor_s:.2f}x)")
    print(f"  re-sync, 304 Not Modified               {nm_s:6.2f} s")


if __name__ == "__main__":
    main()
