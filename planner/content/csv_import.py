"""Read a CSV file of queue items (``planner queue import``), all or nothing.

Two layouts are understood, told apart by the header row (names matched case-insensitively,
surrounding spaces ignored):

- **the planner's columns**: ``kind, text, title, url, credit, accounts, not_before,
  not_after, priority, tags, evergreen`` (any subset, any order; ``id`` and
  ``cooldown_days`` too; ``image`` and ``image_alt`` for one image: a path relative to the
  CSV file, or an http(s) URL fetched at import, and its alt text). ``accounts`` and
  ``tags`` hold several names separated by commas, semicolons or spaces; ``evergreen`` is
  true/false, yes/no or 1/0; an empty cell is a key left out.
- **the bulk-upload layout** of Buffer and Hootsuite: ``text`` (or ``message``), ``link``
  and ``date``, with or without a header row (without one the columns are date, text, link,
  as in Hootsuite's template). Every row gets the kind given by ``--kind`` (default
  ``help``); the date becomes the item's ``not_before`` (the planner picks the slot, not the
  minute), written ``2026-12-01 09:00`` or day first, ``01/12/2026 09:00``.

The file is UTF-8, with or without a byte-order mark. Each row goes through the same
validation as an ``[[item]]`` of a queue file (:class:`~planner.content.item_spec.ItemSpec`
and :func:`~planner.content.files.resolve_item`), and every problem names the row (as a
spreadsheet numbers it: the header is row 1) and the column. One bad row refuses the file.

Items are stored with the source ``csv:PATH``: a second import of the same file updates its
items and archives the rows that are gone from it, and ``queue sync`` (whose sources are the
``.toml`` files) never touches them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.config.problems import describe_errors, quoted
from planner.config.settings import Config
from planner.content.files import (
    ItemFailure,
    ItemOrigin,
    QueueItem,
    resolve_item,
    source_name,
)
from planner.content.item_spec import ITEM_KEYS, ItemSpec
from planner.content.media_files import load_item_media
from planner.errors import Problem, QueueFileError
from planner.store import models
from planner.text import shorten

SOURCE_PREFIX = "csv:"
PLANNER_COLUMNS = (
    "kind", "text", "title", "url", "credit", "accounts", "not_before", "not_after",
    "priority", "tags", "evergreen", "id", "cooldown_days", "image", "image_alt",
)  # fmt: skip
BULK_COLUMNS = {
    "text": "text", "message": "text", "link": "url", "date": "not_before",
    "image": "image", "image_alt": "image_alt",
}  # fmt: skip
_BULK_LABELS = {"url": "url (link)", "not_before": "not_before (date)"}
DEFAULT_BULK_KIND = "help"
_LIST_SPLIT = re.compile(r"[,;\s]+")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
_DAY_FIRST = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y")
# A cell is at most this long: far more than any post, and csv's own field limit is 128 KiB.
MAX_CELL = 100_000


def csv_source(path: Path, config: Config) -> str:
    """The source recorded for the items of a CSV file: ``csv:`` and its path."""
    return SOURCE_PREFIX + source_name(path, config)


def read_csv_items(path: Path, config: Config, bulk_kind: str | None = None) -> list[QueueItem]:
    """Every row of ``path`` as a validated item; raise :class:`QueueFileError` naming every
    problem (row and column) when any row is wrong. ``bulk_kind`` is the kind of the rows of
    a bulk-upload file (default ``help``), and of planner-layout rows that leave it empty."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QueueFileError([Problem(path, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = f"not UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8"
        raise QueueFileError([Problem(path, msg, line)]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise QueueFileError([Problem(path, "contains a NUL character: not a text file", line)])
    rows = _rows(path, text)
    if not rows:
        raise QueueFileError([Problem(path, "empty: expected a header row and items")])
    source = csv_source(path, config)
    if len(source) > models.SOURCE_LENGTH:
        msg = f"the file's path is longer than {models.SOURCE_LENGTH} characters: move it"
        raise QueueFileError([Problem(path, msg)])
    columns, labels, body, bulk = _layout(path, rows)
    width = len(columns) - (1 if "kind" not in labels else 0)  # cells a row may have
    default_kind = bulk_kind or (DEFAULT_BULK_KIND if bulk else None)
    problems: list[Problem] = []

    def column(loc: tuple[str | int, ...]) -> str:
        key = str(loc[0]) if loc else "?"
        if key == "media":  # the row's one image: its image and image_alt columns
            key = "image_alt" if "alt" in loc else "image"
        return labels.get(key, key)

    items: list[QueueItem] = []
    seen: dict[str, int] = {}
    for number, line, cells in body:
        if not any(cell.strip() for cell in cells):
            continue  # a blank row, as spreadsheets leave at the end
        where = f"row {number}"
        if len(cells) > width:
            extra = shorten(cells[width], 40)
            msg = f"{len(cells)} cells but {width} columns (first extra: {quoted(extra)})"
            problems.append(Problem(path, msg, line, where))
            continue
        data, row_problems = _row_data(columns, cells, default_kind)
        problems += [
            Problem(path, msg, line, f"{where}, column {column((key,))}")
            for key, msg in row_problems
        ]
        if row_problems:
            continue
        try:
            spec = ItemSpec.model_validate(data)
        except ValidationError as exc:
            for loc, message in describe_errors(exc, ITEM_KEYS):
                problems.append(Problem(path, message, line, f"{where}, column {column(loc)}"))
            continue
        origin = ItemOrigin(path, number, where)  # its index: the row number
        media, media_problems = load_item_media(spec, config, path.parent)
        item, item_problems = resolve_item(spec, config, source, origin, media)
        if media_problems:
            item, item_problems = None, [*media_problems, *item_problems]
        for loc, message in item_problems:
            problems.append(Problem(path, message, line, f"{where}, column {column(loc)}"))
        if item is None:
            continue
        if item.id in seen:
            msg = f'duplicate id "{item.id}" (also row {seen[item.id]})'
            problems.append(Problem(path, msg, line, where))
            continue
        seen[item.id] = number
        items.append(item)
    if problems:
        raise QueueFileError(problems)
    if not items:
        raise QueueFileError([Problem(path, "no items: every row after the header is empty")])
    return items


def claimed_elsewhere(items: Sequence[QueueItem], owners: dict[str, str]) -> QueueFileError | None:
    """An error naming each row whose id belongs to an item of another source (``owners``:
    id -> source of the stored items), or None: an import never takes over a queue file's
    item, which the next ``queue sync`` would take back."""
    problems = [
        Problem(
            item.origin.path if item.origin else item.source,
            f'id "{item.id}" is already an item from {owners[item.id]}: give this row its own '
            "id, or leave the item where it is",
            None,
            item.origin.where if item.origin else None,
        )
        for item in items
        if item.id in owners and owners[item.id] != item.source
    ]
    return QueueFileError(problems) if problems else None


def csv_failures_error(failures: Sequence[ItemFailure]) -> QueueFileError:
    """Problems found in CSV items after reading them (rendering), naming row and column."""
    problems = []
    for item, loc, message in failures:
        origin = item.origin
        where = origin.where if origin else item.id
        if loc:
            where += f", column {_BULK_LABELS.get(str(loc[0]), str(loc[0]))}"
        problems.append(Problem(origin.path if origin else item.source, message, None, where))
    return QueueFileError(problems)


def _rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each record; a malformed file (an unclosed quote) is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise QueueFileError([Problem(path, f"not valid CSV: {exc}", reader.line_num)]) from None
    return rows


def _layout(
    path: Path, rows: list[tuple[int, list[str]]]
) -> tuple[list[str], dict[str, str], list[tuple[int, int, list[str]]], bool]:
    """The item key of each column, how to name each key's column, the data rows
    (number, line, cells) and whether it is the bulk-upload layout; raise naming every
    problem of the header."""
    header_line, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    body = [(number, line, cells) for number, (line, cells) in enumerate(rows[1:], start=2)]
    if names and _is_date(header[0]) and not set(names) & {*PLANNER_COLUMNS, *BULK_COLUMNS}:
        # Hootsuite's template has no header row: date, text, link.
        body = [(number, line, cells) for number, (line, cells) in enumerate(rows, start=1)]
        labels = {"not_before": "1 (date)", "text": "2 (text)", "url": "3 (link)"}
        return ["not_before", "text", "url", "kind"], labels, body, True
    problems: list[Problem] = []
    bulk = "link" in names or "date" in names or "message" in names
    known = BULK_COLUMNS if bulk else {name: name for name in PLANNER_COLUMNS}
    columns: list[str] = []
    labels = {}
    for index, name in enumerate(names, start=1):
        where = f"row 1, column {index}"
        if name not in known:
            if bulk:
                expected = "text (or message), link, date: the bulk-upload layout"
            else:
                expected = ", ".join(PLANNER_COLUMNS)
            shown = quoted(shorten(header[index - 1], 40))
            msg = f"unknown column {shown} (expected {expected})"
            problems.append(Problem(path, msg, header_line, where))
        elif known[name] in columns:
            msg = f"column {quoted(name)} appears twice"
            problems.append(Problem(path, msg, header_line, where))
        columns.append(known.get(name, name))
        labels.setdefault(known.get(name, name), name)
    if bulk and "text" not in columns:
        msg = "the bulk-upload layout needs a text (or message) column"
        problems.append(Problem(path, msg, header_line, "row 1"))
    if problems:
        raise QueueFileError(problems)
    if "kind" not in columns:
        columns.append("kind")  # filled from --kind for every row
    return columns, labels, body, bulk


def _row_data(
    columns: list[str], cells: list[str], default_kind: str | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    data: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column, cell in zip(columns, [*cells, *[""] * (len(columns) - len(cells))], strict=True):
        value = cell.strip()
        if len(cell) > MAX_CELL:
            problems.append((column, f"{len(cell)} characters: at most {MAX_CELL} in a cell"))
        elif column == "kind" and not value:
            if default_kind is None:
                problems.append((column, "empty: each row needs a kind (or give --kind)"))
            data["kind"] = default_kind
        elif not value:
            continue
        elif column in {"accounts", "tags"}:
            data[column] = [part for part in _LIST_SPLIT.split(value) if part]
        elif column == "evergreen":
            if value.lower() not in _TRUE | _FALSE:
                problems.append((column, f"{quoted(value)} is not true or false (or yes/no)"))
            data[column] = value.lower() in _TRUE
        elif column in {"priority", "cooldown_days"}:
            try:
                data[column] = int(value)
            except ValueError:
                problems.append((column, f"{quoted(shorten(value, 40))} is not a whole number"))
        elif column in {"not_before", "not_after"}:
            data[column] = _date_text(value)
        elif column in {"text", "title"}:
            data[column] = cell  # kept as written: a post's spacing is the writer's
        elif column in {"image", "image_alt"}:
            continue  # below: the two cells make one image
        else:
            data[column] = value
    media = _image(columns, cells)
    if media is not None:
        data["media"] = [media]
    elif "image_alt" in columns and _cell(columns, cells, "image_alt"):
        problems.append(("image_alt", "alt text without an image: give the image column too"))
    return data, problems


def _cell(columns: list[str], cells: list[str], name: str) -> str:
    index = columns.index(name)
    return cells[index].strip() if index < len(cells) else ""


def _image(columns: list[str], cells: list[str]) -> dict[str, str] | None:
    """The row's image: an http(s) URL, else a path relative to the CSV file."""
    if "image" not in columns:
        return None
    where = _cell(columns, cells, "image")
    if not where:
        return None
    image = {"url" if where.startswith(("http://", "https://")) else "path": where}
    alt = _cell(columns, cells, "image_alt") if "image_alt" in columns else ""
    if alt:
        image["alt"] = alt
    return image


def _is_date(value: str) -> bool:
    return _parse_day_first(value.strip()) is not None or _iso(value.strip()) is not None


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _parse_day_first(value: str) -> datetime | None:
    for pattern in _DAY_FIRST:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _date_text(value: str) -> str:
    """A date as ItemSpec reads it: ISO as written, a day-first date converted."""
    if _iso(value) is not None:
        return value
    parsed = _parse_day_first(value)
    return parsed.isoformat() if parsed is not None else value
