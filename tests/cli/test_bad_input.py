"""No traceback on any input: each kind of bad input ends in exit 2 naming the file, line and
key (or the option), or exit 1 with one line for a domain failure, and the database is
exactly as it was. Where the database matters, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select

from planner.cli import main
from planner.config import bounds
from planner.content.files import FIRST_DATE
from planner.plan.slots import FIRST_YEAR
from planner.store import models


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def refused(result: Result, code: int, *expected: str) -> str:
    """Assert a clean refusal: the exit code, no traceback, the expected text; the message."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output
    return result.output


def rows(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every planner table, in a stable order."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                for table in models.Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def synced(workspace: Path, db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The example queue synced; the rows as they are before the bad input."""
    assert invoke("queue", "sync").exit_code == 0
    return rows(db_url)


def write_item(workspace: Path, *lines: str) -> None:
    body = "\n".join(lines)
    (workspace / "queue" / "zz.toml").write_text(f'[[item]]\nkind = "help"\ntext = "x"\n{body}\n')


# --- numbers out of range ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "limit"),
    [
        ("priority = 99999999999999999999", "priority", "2147483647"),
        ("priority = 9223372036854775808", "priority", "2147483647"),  # past SQLite's 64 bits
        ("priority = 2147483648", "priority", "2147483647"),  # past PostgreSQL's 32 bits
        ("priority = -2147483649", "priority", "-2147483648"),
        ("evergreen = true\ncooldown_days = 99999999999", "cooldown_days", "3660"),
    ],
)
def test_queue_numbers_out_of_range_exit_2_naming_line_and_key(
    workspace: Path, db_url: str, synced: dict[str, Any], line: str, key: str, limit: str
) -> None:
    write_item(workspace, line)
    line_number = 4 + line.count("\n")
    refused(invoke("queue", "sync"), 2, f"zz.toml:{line_number}: item[0].{key}:", limit)
    assert rows(db_url) == synced


def test_queue_numbers_at_the_limits_are_stored(workspace: Path, db_url: str) -> None:
    write_item(workspace, 'id = "high"\npriority = 2147483647')
    (workspace / "queue" / "zy.toml").write_text(
        '[[item]]\nid = "low"\nkind = "help"\ntext = "y"\npriority = -2147483648\n'
        "evergreen = true\ncooldown_days = 3660\n"
    )
    assert invoke("queue", "sync").exit_code == 0
    stored = {row[0]: row for row in rows(db_url)["items"]}
    assert {"high", "low"} <= set(stored)


def test_queue_add_and_resolve_refuse_huge_numbers(
    workspace: Path, db_url: str, synced: dict[str, Any]
) -> None:
    add = ("queue", "add", "--kind", "help", "--text", "y")
    refused(invoke(*add, "--priority", "99999999999999999999"), 2, "command line: --priority:")
    huge_cooldown = invoke(*add, "--evergreen", "--cooldown-days", str(2**40))
    refused(huge_cooldown, 2, "command line: --cooldown-days:", "3660")
    refused(invoke("resolve", "99999999999999999999", "--not-published"), 2, "POST", "2147483647")
    assert rows(db_url) == synced


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("balance", "window_days", "inf"),
        ("balance", "window_days", "367"),
        ("balance", "window_days", "1e-300"),  # zero once a time span: a window of nothing
        ("balance", "window_posts", "9223372036854775808"),
        ("balance", "min_pitch_gap_hours", "nan"),
        ("plan", "duplicate_url_days", "99999999999999999999"),
        ("run", "grace_minutes", "1e300"),
        ("run", "sweep_seconds", "inf"),
        ("run", "retry_base_seconds", "-inf"),
        ("run", "retry_cap_seconds", "1e300"),
        ("run", "min_spacing_seconds", "nan"),
        ("run", "max_attempts", "4294967296"),
        ("run", "concurrency", "0"),
        ("run", "concurrency", "1001"),
        ("run", "concurrency", "2.5"),
    ],
)
def test_config_numbers_out_of_range_exit_2_naming_line_and_key(
    workspace: Path, table: str, key: str, value: str
) -> None:
    config = workspace / "planner.toml"
    text = re.sub(rf"(?m)^{key} = \S+", f"{key} = {value}", config.read_text())
    assert f"{key} = {value}" in text
    config.write_text(text)
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith(key))) + 1
    for command in (("config", "check"), ("queue", "sync"), ("plan", "--dry-run")):
        refused(invoke(*command), 2, f"planner.toml:{line}: {table}.{key}:")


def test_config_kind_and_account_names_must_fit_their_columns(workspace: Path) -> None:
    assert bounds.MAX_KIND_NAME == models.KIND_LENGTH
    assert bounds.MAX_ACCOUNT_NAME == models.ACCOUNT_LENGTH
    config = workspace / "planner.toml"
    long_kind, long_account = "k" * 65, "a" * 129
    config.write_text(
        config.read_text()
        + f'\n[kinds.{long_kind}]\nclass = "give"\n[accounts.{long_account}]\nnetwork = "outbox"\n'
    )
    output = refused(invoke("config", "check"), 2, "at most 64 characters", "at most 128")
    assert f"kinds.{long_kind}" in output and f"accounts.{long_account}" in output


