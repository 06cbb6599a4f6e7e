"""``planner queue``: the content queue (sync from files, add, list)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from planner.cli._app import AppState, InOrder, echo_json, now_utc, pass_state
from planner.cli._terminal import echo_table, progress_bars, table_width, use_color
from planner.config.settings import Config
from planner.content.csv_import import (
    claimed_elsewhere,
    csv_failures_error,
    csv_source,
    read_csv_items,
)
from planner.content.files import (
    QueueItem,
    item_from_mapping,
    queue_file_paths,
    read_queue_files,
    source_name,
)
from planner.content.links import item_own_domain_link
from planner.content.lint_state import LintReport, apply_lint
from planner.content.media_store import StoredImage, item_images
from planner.content.removal import ADDED_BY_HAND, remove_item
from planner.content.store import SyncReport, add_item, item_sources, list_items, sync_items
from planner.plan.sync_check import ItemChecker
from planner.store.models import Item, ItemStatus
from planner.text import visible

_STATUSES = [status.value for status in ItemStatus]


@click.group("queue", cls=InOrder)
def queue_group() -> None:
    """The content queue: curated shares, helpful posts and promos.

    Sync it from queue files, import a CSV file, list it, add an item by hand, remove one
    added by hand.

    \b
    Example:
      planner queue sync && planner queue list --status queued
    """


@queue_group.command("sync")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_state
def sync_command(state: AppState, paths: tuple[Path, ...], as_json: bool) -> None:
    """Import queue files into the database (default: the configured queue folder).

    PATHS may be .toml files or folders (searched recursively). A second sync updates
    items instead of duplicating them; items removed from a synced file are archived.
    Every file is checked first: one bad file is reported with its line, item and key,
    and nothing is changed. New and edited items are rendered for each account they go
    to: an undefined template variable or a text too long for a network is refused too.

    \b
    Example:
      planner queue sync queue/promos.toml --json
    """
    config = state.config
    files = queue_file_paths(paths or [config.queue_path])
    if not files:
        where = ", ".join(map(str, paths or [config.queue_path]))
        if as_json:
            echo_json(_sync_json(0, 0, SyncReport()))
        else:
            click.echo(f"no queue files (*.toml) in {where}")
        return
    items = read_queue_files(files, config)
    sources = [source_name(path, config) for path in files]
    checker = ItemChecker(config)
    written: list[str] = []
    # One display for both bars: items are rendered while they are stored.
    with progress_bars(enabled=not as_json) as bar:

        def check_and_note(fresh: Sequence[QueueItem]) -> None:
            checker.check(fresh, progress=bar(len(fresh), "rendering new items"))
            written.extend(item.id for item in fresh)

        with state.database() as db, db.transaction() as session:
            advance = bar(len(items), "storing items")
            report = sync_items(
                session, items, sources, now_utc(), progress=advance, check=check_and_note
            )
            lint = apply_lint(session, config, now_utc(), written)
    if as_json:
        echo_json({**_sync_json(len(files), len(items), report), **_lint_json(lint)})
    else:
        click.echo(f"{len(files)} file(s), {len(items)} item(s): {report}")
        _echo_lint(lint)


def _echo_lint(lint: LintReport) -> None:
    """The etiquette lint's findings in the items just written, and what it held back."""
    for line in lint.lines():
        click.echo(visible(f"  lint: {line}"))
    if lint.flagged:
        click.echo(
            f'  {lint.flagged} item(s) flagged by the etiquette lint ([lint] mode = "hold"): '
            "kept out of the plan until fixed (`planner queue list --status flagged`)"
            + (f"; {lint.unplanned} had planned posts, taken out" if lint.unplanned else "")
        )
    if lint.cleared:
        click.echo(f"  {lint.cleared} flagged item(s) queued again")


def _lint_json(lint: LintReport) -> dict[str, Any]:
    return {
        "lint": [
            {"item": item_id, "rule": finding.rule, "message": finding.message}
            for item_id, found in sorted(lint.findings.items())
            for finding in found
        ],
        "flagged": lint.flagged,
        "unflagged": lint.cleared,
    }


def _sync_json(files: int, items: int, report: SyncReport) -> dict[str, int]:
    return {
        "files": files,
        "items": items,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "archived": report.archived,
    }


