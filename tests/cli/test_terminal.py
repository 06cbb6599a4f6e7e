"""How tables reach a terminal: when they get colour, and that ``rich`` loads only for them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from planner.cli._terminal import wants_color

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
