"""What the fuzz tests of planner.toml and the queue files share: a TOML writer, strategies
for odd values, and a workspace whose database can be put back and compared.

The writer is the tests' own (the planner only reads TOML): it writes tables as ``[headers]``
and arrays of tables as ``[[headers]]`` where it can, so the line finder of error messages
is exercised too, and inline tables and arrays below that.
"""

from __future__ import annotations

import math
import re
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import strategies as st

from planner.cli import main

REPO = Path(__file__).resolve().parents[2]
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\",
}  # fmt: skip


def _string(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dump_toml(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text that ``tomllib`` reads back as the same values."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key, value in document.items():
        if isinstance(value, Mapping) or _is_table_array(value):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        tables = value if isinstance(value, list) else [value]
        header = f"[[{_key(key)}]]" if isinstance(value, list) else f"[{_key(key)}]"
        for table in tables:
            lines += ["", header]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# Characters that have broken planners: controls, NUL, line separators, right-to-left marks,
# emoji and combining marks, quotes and backslashes.
_ODD_CHARS = "\x00\x01\x07\x1b\x7f\x85\u2028\u2029\u200f\u202e\ufeff\u0301😀👍🏽\"'\\\n\t ä漢"
odd_text = st.one_of(
    st.text(alphabet=st.sampled_from(_ODD_CHARS) | st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", " ", "x" * 3000, "é" * 70_000, "mon-fri 09:00\n", "UTC\x00"]),
)
odd_numbers = st.one_of(
    st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, -(2**63), 2**64, 10**20]),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan, 0.5]),
    st.integers(),
    st.floats(),
)
odd_dates = st.one_of(
    st.sampled_from(
        [
            date(1, 1, 1),
            date(9999, 12, 31),
            date(2, 1, 1),
            date(9998, 12, 31),
            datetime(1, 1, 1),
            datetime(9999, 12, 31, 23, 59, 59),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
            datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            time(7, 30),
        ]
    ),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))]) | st.none()),
)
_scalars = st.one_of(odd_text, odd_numbers, odd_dates, st.booleans())
odd_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=6,
)


# Values of the right type and in range, mostly: with them the odd values above reach the
# code behind validation (planning, storing) instead of all being refused at the door.
plausible_values = st.one_of(
    st.integers(-3, 400),
    st.floats(0, 400),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_ :09/", min_size=1, max_size=20),
    st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)),
    st.booleans(),
)


def snapshot(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: two equal snapshots are the same data."""
    connection = sqlite3.connect(database)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608 - names from sqlite_master
            for table in tables
        }
    finally:
        connection.close()


@dataclass
class Workspace:
    """A workspace on SQLite with the example queue synced, and a copy to go back to."""

    root: Path
    pristine: Path

    @property
    def database(self) -> Path:
        return self.root / "planner.db"

    @classmethod
    def create(cls, root: Path) -> Workspace:
        root.mkdir(parents=True)
        (root / "planner.toml").write_text((REPO / "config.example.toml").read_text())
        shutil.copytree(REPO / "queue", root / "queue")
        shutil.copytree(REPO / "templates", root / "templates")
        workspace = cls(root, root.parent / f"{root.name}-pristine.db")
        result = workspace.invoke("queue", "sync")
        assert result.exit_code == 0, result.output
        shutil.copyfile(workspace.database, workspace.pristine)
        return workspace

    def reset(self) -> None:
        """Back to the example config, queue and database."""
        (self.root / "planner.toml").write_text((REPO / "config.example.toml").read_text())
        for extra in ("planner.db-wal", "planner.db-shm"):
            (self.root / extra).unlink(missing_ok=True)
        shutil.copyfile(self.pristine, self.database)

    def invoke(self, *args: str) -> Result:
        config = str(self.root / "planner.toml")
        return CliRunner().invoke(main, ["--config", config, *args], catch_exceptions=True)


def assert_clean_exit(result: Result, allowed: tuple[int, ...] = (0, 2)) -> None:
    """The command ended on purpose (no exception escaped), with an allowed code and no
    traceback in what it printed."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"crashed: {result.output}") from result.exception
    assert result.exit_code in allowed, result.output
    assert "Traceback" not in result.output, result.output


def sync_fuzzed(workspace: Workspace, document: Mapping[str, Any]) -> Result:
    """``queue sync`` of ``document`` written as a queue file of its own: it imports (exit 0)
    or refuses naming the file (exit 2) and leaving the database as it was; never a crash."""
    before = snapshot(workspace.database)
    path = workspace.root / "queue" / "fuzzed.toml"
    path.write_text(dump_toml(document), encoding="utf-8")
    try:
        result = workspace.invoke("queue", "sync")
    finally:
        path.unlink()
    assert_clean_exit(result)
    if result.exit_code != 0:
        assert snapshot(workspace.database) == before
        assert "fuzzed.toml" in result.output  # the file is named
    return result