@queue_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    help="Kind of every row of a bulk-upload file (default help), and of rows with no kind.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_state
def import_command(state: AppState, file: Path, kind: str | None, as_json: bool) -> None:
    """Import queue items from a CSV file (UTF-8, with or without a BOM).

    Columns (header names in any case and order): kind, text, title, url, credit, accounts,
    not_before, not_after, priority, tags, evergreen (and id, cooldown_days; image and
    image_alt for one image: a path beside the file or a URL); accounts and tags separated
    by commas, semicolons or spaces. Buffer's and Hootsuite's bulk-upload
    layout (text, link, date; Hootsuite's without a header) is read too: each row gets
    --kind, its date becomes not_before. Every row is checked as a queue file's items are;
    one bad row is reported with its row and column and nothing is imported. Importing the
    file again updates its items and archives rows that are gone; `queue sync` leaves them.

    \b
    Example:
      planner queue import backlog.csv --kind share
    """
    config = state.config
    items = read_csv_items(file, config, kind)
    checker = ItemChecker(config)

    written: list[str] = []

    def check(fresh: Sequence[QueueItem]) -> None:
        failures = [failure for item in fresh for failure in checker.failures(item)]
        if failures:
            raise csv_failures_error(failures)
        written.extend(item.id for item in fresh)

    with state.database() as db, db.transaction() as session:
        conflict = claimed_elsewhere(items, item_sources(session, [item.id for item in items]))
        if conflict is not None:
            raise conflict
        report = sync_items(session, items, [csv_source(file, config)], now_utc(), check=check)
        lint = apply_lint(session, config, now_utc(), written)
    if as_json:
        echo_json({**_sync_json(1, len(items), report), **_lint_json(lint)})
    else:
        click.echo(f"{file}: {len(items)} item(s): {report}")
        _echo_lint(lint)


@queue_group.command("list")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice(_STATUSES), help="Only this status."
)
@click.option("--account", help="Only items that go to this account.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def list_command(
    state: AppState,
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
    account: str | None,
    as_json: bool,
) -> None:
    """List queue items in planning order (priority, then age), with their status.

    \b
    Example:
      planner queue list --kind promo --status held
    """
    config = state.config
    if account is not None and account not in config.settings.accounts:
        raise click.BadParameter(f"no account {account!r} in {config.path}", param_hint="--account")
    with state.database() as db, db.reading() as session:
        items = list_items(session, kinds=kinds, statuses=statuses, account=account)
        media = item_images(session, [item.id for item in items], with_data=False)
        rows = [_item_dict(item, config, media.get(item.id, [])) for item in items]
    if as_json:
        echo_json(rows)
        return
    from planner.reports.queue_table import render_items  # rich: only for a table

    echo_table(render_items(rows, table_width(), color=use_color()))


@queue_group.command("add")
@click.option("--kind", required=True, help="The item's kind (share, help, promo, ...).")
@click.option("--text", help="The post text (or give --title for the kind's template).")
@click.option("--title", help="Title, for the kind's template.")
@click.option("--url", help="Link to share.")
@click.option("--credit", help="Who made the shared content (@handle or name).")
@click.option(
    "--account", "accounts", multiple=True, help="Target account (repeatable; default all)."
)
@click.option("--not-before", help="Not before this date/time (2026-12-01 or 2026-12-01T09:00).")
@click.option("--not-after", help="Expires after this date/time.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher goes first.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--evergreen", is_flag=True, help="May be re-used after a cooldown.")
@click.option("--cooldown-days", type=int, help="Days before an evergreen item is re-used.")
@click.option("--id", "item_id", help="A stable id (default: derived from the content).")
@click.option("--json", "as_json", is_flag=True, help="Print the stored item as JSON.")
@pass_state
def add_command(
    state: AppState,
    kind: str,
    text: str | None,
    title: str | None,
    url: str | None,
    credit: str | None,
    accounts: tuple[str, ...],
    not_before: str | None,
    not_after: str | None,
    priority: int,
    tags: tuple[str, ...],
    evergreen: bool,
    cooldown_days: int | None,
    item_id: str | None,
    as_json: bool,
) -> None:
    """Add one item to the queue from the command line (or update it, by id).

    `planner queue remove ITEM` archives it again.

    \b
    Example:
      planner queue add --kind help --id tip-lockfile --text "Key caches by lockfile hash."
    """
    given: dict[str, Any] = {
        "id": item_id,
        "kind": kind,
        "text": text,
        "title": title,
        "url": url,
        "credit": credit,
        "accounts": list(accounts) or None,
        "not_before": not_before,
        "not_after": not_after,
        "priority": priority,
        "tags": list(tags) or None,
        "evergreen": evergreen,
        "cooldown_days": cooldown_days,
    }
    data = {key: value for key, value in given.items() if value is not None}
    item = item_from_mapping(data, state.config, ADDED_BY_HAND, _option_name)
    ItemChecker(state.config).check([item], _option_name)
    with state.database() as db, db.transaction() as session:
        created = add_item(session, item, now_utc())
        session.flush()
        lint = apply_lint(session, state.config, now_utc(), [item.id])
    if as_json:
        echo_json({"id": item.id, "created": created, **_public(item.row()), **_lint_json(lint)})
    else:
        click.echo(f"{'added' if created else 'updated'} {item.id}")
        _echo_lint(lint)


