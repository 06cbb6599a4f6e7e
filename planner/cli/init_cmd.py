"""``planner init``: write a working planner.toml, queue/ and templates/, and say what next.

The next steps it prints must work when pasted into a new shell, so they say how to reach
the ``planner`` command from there: plainly when it is on the PATH, else by activating the
virtual environment it runs from (``make demo`` installs it into ``.venv`` without touching
the PATH), else by its full path.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from planner.workspace import init_workspace

# What a new workspace is for, in the order a person does it (as in the README's Quick start).
_FIRST_STEPS = (
    ("queue sync", "import queue/*.toml into the database"),
    ("plan", "fill next week's slots"),
    ("preview", "see the mix, the held promos and why"),
)


@dataclass(frozen=True)
class Invocation:
    """How a new shell reaches this planner: an optional setup line, then the command."""

    setup: str | None
    command: str


def how_to_run(
    argv0: str,
    search_path: str | None,
    prefix: str,
    base_prefix: str,
    executable: str,
    cwd: Path,
) -> Invocation:
    """The way to type ``planner`` in a new shell started in ``cwd``.

    ``argv0`` is how this process was started, ``search_path`` the PATH a new shell gets,
    ``prefix``/``base_prefix`` tell a virtual environment (they differ inside one).
    """
    script = Path(argv0)
    # `python -m planner` (or a test runner) has no script of its own to compare with.
    own = script.resolve() if script.name == "planner" and script.is_file() else None
    on_path = shutil.which("planner", path=search_path)
    if on_path and (own is None or Path(on_path).resolve() == own):
        return Invocation(None, "planner")
    venv = Path(prefix)
    activate = venv / "bin" / "activate"
    in_venv = prefix != base_prefix and activate.is_file() and (venv / "bin" / "planner").is_file()
    if in_venv and (own is None or own.is_relative_to(venv.resolve())):
        return Invocation(f". {shlex.quote(_shown(activate, cwd))}", "planner")
    if own is not None:
        return Invocation(None, shlex.quote(str(own)))
    return Invocation(None, f"{shlex.quote(executable)} -m planner")


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when it lies inside it (shorter to read), else absolute."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path.resolve())


def next_steps(directory: Path, invocation: Invocation, cwd: Path) -> list[tuple[str, str]]:
    """(command, comment) lines to paste into a new shell, each working after the one before."""
    steps: list[tuple[str, str]] = []
    if invocation.setup:
        steps.append((invocation.setup, "puts `planner` on the PATH of this shell"))
    if directory.resolve() != cwd.resolve():
        steps.append((f"cd {shlex.quote(str(directory))}", ""))
    steps.extend((f"{invocation.command} {args}", why) for args, why in _FIRST_STEPS)
    return steps


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init_command(directory: Path, force: bool) -> None:
    """Create a workspace in DIRECTORY (default: here) to start from.

    Writes planner.toml (the commented example configuration), an example queue/ and the
    default templates/. Existing files are kept unless --force is given. Ends with the
    commands to run next, written so they work in a new shell.

    \b
    Example:
      planner init demo && cd demo && planner queue sync
    """
    report = init_workspace(directory, force=force)
    for path in report.created:
        click.echo(f"created {path}")
    for path in report.kept:
        click.echo(f"kept    {path} (exists; --force to overwrite)")
    cwd = Path.cwd()
    invocation = how_to_run(
        sys.argv[0], os.environ.get("PATH"), sys.prefix, sys.base_prefix, sys.executable, cwd
    )
    steps = next_steps(directory, invocation, cwd)
    width = max(len(command) for command, _ in steps)
    click.echo("\nNext:")
    for command, why in steps:
        click.echo(f"  {command:<{width}}  # {why}" if why else f"  {command}")
