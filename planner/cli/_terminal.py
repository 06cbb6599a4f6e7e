"""How tables and progress reach a terminal: how wide it is, and whether it gets colour.

Colour only when standard output is a terminal, ``NO_COLOR`` is unset (or empty, as
no-color.org says) and ``--no-color`` was not given; the width is the terminal's, else
``COLUMNS``, else 100. The tables themselves are drawn by ``rich`` in ``planner/reports``;
this module imports it only inside :func:`progress_bars` and :func:`steps` (progress for long
work), so a command that prints no table and shows no progress never loads it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import click

from planner.text import visible

TABLE_WIDTH = 100  # columns, when the output is not a terminal and COLUMNS is not set


def wants_color(no_color_option: bool, environ: Mapping[str, str], is_terminal: bool) -> bool:
    """Whether to print colours: a terminal, no ``NO_COLOR`` (non-empty), no ``--no-color``."""
    return is_terminal and not no_color_option and not environ.get("NO_COLOR")


def table_width() -> int:
    """The terminal's width in columns (``COLUMNS`` first); when standard output is not a
    terminal, ``COLUMNS`` or 100 (not the size of a terminal the output does not go to)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((TABLE_WIDTH, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else TABLE_WIDTH


def line_width() -> int | None:
    """:func:`table_width` on a terminal; None when piped (report lines are then not wrapped,
    so each entry stays on one line for grep)."""
    return table_width() if sys.stdout.isatty() else None


def use_color() -> bool:
    """:func:`wants_color` for this command: ``--no-color``, the environment, standard output."""
    root = click.get_current_context().find_root()
    no_color = bool(getattr(root.obj, "no_color", False))
    return wants_color(no_color, os.environ, sys.stdout.isatty())


def echo_table(text: str) -> None:
    """A drawn table as is (its colours included when :func:`use_color` asked for them)."""
    click.echo(text, nl=False, color=use_color() or None)


Advance = Callable[[int], None]  # told how many more are done


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[int, str], Advance]]:
    """Progress bars for long work on a terminal (``rich``), one display for all of them:
    yields ``bar(total, label)``, which adds a bar (or lengthens the one of that label) and
    returns the callback the core calls with how many more are done. Each shows its label,
    done/total and the time left; all are cleared when the work ends. Not a terminal, or not
    ``enabled``: nothing is shown."""
    if not (enabled and sys.stdout.isatty()):
        yield lambda _total, _label: lambda _done: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stdout, no_color=not use_color(), highlight=False)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def bar(total: int, label: str) -> Advance:
            # The same label again (work that comes in batches) lengthens its bar.
            if label in tasks:
                task = tasks[label]
                bars.update(task, total=(bars.tasks[task].total or 0) + total)
            else:
                task = tasks[label] = bars.add_task(label, total=total)
            return lambda done: bars.advance(task, done)

        yield bar


@contextmanager
def steps(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A spinner for long work told in steps (``rich``), on a terminal: yields ``say(step)``,
    which shows ``step…`` beside the spinner in place of the last; cleared when the work
    ends. Not a terminal, or not ``enabled``: nothing is shown."""
    if not (enabled and sys.stdout.isatty()):
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=sys.stdout, no_color=not use_color(), highlight=False)
    with console.status("") as status:
        yield lambda step: status.update(Text(f"{visible(step)}…"))