@queue_group.command("remove")
@click.argument("item_id", metavar="ITEM")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@pass_state
def remove_command(state: AppState, item_id: str, as_json: bool) -> None:
    """Archive ITEM, added with `planner queue add`, and take its planned posts out.

    The item is kept as `archived` (posts and history refer to it); its posts still planned
    are deleted, leaving their slots empty until the next `planner plan`; published posts,
    and posts a runner is already sending or retrying, stay. An item from a queue file is
    refused while the file exists (the next sync would bring it back): delete it from the
    file and run `planner queue sync`. `planner queue add` with its id brings it back.

    \b
    Example:
      planner queue remove tip-typo && planner plan
    """
    config = state.config
    with state.database() as db, db.transaction() as session:
        removal = remove_item(session, item_id, now_utc(), config.base_dir)
    if as_json:
        echo_json(
            {
                "item": removal.item_id,
                "status": "archived",
                "unplanned": removal.unplanned,
                "under_way": removal.under_way,
                "published": removal.published,
            }
        )
        return
    line = f"archived {removal.item_id}"
    if removal.unplanned:
        line += (
            f"; took {_posts(removal.unplanned)} out of the plan: run `planner plan` to fill "
            f"{'its slot' if removal.unplanned == 1 else 'their slots'}"
        )
    if removal.under_way:
        line += f"; left {_posts(removal.under_way, 'post')} already under way (`planner status`)"
    if removal.published:
        stay = "stays" if removal.published == 1 else "stay"
        line += f"; {_posts(removal.published, 'published post')} {stay} in the history"
    click.echo(line)


def _posts(count: int, noun: str = "planned post") -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _option_name(loc: tuple[str | int, ...]) -> str:
    """An item key as `queue add` spells it: ``cooldown_days`` -> ``--cooldown-days``."""
    key = str(loc[0]) if loc else "?"
    return {"accounts": "--account", "tags": "--tag"}.get(key, "--" + key.replace("_", "-"))


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"content_hash"}}


def _item_dict(item: Item, config: Config, media: Sequence[StoredImage] = ()) -> dict[str, Any]:
    kind_class = config.kinds[item.kind].class_ if item.kind in config.kinds else "?"
    # A give-kind item linking to an own domain is planned as a pitch: list it as one.
    link = (
        item_own_domain_link(
            item.url, item.text, item.title, item.variants, config.settings.own_domains
        )
        if kind_class == "give"
        else None
    )
    return {
        "id": item.id,
        "kind": item.kind,
        "class": "pitch" if link else kind_class,
        "pitch_link": link,
        "status": item.status,
        "status_reason": item.status_reason,
        "priority": item.priority,
        "accounts": item.accounts,
        "text": item.text,
        "title": item.title,
        "url": item.url,
        "credit": item.credit,
        "tags": item.tags,
        "not_before": item.not_before.isoformat() if item.not_before else None,
        "not_after": item.not_after.isoformat() if item.not_after else None,
        "evergreen": item.evergreen,
        "cooldown_days": item.cooldown_days,
        "source": item.source,
        "media": [
            {
                "source": image.source,
                "alt": image.alt,
                "type": image.mime,
                "width": image.width,
                "height": image.height,
                "bytes": image.size,
                "sha256": image.sha256,
            }
            for image in media
        ],  # fmt: skip
    }
