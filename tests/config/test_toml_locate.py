"""Finding the line of a key, so config and queue errors can point at it."""

from __future__ import annotations

from planner.config.toml_locate import find_line

TEXT = """\
# comment
timezone = "UTC"

[accounts.main]
network = "x"
slots = [
  "mon 09:00",
]

[accounts.main.options]
path = "out.jsonl"

[[item]]
kind = "share"

[[item]]
kind = "help"
variants.x.text = "hi"

[item.fields]
extra = 1
"""


def test_top_level_key() -> None:
    assert find_line(TEXT, ("timezone",)) == 2


def test_key_inside_a_table() -> None:
    assert find_line(TEXT, ("accounts", "main", "network")) == 5


def test_index_into_an_inline_array_falls_back_to_its_key() -> None:
    assert find_line(TEXT, ("accounts", "main", "slots", 0)) == 6


def test_sub_table_key() -> None:
    assert find_line(TEXT, ("accounts", "main", "options", "path")) == 11


def test_arrays_of_tables_are_counted() -> None:
    assert find_line(TEXT, ("item", 0, "kind")) == 14
    assert find_line(TEXT, ("item", 1, "kind")) == 17


def test_dotted_keys_and_sub_tables_of_the_latest_array_element() -> None:
    assert find_line(TEXT, ("item", 1, "variants", "x", "text")) == 18
    assert find_line(TEXT, ("item", 1, "fields", "extra")) == 21


def test_missing_key_falls_back_to_its_table_header() -> None:
    assert find_line(TEXT, ("accounts", "main", "timezone")) == 4
    assert find_line(TEXT, ("nothing",)) is None
