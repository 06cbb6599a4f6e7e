"""``planner run``, ``planner status``, ``planner resolve`` and ``planner resume``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.errors import PostsNeedAPerson
from planner.publish.claims import Outcome
from planner.publish.pipeline import Publisher
from planner.publish.resolve import resolve_post
from planner.publish.scheduler import Runner
from planner.reports.status import build_status


@click.command("run")
@click.option("--once", is_flag=True, help="Publish everything due now, then exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the outcomes as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log every post, not only problems.")
@pass_state
def run_command(state: AppState, once: bool, as_json: bool, verbose: bool) -> None:
    """Publish planned posts at their slot times, re-checking the ratio before each pitch.

    Runs until SIGTERM or Ctrl-C, which stop new claims, let posts in flight finish and
    exit 0. On SQLite only one runner may use the database; on PostgreSQL several share it.

    With --once it publishes what is due and exits: 0 when every post went out or will be
    retried by itself, 1 when one failed, ended unknown or paused its account (the last
    line, on stderr, says which; `planner status` has the details).
    """
    if as_json and not once:
        raise click.UsageError("--json goes with --once (a running runner logs instead)")
    logging.basicConfig(
        level=logging.INFO if verbose or not once else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    config = state.config
    with state.database() as db:
        runner = Runner(db, config, os.environ)
        if once:
            outcomes = runner.run_once()
            if as_json:
                echo_json({"handled": len(outcomes), "outcomes": [_json(o) for o in outcomes]})
            else:
                for outcome in outcomes:
                    detail = f": {outcome.detail}" if outcome.detail else ""
                    click.echo(
                        f"post {outcome.post_id} on {outcome.account}: {outcome.status}{detail}"
                    )
                click.echo(f"{len(outcomes)} post(s) handled")
            stuck = [o for o in outcomes if o.needs_a_person]
            if stuck:
                which = ", ".join(
                    f"{o.post_id} ({'account paused' if o.paused_account else o.status})"
                    for o in stuck
                )
                raise PostsNeedAPerson(f"post(s) that need a person: {which}; see planner status")
            return
        stop = threading.Event()

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger(__name__).info("received %s", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        runner.serve(stop)


def _json(outcome: Outcome) -> dict[str, Any]:
    published = outcome.published
    return {
        "post": outcome.post_id,
        "account": outcome.account,
        "status": outcome.status,
        "detail": outcome.detail or None,
        "remote_id": published.remote_id if published else None,
        "url": published.url if published else None,
        "account_paused": outcome.paused_account,
    }


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status_command(state: AppState, as_json: bool) -> None:
    """Show what is due next, retrying, failed, held, unknown and paused, per account."""
    with state.database() as db, db.transaction() as session:
        report = build_status(session, state.config, now_utc())
    if as_json:
        echo_json(report)
        return
    for name, account in report["accounts"].items():
        line = f"{name} ({account['network']})"
        if account["paused"]:
            line += f": PAUSED: {account['paused_reason']} (fix it, then `planner resume {name}`)"
        click.echo(line)
        nxt = account["next"]
        click.echo(
            f"  next       {nxt['at']} {nxt['kind']} {nxt['item']}"
            if nxt
            else "  next       nothing planned"
        )
        click.echo(f"  last       {account['last_published_at'] or 'never'}")
        counts = ", ".join(f"{k} {v}" for k, v in account["counts"].items() if v)
        click.echo(f"  posts      {counts or 'none'}")
    for title, key in (("retrying", "retrying"), ("failed", "failed"), ("unknown", "unknown"),
                       ("missed", "missed"), ("held at publish time", "held_posts")):  # fmt: skip
        rows: list[dict[str, Any]] = report[key]
        if rows:
            click.echo(f"{title}:")
            for row in rows:
                when = f" next {row['next_attempt_at']}" if row["next_attempt_at"] else ""
                click.echo(
                    f"  post {row['post']} {row['account']} {row['slot_at']}{when}: {row['reason']}"
                )
    if report["held_items"]:
        click.echo("held items:")
        for row in report["held_items"]:
            click.echo(f"  {row['item']} ({row['kind']}): {row['reason']}")


@click.command("resolve")
@click.argument("post_id", metavar="POST", type=int)
@click.option("--published", "url", metavar="URL", help="It did go out, at this URL.")
@click.option("--not-published", is_flag=True, help="It did not go out: send it again.")
@pass_state
def resolve_command(state: AppState, post_id: int, url: str | None, not_published: bool) -> None:
    """Settle a post whose fate is unknown after a crash (see `planner status`)."""
    if (url is None) == (not not_published):
        raise click.UsageError("give exactly one of --published URL or --not-published")
    with state.database() as db, db.transaction() as session:
        resolve_post(session, post_id, now_utc(), published_url=url)
    click.echo(f"post {post_id}: {'published' if url else 'will be sent again'}")


@click.command("resume")
@click.argument("account")
@pass_state
def resume_command(state: AppState, account: str) -> None:
    """Resume an account paused after an authentication failure (fix its credentials first)."""
    if account not in state.config.settings.accounts:
        raise click.BadParameter(f"no account {account!r} in {state.config.path}")
    with state.database() as db:
        Publisher(db, state.config, "cli", os.environ).resume_account(account)
    click.echo(f"{account} resumed; its planned posts go out at the next run")
