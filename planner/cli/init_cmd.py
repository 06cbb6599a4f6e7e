"""``planner init``: write a working planner.toml, queue/ and templates/."""

from __future__ import annotations

from pathlib import Path

import click

from planner.workspace import init_workspace


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init_command(directory: Path, force: bool) -> None:
    """Create a workspace in DIRECTORY (default: here) to start from.

    Writes planner.toml (the commented example configuration), an example queue/ and the
    default templates/. Existing files are kept unless --force is given.
    """
    report = init_workspace(directory, force=force)
    for path in report.created:
        click.echo(f"created {path}")
    for path in report.kept:
        click.echo(f"kept    {path} (exists; --force to overwrite)")
    click.echo(f"\nNext: cd {directory} && planner queue sync && planner queue list")
