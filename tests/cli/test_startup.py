"""`planner --help` starts without loading what only some commands use: the network clients,
APScheduler, Alembic, the database layer; the command list it shows is each command's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from planner.cli import COMMANDS, load_command, main, summary_line

LOADED_BY = """
import json, runpy, sys
sys.argv = ["planner", *sys.argv[1:]]
try:
    runpy.run_module("planner", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NOT_FOR_HELP = ("tweepy", "atproto", "mastodon", "apscheduler", "alembic", "sqlalchemy",
                "pydantic", "jinja2", "requests", "httpx")  # fmt: skip


def test_planner_help_does_not_import_network_clients_scheduler_or_store() -> None:
    output, loaded = run_loading("--help")
    assert "Commands:" in output
    assert "click" in loaded  # the check sees what was imported
    assert sorted(loaded & set(NOT_FOR_HELP)) == []


def run_loading(*args: str, cwd: Path | None = None) -> tuple[str, set[str]]:
    """Run ``planner ARGS`` in a fresh interpreter: its output and the top-level packages it
    imported."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY, *args], capture_output=True, text=True, cwd=cwd
    )
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, {name.split(".")[0] for name in loaded}


def test_planner_status_does_not_import_templates_scheduler_or_network_clients(
    tmp_path: Path,
) -> None:
    subprocess.run([sys.executable, "-m", "planner", "init", str(tmp_path)], check=True,
                   capture_output=True)  # fmt: skip
    run_loading("status", cwd=tmp_path)  # the first command creates the database (Alembic)
    output, loaded = run_loading("status", cwd=tmp_path)
    assert "main" in output
    assert "sqlalchemy" in loaded  # status reads the database
    light = ("tweepy", "atproto", "mastodon", "apscheduler", "alembic", "jinja2", "httpx")
    assert sorted(loaded & set(light)) == []


NETWORK_ACCOUNTS = """
[accounts.brand_x]
network = "x"
slots = ["daily 09:00"]
[accounts.brand_x.credentials]
api_key_env = "X_KEY"
api_secret_env = "X_SECRET"
access_token_env = "X_TOKEN"
access_token_secret_env = "X_TOKEN_SECRET"

[accounts.brand_masto]
network = "mastodon"
slots = ["daily 10:00"]
[accounts.brand_masto.options]
api_base_url = "https://mastodon.example"

[accounts.brand_sky]
network = "bluesky"
slots = ["daily 11:00"]
[accounts.brand_sky.options]
handle = "brand.example"
"""


@pytest.mark.parametrize("command", [["status"], ["config", "check"], ["queue", "list"]])
def test_light_commands_check_network_accounts_without_their_clients(
    tmp_path: Path, command: list[str]
) -> None:
    """Loading the config checks each account's options; the network's client library is
    imported only when something is published (or a token verified)."""
    subprocess.run([sys.executable, "-m", "planner", "init", str(tmp_path)], check=True,
                   capture_output=True)  # fmt: skip
    with (tmp_path / "planner.toml").open("a") as config:
        config.write(NETWORK_ACCOUNTS)
    run_loading("status", cwd=tmp_path)  # creates the database
    output, loaded = run_loading(*command, cwd=tmp_path)
    assert "brand_masto" in output or command == ["queue", "list"], output
    assert sorted(loaded & {"tweepy", "mastodon", "atproto", "httpx"}) == []


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


CONFIGURES_MAPPERS = """
import runpy, sys
sys.argv = ["planner", *sys.argv[1:]]
try:
    runpy.run_module("planner", run_name="__main__")
except SystemExit as exit:
    code = exit.code
from planner.store.models import Item
print(f"exit {code} configured {Item.__mapper__.configured}", file=sys.stderr)
"""


def test_planner_plan_never_configures_the_orm(tmp_path: Path) -> None:
    """A plan's statements are Core's (planner.store.models.ITEMS, ...): configuring the ORM's
    mappers alone costs a command some 9 ms, a twentieth of a week's plan."""
    subprocess.run([sys.executable, "-m", "planner", "init", str(tmp_path)], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "planner", "queue", "sync"], check=True,
                   capture_output=True, cwd=tmp_path)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURES_MAPPERS, "plan", "--week", "next"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert "planned" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "exit 0 configured False"