def test_control_characters_in_config_paths_and_options_exit_2(workspace: Path) -> None:
    config = workspace / "planner.toml"
    example = config.read_text()
    for old, new, where in (
        ('path = "outbox.jsonl"', 'path = "out\\u0000box.jsonl"', "accounts.main.options:"),
        ('queue_dir = "queue"', 'queue_dir = "queue\\n"', "queue_dir: contains a control"),
        ('templates_dir = "templates"', 'templates_dir = "t\\u001b"', "templates_dir:"),
    ):
        config.write_text(example.replace(old, new))
        for command in (("config", "check"), ("plan", "--dry-run")):
            refused(invoke(*command), 2, "planner.toml:", where)


# --- dates at the edge of the calendar ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "shown"),
    [
        ("not_before = 0001-01-01", "not_before", "0001-01-01"),
        ("not_after = 9999-12-31", "not_after", "9999-12-31"),
        ("not_after = 9999-12-31T23:59:00-23:59", "not_after", "9999-12-31T23:59:00-23:59"),
        ('not_before = "0001-01-01T00:00"', "not_before", "0001-01-01T00:00:00"),
    ],
)
def test_queue_dates_outside_the_calendar_exit_2(
    workspace: Path, db_url: str, synced: dict[str, Any], line: str, key: str, shown: str
) -> None:
    write_item(workspace, line)
    refused(
        invoke("queue", "sync"),
        2,
        f"zz.toml:4: item[0].{key}: {shown} is outside the planner's calendar",
        "0004-01-01 to 9998-12-31",
    )
    assert rows(db_url) == synced


def test_queue_dates_at_the_calendar_edges_are_stored_and_planned(
    workspace: Path, db_url: str
) -> None:
    # Europe/Berlin is ahead of UTC: 0004-01-01 00:00 there is still year 3 in UTC.
    write_item(workspace, 'id = "edges"\nnot_before = 0004-01-01\nnot_after = 9998-12-31')
    assert invoke("queue", "sync").exit_code == 0
    assert invoke("plan", "--week", "9998-W53").exit_code == 0
    assert invoke("preview", "--week", "9998-W48", "--format", "json").exit_code == 0


@pytest.mark.parametrize("command", ["plan", "preview", "simulate"])
def test_weeks_past_the_calendar_exit_2_naming_the_option(
    workspace: Path, db_url: str, synced: dict[str, Any], command: str
) -> None:
    extra = ["--weeks", "104"] if command == "plan" else []
    refused(invoke(command, "--week", "9999-W01", *extra), 2, "--week", "out of range")
    if command == "plan":
        refused(invoke(command, "--week", "9998-W52", *extra), 2, "--week", "run past 9998-W53")
    if command == "preview":  # it looks 4 weeks ahead for held items
        refused(invoke(command, "--week", "9998-W52"), 2, "--week", "looks 4 weeks ahead")
    assert rows(db_url) == synced


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])  # UTC+14 and UTC-12
def test_the_calendar_edges_work_with_the_longest_windows_in_any_timezone(
    workspace: Path, db_url: str, zone: str
) -> None:
    config = workspace / "planner.toml"
    text = config.read_text().replace('timezone = "Europe/Berlin"', f'timezone = "{zone}"')
    for key, value in (
        ("window_days", 366), ("min_pitch_gap_hours", 8784), ("duplicate_url_days", 366)
    ):  # fmt: skip
        text = re.sub(rf"(?m)^{key} = \S+", f"{key} = {value}", text)
    config.write_text(text)
    assert invoke("queue", "sync").exit_code == 0
    first_week, first_day = f"{FIRST_YEAR:04d}-W01", FIRST_DATE.isoformat()  # 0004-W01
    for week in (first_week, "9998-W53"):
        for command in ("plan", "simulate"):
            result = invoke(command, "--week", week)
            assert result.exit_code == 0, result.output
    for week in (first_week, "9998-W49"):
        result = invoke("preview", "--week", week, "--format", "json")
        assert result.exit_code == 0, result.output
    for since, until in ((first_day, f"{FIRST_YEAR:04d}-01-31"), ("9998-12-01", "9998-12-31")):
        result = invoke("history", "--since", since, "--until", until, "--by", "day")
        assert result.exit_code == 0, result.output


def test_history_dates_outside_the_calendar_exit_2(workspace: Path) -> None:
    for option, value in (("--since", "0001-01-01"), ("--until", "9999-12-31")):
        refused(invoke("history", option, value), 2, option, f"{value} is outside")
    edge = invoke("history", "--since", "9998-12-01", "--until", "9998-12-31", "--json")
    assert edge.exit_code == 0, edge.output


ITEM = '[[item]]\nkind = "help"\ntext = "x"\n'


