"""``planner run``: publish planned posts at their times (or what is due now, with ``--once``)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

import click

from planner.adapters.registry import make_adapter
from planner.cli._app import AppState, echo_json, pass_state
from planner.errors import PostsNeedAPerson
from planner.publish.claims import Outcome
from planner.publish.scheduler import Runner


@click.command("run")
@click.option("--once", is_flag=True, help="Publish everything due now, then exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the outcomes as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log every post, not only problems.")
@pass_state
def run_command(state: AppState, once: bool, as_json: bool, verbose: bool) -> None:
    """Publish planned posts at their slot times, re-checking the ratio before each pitch.

    Runs until SIGTERM or Ctrl-C, which stop new claims, let posts in flight finish and
    exit 0. On SQLite only one runner may use the database; on PostgreSQL several share it.
    Up to [run] concurrency accounts publish at once; one account's posts go out in order.

    With --once it publishes what is due and exits: 0 when every post went out or will be
    retried by itself, 1 when one failed, ended unknown or paused its account (the last
    line, on stderr, says which; `planner status` has the details). SIGTERM or Ctrl-C
    stop it the same way: posts in flight finish, nothing new is claimed.

    \b
    Example:
      planner run --once   # from cron, every few minutes
    """
    if as_json and not once:
        raise click.UsageError("--json goes with --once (a running runner logs instead)")
    logging.basicConfig(
        level=logging.INFO if verbose or not once else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if not verbose:
        # APScheduler's bookkeeping (each job run, "maximum number of running instances
        # reached" when a wake-up finds an account still busy) says nothing a person needs.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
    config = state.config
    # Every account's adapter first: a bad option or a missing credential stops the run
    # before it opens (or creates) the database, so a failed start writes nothing.
    adapters = {
        name: make_adapter(config.account_settings(name), os.environ)
        for name in config.settings.accounts
    }
    with state.database() as db:
        runner = Runner(db, config, os.environ, adapters=adapters)
        stop = threading.Event()

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger(__name__).info("received %s", signal.Signals(signum).name)
            stop.set()
            runner.request_stop()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
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
            if stop.is_set():
                click.echo("stopped early: posts not yet claimed wait for the next run", err=True)
            stuck = [o for o in outcomes if o.needs_a_person]
            if stuck:
                which = ", ".join(
                    f"{o.post_id} ({'account paused' if o.paused_account else o.status})"
                    for o in stuck
                )
                raise PostsNeedAPerson(f"post(s) that need a person: {which}; see planner status")
            return
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
