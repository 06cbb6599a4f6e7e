"""``planner feeds``: RSS and Atom feeds as a supply of shares (sync, list)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import func, select

from planner.cli._app import AppState, InOrder, echo_json, now_utc, pass_state
from planner.cli._terminal import progress_bars
from planner.content.feed_items import feed_source
from planner.content.files import QueueItem
from planner.errors import FeedsFailed
from planner.plan.sync_check import ItemChecker
from planner.redact import redact_feed_url
from planner.store.models import FeedState, Item
from planner.text import visible

if TYPE_CHECKING:
    from planner.content.feed_sync import FeedResult


@click.group("feeds", cls=InOrder)
def feeds_group() -> None:
    """Feeds ([feeds.NAME] in planner.toml) whose new entries become queue items.

    \b
    Example:
      planner feeds sync && planner feeds list
    """


@feeds_group.command("sync")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print each feed's result as JSON.")
@pass_state
def sync_command(state: AppState, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch each feed (or the NAMES given) and store its new entries as queue items.

    The first sync of a feed takes only its recent entries (first_sync_days, default 14);
    later syncs add new entries and update changed ones, never duplicating one. A feed that
    cannot be fetched or read is reported (exit 1) and its items are left as they were; the
    other feeds are synced all the same.

    \b
    Example:
      planner feeds sync blog --json
    """
    config = state.config
    feeds = config.settings.feeds.sources
    unknown = [name for name in names if name not in feeds]
    if unknown:
        configured = ", ".join(feeds) or "none configured"
        raise click.BadParameter(
            f"no feed {unknown[0]!r} in {config.path} (configured: {configured})",
            param_hint="NAMES",
        )
    # httpx (and through it rich, which it loads when installed): only when feeds are synced.
    from planner.content.feed_sync import ERROR, sync_feeds

    checker = ItemChecker(config)

    def check(item: QueueItem) -> list[str]:
        return [message for _item, _key, message in checker.failures(item)]

    with progress_bars(enabled=not as_json) as bar, state.database() as db:
        advance = bar(len(names or feeds), "syncing feeds")
        results = sync_feeds(db, config, now_utc(), names, check=check, progress=advance)
    if as_json:
        echo_json([_result_json(result) for result in results])
    elif not results:
        click.echo(f"no feeds in {config.path} (add a [feeds.NAME] table with a url)")
    for result in results if not as_json else []:
        click.echo(_result_line(result))
        for entry in result.left_out:
            click.echo(visible(f"  left out: {entry}"))
        for line in result.lint:
            click.echo(visible(f"  lint: {line}"))
        if result.flagged:
            click.echo(
                f"  {result.flagged} item(s) flagged by the etiquette lint: kept out of the plan "
                "(`planner queue list --status flagged`)"
            )
    failed = [(r.name, r.error or "") for r in results if r.result == ERROR]
    if failed:
        raise FeedsFailed(failed)


def _result_line(result: FeedResult) -> str:
    from planner.content.feed_sync import ERROR

    if result.result == ERROR:
        return f"{result.name}: failed: {result.error} (queue unchanged)"
    if result.result != "ok":
        return f"{result.name}: {result.result}"
    line = (
        f"{result.name}: {result.entries} entries: {result.added} added, "
        f"{result.updated} updated, {result.unchanged} unchanged, {result.skipped} skipped"
    )
    if result.pitches:
        line += f"; {result.pitches} link to your own domains: stored as pitches"
    if result.recovered:
        line += f" (malformed, recovered: {result.recovered})"
    return line


def _result_json(result: FeedResult) -> dict[str, Any]:
    return {
        "feed": result.name,
        "result": result.result,
        "error": result.error,
        "entries": result.entries,
        "added": result.added,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "skipped": result.skipped,
        "pitches": result.pitches,
        "left_out": result.left_out,
        "recovered": result.recovered,
        "lint": result.lint,
        "flagged": result.flagged,
    }


@feeds_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def list_command(state: AppState, as_json: bool) -> None:
    """Each feed: its URL, last fetch and result, entries seen and items it has in the queue.

    \b
    Example:
      planner feeds list --json
    """
    config = state.config
    feeds = config.settings.feeds.sources
    with state.database() as db, db.reading() as session:
        states = {row.name: row for row in session.scalars(select(FeedState))}
        query = (
            select(Item.source, func.count())
            .where(Item.source.in_([feed_source(name) for name in feeds]))
            .group_by(Item.source)
        )
        counts: dict[str, int] = {source: count for source, count in session.execute(query)}
        rows = [_list_row(name, feed.url, states.get(name), counts) for name, feed in feeds.items()]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"no feeds in {config.path}")
        return
    for row in rows:
        fetched = row["last_fetch_at"] or "never"
        result = row["last_result"] or "not synced yet"
        if row["last_error"]:
            result += f": {row['last_error']}"
        click.echo(f"{row['feed']}  {row['url']}")
        click.echo(
            f"  last fetch {fetched}: {result}; {row['entries']} entries in the feed, "
            f"{row['items']} item(s) in the queue (last sync: {row['added']} added, "
            f"{row['updated']} updated, {row['skipped']} skipped)"
        )


def _list_row(
    name: str, url: str, state: FeedState | None, counts: dict[str, int]
) -> dict[str, Any]:
    return {
        "feed": name,
        "url": redact_feed_url(url),
        "last_fetch_at": state.last_fetch_at.isoformat() if state and state.last_fetch_at else None,
        "last_ok_at": state.last_ok_at.isoformat() if state and state.last_ok_at else None,
        "last_result": state.last_result if state and state.last_fetch_at else None,
        "last_error": state.last_error if state else None,
        "since": state.since.isoformat() if state else None,
        "entries": state.entries if state else 0,
        "added": state.added if state else 0,
        "updated": state.updated if state else 0,
        "skipped": state.skipped if state else 0,
        "items": counts.get(feed_source(name), 0),
    }
