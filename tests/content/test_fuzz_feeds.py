"""Fuzzing feed documents: whatever a feed holds (bytes, broken XML, odd titles, links,
dates and authors), `planner feeds sync` stores its entries (exit 0) or reports the feed
failed (exit 1), never crashes, and a failure leaves the queue as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.feeds import Entry, atom, rss
from support.fuzz import Workspace, assert_clean_exit, odd_text, snapshot

LINKS = st.sampled_from(
    [
        "https://lena.example.dev/a?utm_source=x",
        "/relative/path",
        "relative",
        "javascript:alert(1)",
        "http://[x",
        "https://brightline.example/own",
        "",
        "https://a.example/" + "x" * 3000,
        "mailto:ada@example.org",
    ]
)
DATES = st.none() | st.datetimes(datetime(1971, 1, 1), datetime(9998, 1, 1), timezones=st.just(UTC))


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.binary(max_size=300))
    if choice == 1:
        return ("<rss><channel><item><title>" + escape(draw(odd_text))).encode("utf-8", "replace")
    entries = [
        Entry(
            guid=draw(odd_text | st.sampled_from(["same", "same", "g1"])),
            title=draw(odd_text),
            link=draw(LINKS | odd_text),
            published=draw(DATES),
            author=draw(st.none() | odd_text | st.just("ada@example.org (Ada)")),
            summary=draw(odd_text),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    writer = atom if choice == 2 else rss
    # Control characters in odd_text make broken XML, as real feeds sometimes are.
    return writer(entries, title=draw(odd_text))


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=documents())
def test_feeds_sync_stores_or_reports_the_feed(fuzz_workspace: Workspace, body: bytes) -> None:
    fuzz_workspace.reset()
    path = fuzz_workspace.root / "queue" / "feeds" / "ci-weekly.xml"
    original = path.read_bytes()
    path.write_bytes(body)
    try:
        before = snapshot(fuzz_workspace.database)
        result = fuzz_workspace.invoke("feeds", "sync", "ci-weekly")
        after = snapshot(fuzz_workspace.database)
    finally:
        path.write_bytes(original)
    assert_clean_exit(result, allowed=(0, 1))
    event(f"feeds sync exit {result.exit_code}")
    if result.exit_code == 1:
        assert "ci-weekly" in result.output
        assert after["items"] == before["items"]
