"""One image per row of a CSV import (``image``, ``image_alt``) and per feed entry (its
enclosure or ``media:content``), and images given by URL, fetched at sync from a loopback
server with the ``[media]`` size cap; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import load_config
from planner.store.database import open_database
from planner.store.models import ItemMedia

from fakes.fake_feeds import Document, FakeFeeds
from support.images import png


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def server() -> Iterator[FakeFeeds]:
    with FakeFeeds() as fake:
        yield fake


def stored(workspace: Path) -> list[tuple[str, str, str | None, str]]:
    config = load_config(workspace / "planner.toml")
    db = open_database(config.database_url)
    try:
        with db.reading() as session:
            rows = session.scalars(select(ItemMedia).order_by(ItemMedia.item_id)).all()
            return [(r.item_id, r.source, r.alt, r.sha256) for r in rows]
    finally:
        db.dispose()


def test_a_csv_row_carries_one_image_from_a_file_or_a_url(
    workspace: Path, server: FakeFeeds
) -> None:
    server.documents["/chart.png"] = Document(png(5, 5, colour=3), content_type="image/png")
    (workspace / "img").mkdir()
    (workspace / "img" / "tip.png").write_bytes(png(colour=4))
    (workspace / "backlog.csv").write_text(
        "id,kind,text,image,image_alt\n"
        "tip-1,help,A tip,img/tip.png,A screenshot\n"
        f"tip-2,help,Another,{server.url}/chart.png,A chart\n"
        "tip-3,help,No picture,,\n"
    )
    result = run("queue", "import", "backlog.csv", "--json")
    assert result.exit_code == 0, result.output
    assert stored(workspace) == [
        ("tip-1", "img/tip.png", "A screenshot", hashlib.sha256(png(colour=4)).hexdigest()),
        ("tip-2", f"{server.url}/chart.png", "A chart",
         hashlib.sha256(png(5, 5, colour=3)).hexdigest()),
    ]  # fmt: skip


def test_a_csv_image_problem_names_the_row_and_column(workspace: Path) -> None:
    (workspace / "backlog.csv").write_text(
        "id,kind,text,image,image_alt\ntip-1,help,A tip,gone.png,Gone\ntip-2,help,B,,Alt alone\n"
    )
    result = run("queue", "import", "backlog.csv")
    assert result.exit_code == 2, result.output
    assert "row 2, column image: gone.png: no such file" in result.output
    assert "row 3, column image_alt: alt text without an image" in result.output


def test_a_url_image_over_the_size_cap_or_not_found_is_refused(
    workspace: Path, server: FakeFeeds
) -> None:
    server.documents["/big.png"] = Document(png(10, 10, size=5000), content_type="image/png")
    config = (workspace / "planner.toml").read_text()
    config = config.replace("max_bytes = 16777216", "max_bytes = 4096")
    (workspace / "planner.toml").write_text(
        config.replace("timeout_seconds = 20\n", "timeout_seconds = 5\n")
    )
    for path in (workspace / "queue").glob("*.toml"):
        path.unlink()
    (workspace / "queue" / "pics.toml").write_text(
        '[[item]]\nid = "a"\nkind = "help"\ntext = "A"\n'
        f'[[item.media]]\nurl = "{server.url}/big.png"\nalt = "Big"\n'
        '[[item]]\nid = "b"\nkind = "help"\ntext = "B"\n'
        f'[[item.media]]\nurl = "{server.url}/nothing.png"\nalt = "None"\n'
    )
    result = run("queue", "sync")
    assert result.exit_code == 2, result.output
    assert f"media[0].url: cannot fetch {server.url}/big.png: " in result.output
    assert "larger than max_bytes (4096 bytes)" in result.output
    assert "HTTP 404" in result.output
    assert stored(workspace) == []


ENCLOSURE_FEED = """<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>CI Weekly</title><link>https://ci.example/</link><description>d</description>
<item><title>Caching, explained</title><link>https://ci.example/caching</link>
<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate>
<enclosure url="{url}/cover.png" type="image/png" length="100"/></item>
<item><title>Flaky tests</title><link>https://ci.example/flaky</link>
<pubDate>Mon, 30 Nov 2026 07:00:00 GMT</pubDate>
<media:content url="{url}/flaky.png" medium="image" type="image/png">
<media:description>A dashboard of flaky tests</media:description></media:content></item>
<item><title>No picture</title><link>https://ci.example/plain</link>
<pubDate>Mon, 30 Nov 2026 06:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_a_feed_entrys_enclosure_or_media_content_becomes_its_image_described_by_its_title(
    workspace: Path, server: FakeFeeds
) -> None:
    server.documents["/feed.xml"] = Document(ENCLOSURE_FEED.format(url=server.url).encode())
    server.documents["/cover.png"] = Document(png(colour=5), content_type="image/png")
    server.documents["/flaky.png"] = Document(png(colour=6), content_type="image/png")
    config = (workspace / "planner.toml").read_text()
    config = config.replace('url = "queue/feeds/ci-weekly.xml"', f'url = "{server.url}/feed.xml"')
    (workspace / "planner.toml").write_text(config)
    result = run("feeds", "sync", "--json")
    assert result.exit_code == 0, result.output
    media = {source: (alt, sha) for _item, source, alt, sha in stored(workspace)}
    assert media == {
        f"{server.url}/cover.png": (
            "Caching, explained",
            hashlib.sha256(png(colour=5)).hexdigest(),
        ),
        f"{server.url}/flaky.png": (
            "Flaky tests",
            hashlib.sha256(png(colour=6)).hexdigest(),
        ),
    }
    listed = json.loads(run("queue", "list", "--json").output)
    assert sum(1 for item in listed if item["media"]) == 2
