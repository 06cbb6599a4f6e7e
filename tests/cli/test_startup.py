"""`planner --help` starts without loading what only some commands use: the network clients,
APScheduler, Alembic, the database layer; the command list it shows is each command's own."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from planner.cli import COMMANDS, load_command, main, summary_line

LOADED_BY_HELP = """
import json, runpy, sys
sys.argv = ["planner", "--help"]
try:
    runpy.run_module("planner", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NOT_FOR_HELP = ("tweepy", "atproto", "mastodon", "apscheduler", "alembic", "sqlalchemy",
                "pydantic", "jinja2", "requests", "httpx")  # fmt: skip


def test_planner_help_does_not_import_network_clients_scheduler_or_store() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_HELP], capture_output=True, text=True, check=True
    )
    assert "Commands:" in done.stdout
    loaded = {name.split(".")[0] for name in json.loads(done.stderr.strip().splitlines()[-1])}
    assert "click" in loaded  # the check sees what was imported
    assert sorted(loaded & set(NOT_FOR_HELP)) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    for limit in (45, 1000):
        assert summary_line(name, limit) == command.get_short_help_str(limit)


def test_every_command_is_reachable_and_listed() -> None:
    context = click.Context(main)
    assert main.list_commands(context) == list(COMMANDS)
    assert main.get_command(context, "no-such-command") is None
    help_text = main.get_help(context)
    for name in COMMANDS:
        assert f"\n  {name} " in help_text
