"""``planner db``: the database schema."""

from __future__ import annotations

import click

from planner.cli._app import AppState, pass_state
from planner.redact import redact_database_url
from planner.store.database import upgrade_database


@click.group("db")
def db_group() -> None:
    """Manage the planner's database.

    `planner db upgrade` creates it or migrates it to this version's schema.

    \b
    Example:
      planner db upgrade
    """


@db_group.command("upgrade")
@pass_state
def upgrade_command(state: AppState) -> None:
    """Create the database or migrate it to this planner's schema.

    A new database is created on first use; an existing one is only migrated here, so
    data is never changed behind your back.

    \b
    Example:
      planner db upgrade   # after installing a new version of the planner
    """
    url = state.config.database_url
    before, after = upgrade_database(url)
    where = redact_database_url(url)
    if before == after:
        click.echo(f"{where}: already at revision {after}")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty database'} to revision {after}")
