"""Lines for a terminal, drawn with ``rich``: display widths, shortening, wrapping, colour.

Every table the planner prints on a terminal is a list of ``rich`` :class:`~rich.text.Text`
lines made with these helpers and turned into a string by :func:`render`. Widths are display
widths (``rich``'s cell lengths): a CJK character or an emoji takes two columns, a combining
mark none. With ``color`` the styles become ANSI colours; without, the output is plain text
with no escape code at all. Texts are passed through :func:`planner.text.one_line` (control
characters shown as escapes) before they are styled, so the only escape codes in the output
are the colours asked for.

``rich`` is imported by this module and the report modules that use it; the commands import
those only when they print a table, so ``planner --help`` never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from planner.text import one_line, visible

# The colours every table uses for the same things.
STYLES = {
    "give": "green",
    "pitch": "yellow",
    "forced": "bold red",
    "held": "magenta",
    "empty": "dim",
    "broken": "bold red",
    "failed": "red",
}

__all__ = [
    "STYLES",
    "Text",
    "cell",
    "cell_len",
    "fit",
    "legend",
    "render",
    "render_lines",
    "shorten",
    "wrap",
]


def _console(width: int, color: bool) -> Console:
    return Console(
        file=io.StringIO(),
        width=max(width, 1),
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,  # the lines are cut to the width by the helpers, never by the console
        legacy_windows=False,
    )


def render(lines: Iterable[Text], width: int, *, color: bool) -> str:
    """The lines as text, each ending in a newline; ANSI colours only when ``color``."""
    console = _console(width, color)
    for line in lines:
        console.print(line)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def shorten(text: Text | str, width: int, style: str = "") -> Text:
    """``text`` on one line, cut to ``width`` columns with an ellipsis when wider (no space
    before it, even where a wide character did not fit)."""
    line = text if isinstance(text, Text) else Text(one_line(text), style=style)
    if line.cell_len <= width:
        return line
    line.truncate(max(width - 1, 0))
    line.rstrip()
    line.append("…")
    return line


def cell(value: str, width: int, style: str = "", *, right: bool = False) -> Text:
    """``value`` on one line, padded or shortened to exactly ``width`` columns."""
    text = shorten(value, width, style)
    text.align("right" if right else "left", width)
    return text


def fit(line: Text, width: int) -> Text:
    """A line no wider than ``width`` (what a very narrow terminal cannot hold is cut)."""
    line.rstrip()
    return shorten(line, width)


def wrap(
    text: str,
    width: int,
    first: str = "",
    rest: str = "",
    style: str = "",
    *,
    keep_spaces: bool = False,
) -> list[Text]:
    """``text`` on one line, wrapped at spaces to ``width`` display columns: the first line
    after ``first``, the others after ``rest``; a word too long is broken. Runs of spaces are
    made one unless ``keep_spaces`` (for lines aligned with spaces); line breaks are spaces."""
    flat = visible(" ".join(text.splitlines())) if keep_spaces else one_line(text)
    body = Text(flat, style=style)
    room = max(width - max(cell_len(first), cell_len(rest)), 1)
    lines = []
    for index, part in enumerate(body.wrap(_console(width, False), room, overflow="fold")):
        part.rstrip()
        line = Text(first if index == 0 else rest)
        line.append_text(part)
        lines.append(fit(line, width))
    return lines or [Text(first.rstrip())]


def class_style(class_: str, forced: bool) -> str:
    """A post's colour: forced (an override) first, else pitch (own-domain pitches too) or
    give."""
    if forced:
        return STYLES["forced"]
    return STYLES["pitch"] if class_.startswith("pitch") else STYLES["give"]


def legend(*names: str) -> Text:
    """``colours: give, pitch, …``, each name in its colour."""
    line = Text("colours: ")
    for index, name in enumerate(names):
        line.append(", " if index else "")
        line.append(name, style=STYLES[name])
    return line


def render_lines(entries: Iterable[tuple[str, str]], width: int | None, *, color: bool) -> str:
    """Report lines (``(text, style)``), each wrapped to ``width`` display columns beneath its
    own indent (plus four columns), the spaces that align them kept; with ``width`` None each
    stays on one line (output for a pipe: one entry a line, for grep)."""
    lines: list[Text] = []
    for text, style in entries:
        indent = " " * (len(text) - len(text.lstrip(" ")))
        if width is None:
            lines.append(Text(visible(" ".join(text.splitlines())), style=style))
            continue
        lines += wrap(text.lstrip(" "), width, indent, indent + "    ", style, keep_spaces=True)
    return render(lines, width or 80, color=color)
