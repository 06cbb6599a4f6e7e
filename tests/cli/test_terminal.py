"""How tables reach a terminal: when they get colour, and that ``rich`` loads only for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.cli._terminal import wants_color

from support.preview_weeks import NOW, solo
from support.terminal import run_on_terminal

PROBE = """
import sys
from planner.cli import main
try:
    main([{args}], prog_name="planner")
except SystemExit:
    pass
print("rich" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("option", "environ", "terminal", "expected"),
    [
        (False, {}, True, True),
        (False, {}, False, False),  # piped
        (True, {}, True, False),  # --no-color
        (False, {"NO_COLOR": "1"}, True, False),
        (False, {"NO_COLOR": ""}, True, True),  # an empty NO_COLOR does not count
    ],
)
def test_colour_only_on_a_terminal_and_unless_asked_not_to(
    option: bool, environ: dict[str, str], terminal: bool, expected: bool
) -> None:
    assert wants_color(option, environ, terminal) is expected


@pytest.mark.parametrize("args", ['"--help"', '"preview", "--help"', '"--version"'])
def test_help_does_not_import_rich(args: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert child.stderr.strip().splitlines()[-1] == "False"


def test_queue_sync_shows_its_progress_on_a_terminal_and_clears_it(tmp_path: Path) -> None:
    items = "".join(
        f'[[item]]\nid = "tip-{n}"\nkind = "help"\ntext = "Tip {n}: 日本語 😀"\n\n'
        for n in range(1200)
    )
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}", queue=items)
    shown = run_on_terminal(["--config", str(config.path), "queue", "sync"], at=NOW, columns=80)
    assert "storing items" in shown and "rendering new items" in shown
    assert shown.rstrip().endswith(
        "1 file(s), 1200 item(s): 1200 added, 0 updated, 0 unchanged, 0 archived"
    )
    # Piped, or --json: no bar at all.
    piped = CliRunner().invoke(main, ["--config", str(config.path), "queue", "sync"])
    assert piped.exit_code == 0 and "storing items" not in piped.output


def test_plan_shows_its_steps_on_a_terminal_and_clears_them(tmp_path: Path) -> None:
    config = solo(tmp_path, f"sqlite:///{tmp_path / 'planner.db'}")
    args = ["--config", str(config.path)]
    assert CliRunner().invoke(main, [*args, "queue", "sync"]).exit_code == 0
    shown = run_on_terminal([*args, "plan", "--week", "2026-W50"], at=NOW, columns=80)
    assert "…" in shown.split("\x1b[?25h")[0]  # a step, beside the spinner, while it works
    assert "\x1b[2K" in shown  # the spinner's line erased when the plan is done
    assert "2026-W50" in shown.split("\x1b[?25h")[-1]  # then the result, as before
