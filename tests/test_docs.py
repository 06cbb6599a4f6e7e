"""The project documents itself: every command has help with an example, `planner --help`
lists the commands in the order of the work, and each appears in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from planner.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "planner") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    context = click.Context(group)
    for name in group.list_commands(context):  # the top level loads its commands lazily
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_help(path: str, command: click.Command) -> None:
    assert command.help and len(command.help) > 20, f"{path} needs a real --help text"
    args = path.split()[1:] + ["--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "Usage:" in result.output


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not isinstance(c, click.Group)])
def test_command_is_in_the_readme(path: str) -> None:
    assert f"`{path}" in README, f"README.md does not mention `{path}`"


# The order of the work: set up, fill the queue, plan, look, publish, follow up, maintain.
WORKFLOW = [
    "init", "config", "queue", "feeds", "plan", "preview", "hold", "release", "run",
    "status", "history", "simulate", "resolve", "resume", "db",
]  # fmt: skip


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_help_shows_one_example_of_itself(path: str, command: click.Command) -> None:
    output = CliRunner().invoke(main, path.split()[1:] + ["--help"]).output
    heading = "\n  Examples:\n" if "\n  Examples:\n" in output else "\n  Example:\n"
    assert heading in output, f"{path} --help has no example"
    example = output.split(heading, 1)[1].split("\n\n", 1)[0].splitlines()
    # Kept on its own line (click's \\b paragraph), and it runs this very command.
    assert example and example[0].strip().startswith(path), (path, example)


def _listed(output: str) -> list[str]:
    commands = output.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]


def test_planner_help_lists_the_commands_in_the_order_of_the_work() -> None:
    assert _listed(CliRunner().invoke(main, ["--help"]).output) == WORKFLOW
    assert _listed(CliRunner().invoke(main, ["queue", "--help"]).output) == [
        "sync", "import", "list", "add", "remove",
    ]  # fmt: skip


ROWS = {"queue": 5, "feeds": 2}  # command groups with a README row per subcommand


def test_the_readme_commands_table_follows_the_same_order() -> None:
    table = README.split("## Commands", 1)[1].split("### Exit codes", 1)[0]
    rows = [line.split("`")[1].split() for line in table.splitlines() if line.startswith("| `")]
    assert [words[1] for words in rows] == [
        name for name in WORKFLOW for _ in range(ROWS.get(name, 1))
    ]