# --- wrong shapes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("item = [1, 2]\n", "zz.toml:1: item[0]: each item must be a table"),
        ('item = "x"\n', "zz.toml:1: item: item must be an array of tables"),
        ("defaults = 3\n", "zz.toml:1: defaults: [defaults] must be a table"),
        (ITEM + 'id = "abc\\n"\n', 'zz.toml:4: item[0] (id "abc\\n").id:'),
        (ITEM + 'id = "a b"\n', "no spaces or control characters"),
        (ITEM + 'tags = ["a\\u001b[31m"]\n', "zz.toml:4: item[0].tags[0]:"),
    ],
)  # fmt: skip
def test_wrong_shapes_in_queue_files_exit_2(
    workspace: Path, db_url: str, synced: dict[str, Any], text: str, expected: str
) -> None:
    (workspace / "queue" / "zz.toml").write_text(text)
    refused(invoke("queue", "sync"), 2, expected)
    assert rows(db_url) == synced


def test_database_path_under_a_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "planner.toml"
    config.write_text('[database]\nurl = "sqlite:///planner.toml/x.db"\n')
    for command in (("queue", "list"), ("db", "upgrade")):
        output = refused(invoke("--config", str(config), *command), 2, "database.url:")
        assert f"{config} is a file, not a folder" in output
    assert config.is_file()


def test_init_onto_a_file_or_into_an_unwritable_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    refused(invoke("init", str(tmp_path / "taken")), 2, "is a file")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "queue").write_text("")  # a file where the queue folder goes
    refused(invoke("init", str(tmp_path / "ws")), 2, "queue is a file, not a folder")
    assert not (tmp_path / "ws" / "planner.toml").exists()  # checked before writing anything
    if os.geteuid() == 0:  # root writes anywhere: /proc refuses new folders even to root
        refused(invoke("init", "/proc/planner-test/ws"), 2, "cannot write /proc/planner-test")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        refused(invoke("init", str(locked / "ws")), 2, "cannot write", "Permission denied")


# --- a corrupt database file -------------------------------------------------------------


@pytest.mark.parametrize("command", [("queue", "list"), ("db", "upgrade"), ("status",)])
@pytest.mark.parametrize("content", [os.urandom(4096), b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_corrupt_database_file_exits_1_in_one_line(
    tmp_path: Path, command: tuple[str, ...], content: bytes
) -> None:
    config = tmp_path / "planner.toml"
    config.write_text("")
    database = tmp_path / "planner.db"
    database.write_bytes(content)
    output = refused(invoke("--config", str(config), *command), 1, "is not a planner database")
    assert str(database) in output
    assert len(output.strip().splitlines()) == 1
    assert database.read_bytes() == content


# --- what PostgreSQL refuses: NUL, long texts, big integers (refused on both) ------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('text = "a\\u0000b"', "zz.toml:3: item[0].text: contains a NUL character"),
        ('title = "\\u0000"', "item[0].title: contains a NUL character"),
        ('credit = "a\\u0000"', "item[0].credit:"),
        ('fields = {note = "a\\u0000"}', "item[0].fields.note:"),
        ('[item.variants.x]\ntext = "\\u0000"', "item[0].variants.x.text:"),
        (f'credit = "{"c" * 501}"', "item[0].credit: 501 characters: at most 500 fit"),
        (f'url = "https://example.org/{"u" * 2048}"', "at most 2048 fit"),
        ("fields = {n = nan}", "item[0].fields:"),
    ],
)
def test_what_postgresql_refuses_is_refused_at_validation_on_both(
    workspace: Path, db_url: str, synced: dict[str, Any], line: str, expected: str
) -> None:
    (workspace / "queue" / "zz.toml").write_text(f'[[item]]\nkind = "help"\n{line}\n')
    if not line.startswith(("text", "title")):
        (workspace / "queue" / "zz.toml").write_text(
            f'[[item]]\nkind = "help"\ntext = "x"\n{line}\n'
        )
    refused(invoke("queue", "sync"), 2, expected)
    assert rows(db_url) == synced


def test_nul_from_the_command_line_is_refused_or_not_found(
    workspace: Path, db_url: str, synced: dict[str, Any]
) -> None:
    add = ("queue", "add", "--kind", "help")
    refused(invoke(*add, "--text", "a\x00b"), 2, "command line: --text:")
    refused(invoke("hold", "tip\x00"), 1, "no queue item")
    refused(invoke("release", "abc\n"), 1, "no queue item")
    assert rows(db_url) == synced


def test_a_queue_file_whose_path_does_not_fit_its_column_exits_2(
    workspace: Path, db_url: str, synced: dict[str, Any]
) -> None:
    folder = workspace / "queue" / "/".join(["d" * 250] * 5)  # over the 1024 of items.source
    folder.mkdir(parents=True)
    (folder / "deep.toml").write_text(ITEM)
    refused(invoke("queue", "sync"), 2, "deep.toml: the file's path is longer than 1024")
    assert rows(db_url) == synced
