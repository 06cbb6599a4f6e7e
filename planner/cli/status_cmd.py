"""``planner status``, and settling what it reports: ``planner resolve`` and ``planner resume``.

``status`` shows what needs a person; ``resolve`` settles a post whose fate is unknown after
a crash, ``resume`` lifts the pause an authentication failure put on an account.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.cli._terminal import echo_table, line_width, use_color
from planner.publish.resolve import resolve_post
from planner.reports.preview.model import WEEKDAYS
from planner.reports.status import build_status, resume_outlook

# The colour of each section's title on a terminal.
_TITLE_STYLES = {
    "retrying": "yellow",
    "failed": "red",
    "unknown": "bold red",
    "missed": "red",
    "held_posts": "magenta",
}


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status_command(state: AppState, as_json: bool) -> None:
    """Show what is due next, retrying, failed, held, unknown and paused, per account,
    and the feeds whose last fetch failed.

    \b
    Example:
      planner status --json
    """
    with state.database() as db, db.reading() as session:
        report = build_status(session, state.config, now_utc())
    if as_json:
        echo_json(report)
        return

    shown: list[tuple[str, str]] = []  # (line, style); drawn to the terminal's width at the end

    def echo(line: str, style: str = "") -> None:
        shown.append((line, style))

    config = state.config
    zones = {name: config.account_timezone(name) for name in config.settings.accounts}

    def when(iso: str, account: str) -> str:
        # Reports speak each account's own time; its zone is named once, on its first line.
        local = datetime.fromisoformat(iso).astimezone(zones[account])
        return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"

    for name, account in report["accounts"].items():
        line = f"{name} ({account['network']}, times in {zones[name].key})"
        if account["paused"]:
            line += f": PAUSED: {account['paused_reason']} (fix it, then `planner resume {name}`)"
        echo(line, "bold red" if account["paused"] else "bold")
        nxt = account["next"]
        echo(
            f"  next       {when(nxt['at'], name)} {nxt['kind']} {nxt['item']}"
            if nxt
            else "  next       nothing planned"
        )
        last = account["last_published_at"]
        echo(f"  last       {when(last, name) if last else 'never'}")
        counts = ", ".join(f"{k} {v}" for k, v in account["counts"].items() if v)
        echo(f"  posts      {counts or 'none'}")
    for title, key in (("retrying", "retrying"), ("failed", "failed"), ("unknown", "unknown"),
                       ("missed", "missed"), ("held at publish time", "held_posts")):  # fmt: skip
        rows: list[dict[str, Any]] = report[key]
        if rows:
            echo(f"{title}:", _TITLE_STYLES.get(key, "bold"))
            for row in rows:
                account_name = row["account"]
                retry = row["next_attempt_at"]
                again = f" next {when(retry, account_name)}" if retry else ""
                echo(
                    f"  post {row['post']} {account_name} {when(row['slot_at'], account_name)}"
                    f"{again}: {row['reason']}"
                )
    if report["held_items"]:
        echo("held items:", "magenta")
        for row in report["held_items"]:
            where = row["account"] or "every account"
            echo(f"  {where}: {row['item']} ({row['kind']}): {row['reason']}")
    if report["failing_feeds"]:
        echo("feeds failing (their items stay as they were; `planner feeds list`):", "red")
        for row in report["failing_feeds"]:
            good = row["last_ok_at"] or "never"
            echo(f"  feed {row['feed']}: {row['error']} (last good fetch: {good})")
    # Reasons and ids come from queue files and networks: drawn with their control characters
    # shown as escapes, each line wrapped to the terminal's width (on a terminal).
    from planner.reports.terminal import render_lines  # rich: only to print the report

    echo_table(render_lines(shown, line_width(), color=use_color()))


@click.command("resolve")
# Post ids are 32-bit on PostgreSQL: a larger number is no post, refused as bad usage.
@click.argument("post_id", metavar="POST", type=click.IntRange(1, 2**31 - 1))
@click.option("--published", "url", metavar="URL", help="It did go out, at this URL.")
@click.option("--not-published", is_flag=True, help="It did not go out: send it again.")
@pass_state
def resolve_command(state: AppState, post_id: int, url: str | None, not_published: bool) -> None:
    """Settle a post whose fate is unknown after a crash (see `planner status`).

    Look at the account: if the post is there, give its URL; if not, it is sent again.

    \b
    Example:
      planner resolve 42 --published https://mastodon.example/@brand/1234
    """
    if (url is None) == (not not_published):
        raise click.UsageError("give exactly one of --published URL or --not-published")
    with state.database() as db, db.transaction() as session:
        resolve_post(session, post_id, now_utc(), published_url=url)
    click.echo(f"post {post_id}: {'published' if url else 'will be sent again'}")


@click.command("resume")
@click.argument("account")
@pass_state
def resume_command(state: AppState, account: str) -> None:
    """Resume an account paused after an authentication failure (fix its credentials first).

    Says what happens to its posts whose time passed while it was paused.

    \b
    Example:
      planner resume main
    """
    if account not in state.config.settings.accounts:
        raise click.BadParameter(f"no account {account!r} in {state.config.path}")
    with state.database() as db:
        # Here, not at the top: the publishing pipeline (templates, adapters) is heavy, and
        # `planner status` in the same module never needs it.
        from planner.publish.pipeline import Publisher

        Publisher(db, state.config, "cli", os.environ).resume_account(account)
        with db.transaction() as session:
            outlook = resume_outlook(session, state.config, account, now_utc())
    click.echo(f"{account} resumed")
    for line in outlook.lines():
        click.echo(f"  {line}")
