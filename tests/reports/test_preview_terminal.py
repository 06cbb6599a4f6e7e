"""``planner preview`` on a terminal: as wide as the terminal, by display width, coloured.

Texts with CJK characters, emoji (one of them a ZWJ family), combining marks and control
characters are put into the solo week's posts; the table drawn at 80 and 120 columns has no
line wider than that, measured as a terminal does (``rich``'s cell length), and shows the
control characters as escapes. Colours appear on a real terminal (a pseudo-terminal) and not
when the output is piped, when ``NO_COLOR`` is set or with ``--no-color``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from planner.cli import main
from planner.config.settings import Config
from planner.reports.preview.model import Preview
from planner.reports.preview.terminal import render_table

from support.preview_weeks import NOW, preview_of, solo, sync_and_plan, with_texts
from support.terminal import run_on_terminal

WIDE = [
    "日本語のテキストはターミナルで二列ずつ使います。" * 3,
    "😀🎉👩‍👩‍👧 emoji everywhere 🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀",
    "combining: e\u0301e\u0301e\u0301e\u0301 " * 12,
    "\x1b[2J\x1b]0;pwned\x07 한국어 텍스트도 넓습니다 " * 4,
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture(scope="module")
def wide_week(tmp_path_factory: pytest.TempPathFactory) -> Preview:
    tmp_path: Path = tmp_path_factory.mktemp("terminal")
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    return with_texts(preview_of(config), WIDE)


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("color", [False, True])
def test_no_line_is_wider_than_the_terminal(wide_week: Preview, width: int, color: bool) -> None:
    table = render_table(wide_week, width, color=color)
    lines = ANSI.sub("", table).splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert LIVE.findall(ANSI.sub("", table)) == []
    assert "\\x1b[2J" in table  # the user's escape shown, not obeyed
    rows = [line for line in lines if line.startswith("  09:00")]
    assert len(rows) == 5
    # The texts are cut by display width, with an ellipsis, and fill the line nearly to the
    # edge (a wide character that does not fit leaves at most one column).
    for row in rows[:4]:
        assert row.endswith("…") and cell_len(row) >= width - 1
    assert ("\x1b[" in table) is color


def test_colours_the_class_and_says_which_is_which(wide_week: Preview) -> None:
    table = render_table(wide_week, 120, color=True)
    lines = table.splitlines()
    legend = next(line for line in lines if ANSI.sub("", line).startswith("colours: "))
    assert ANSI.sub("", legend) == "colours: give, pitch, forced, held, empty"
    pitch = next(line for line in lines if " promo " in ANSI.sub("", line))
    give = next(line for line in lines if " help " in ANSI.sub("", line))
    assert "\x1b[33mpitch" in pitch  # yellow
    assert "\x1b[32mgive" in give  # green
    plain = render_table(wide_week, 120, color=False)
    assert "colours:" not in plain and "\x1b" not in plain


@pytest.fixture
def week(tmp_path: Path) -> Config:
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    sync_and_plan(config)
    return config


def test_a_terminal_gets_colours_at_its_own_width(week: Config) -> None:
    args = ["--config", str(week.path), "preview", "--week", "2026-W50"]
    shown = run_on_terminal(args, at=NOW, columns=72)
    assert "\x1b[" in shown and "colours: " in ANSI.sub("", shown)
    assert max(cell_len(line) for line in ANSI.sub("", shown).splitlines()) <= 72
    assert any(cell_len(line) > 66 for line in ANSI.sub("", shown).splitlines())


@pytest.mark.parametrize(
    ("extra", "env"),
    [(["--no-color"], {}), ([], {"NO_COLOR": "1"})],
    ids=["--no-color", "NO_COLOR"],
)
def test_no_colour_on_a_terminal_when_asked(
    week: Config, extra: list[str], env: dict[str, str]
) -> None:
    args = [*extra, "--config", str(week.path), "preview", "--week", "2026-W50"]
    shown = run_on_terminal(args, at=NOW, columns=100, env=env)
    assert "\x1b" not in shown
    assert "solo · outbox · Europe/Berlin · 2026-W50" in shown


def test_piped_output_is_plain_text(week: Config) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(week.path), "preview", "--week", "2026-W50"], color=True
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "colours:" not in result.stdout
