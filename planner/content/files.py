"""Read and validate the content queue files (``queue/*.toml``).

A queue file holds ``[[item]]`` tables and, optionally, a ``[defaults]`` table whose keys
apply to every item of that file (``kind = "share"`` for a file of curated shares)::

    [defaults]
    kind = "share"
    accounts = ["main"]

    [[item]]
    title = "How we cut our build time in half"
    url = "https://blog.example.org/builds"
    credit = "@ada@example.social"

Every problem in every file is collected (file, line, item and key named) before anything
touches the database, so a bad file never leaves a half-imported queue behind.

An item's id is given (``id = "spring-sale"``) or derived from what identifies it: its kind
and URL, else its kind and title, else its kind and text. A second sync therefore updates the
item instead of adding another; editing a derived-id item's text keeps its id as long as it
has a URL or title (give an explicit ``id`` to keep identity through any edit).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import (
    ValidationError,
)

from planner.config.problems import describe_errors, format_loc, quoted
from planner.config.settings import Config
from planner.config.toml_locate import find_line
from planner.content.item_spec import (
    FIRST_DATE,
    ITEM_KEYS,
    LAST_DATE,
    DateLike,
    ItemSpec,
    is_valid_id,
)
from planner.content.media_files import MediaFile, load_item_media
from planner.errors import Problem, QueueFileError
from planner.store import models
from planner.text import shorten

DEFAULT_COOLDOWN_DAYS = 30
__all__ = ["FIRST_DATE", "LAST_DATE", "ItemSpec", "is_valid_id"]  # re-exported for callers


@dataclass(frozen=True)
class ItemOrigin:
    """Where an item was written: its file and its place among the file's ``[[item]]`` tables."""

    path: Path
    index: int
    where: str  # "item[3] (id \"spring-sale\")", as problems name it


@dataclass(frozen=True)
class QueueItem:
    """A validated item, resolved against the config and ready to store."""

    id: str
    kind: str
    text: str | None
    title: str | None
    url: str | None
    credit: str | None
    accounts: list[str]
    variants: dict[str, dict[str, str]]
    fields: dict[str, Any]
    not_before: datetime | None
    not_after: datetime | None
    evergreen: bool
    cooldown_days: int | None
    max_reposts: int | None  # evergreen items: reposts per account after the first post
    priority: int
    tags: list[str]
    source: str
    content_hash: str
    # Stored apart, in item_media (see planner.content.media_store).
    media: tuple[MediaFile, ...] = field(default=(), compare=False, repr=False)
    # Not stored: where to point a problem found after reading (at sync, by rendering).
    origin: ItemOrigin | None = field(default=None, compare=False, repr=False)

    def row(self) -> dict[str, Any]:
        """The item as column values for the ``items`` table."""
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = tuple(name for name in QueueItem.__dataclass_fields__ if name not in {"origin", "media"})


def derive_id(kind: str, url: str | None, title: str | None, text: str | None) -> str:
    """A stable id from what identifies an item: its kind and URL, title or text."""
    identity = url or title or text or ""
    digest = hashlib.sha256(f"{kind}\n{identity}".encode()).hexdigest()
    return f"{kind}-{digest[:12]}"


def _to_utc(value: DateLike | None, tz: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
        return aware.astimezone(UTC)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end_of_day else value
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    raise TypeError(value)


def resolve_item(
    spec: ItemSpec,
    config: Config,
    source: str,
    origin: ItemOrigin | None = None,
    media: Sequence[MediaFile] = (),
) -> tuple[QueueItem | None, list[tuple[tuple[str | int, ...], str]]]:
    """Check an item against the config; return it, or the (key path, message) problems.

    ``media`` are the item's images as read (:func:`load_item_media`), in ``spec.media``
    order; their hashes and alt texts are part of the item's content hash.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if config.settings.plan.require_alt:
        for index, image in enumerate(spec.media):
            if not (image.alt or "").strip():
                problems.append(
                    (
                        ("media", index, "alt"),
                        "missing alt text: describe the image for people who cannot see it "
                        '(alt = "…"), or set [plan] require_alt = false',
                    )
                )
    kinds = config.kinds
    if spec.kind not in kinds:
        expected = ", ".join(sorted(kinds))
        problems.append((("kind",), f'unknown kind "{spec.kind}" (expected one of: {expected})'))
    else:
        for required in kinds[spec.kind].requires:
            if getattr(spec, required, None) is None and required not in spec.fields:
                problems.append(((required,), f'required for kind "{spec.kind}" but missing'))
    if spec.text is None and spec.title is None:
        problems.append((("text",), "missing text: give `text`, or `title` for the template"))
    known_accounts = config.settings.accounts
    for account in spec.accounts:
        if account not in known_accounts:
            expected = ", ".join(sorted(known_accounts)) or "none configured"
            problems.append((("accounts",), f'unknown account "{account}" (expected: {expected})'))
    tz = ZoneInfo(config.settings.timezone)
    kind = kinds.get(spec.kind)
    # A kind's active dates stand in for an item's own not_before and not_after.
    not_before = _to_utc(
        spec.not_before if spec.not_before is not None else (kind.active_from if kind else None),
        tz,
        end_of_day=False,
    )
    not_after = _to_utc(
        spec.not_after if spec.not_after is not None else (kind.active_until if kind else None),
        tz,
        end_of_day=True,
    )
    if not_before and not_after and not_after <= not_before:
        problems.append((("not_after",), "not_after must be later than not_before"))
    if spec.cooldown_days is not None and not spec.evergreen:
        problems.append((("cooldown_days",), "cooldown_days only applies to evergreen items"))
    if spec.max_reposts is not None and not spec.evergreen:
        problems.append((("max_reposts",), "max_reposts only applies to evergreen items"))
    if problems:
        return None, problems
    item_id = spec.id or derive_id(spec.kind, spec.url, spec.title, spec.text)
    cooldown = spec.cooldown_days or (DEFAULT_COOLDOWN_DAYS if spec.evergreen else None)
    max_reposts = spec.max_reposts
    if max_reposts is None and spec.evergreen and kind is not None:
        max_reposts = kind.max_reposts
    accounts = sorted(spec.accounts)
    variants = {name: {"text": variant.text} for name, variant in sorted(spec.variants.items())}
    fields = dict(sorted(spec.fields.items()))
    tags = sorted(spec.tags)
    content: dict[str, Any] = {
        "kind": spec.kind,
        "text": spec.text,
        "title": spec.title,
        "url": spec.url,
        "credit": spec.credit,
        "accounts": accounts,
        "variants": variants,
        "fields": fields,
        "not_before": not_before.isoformat() if not_before else None,
        "not_after": not_after.isoformat() if not_after else None,
        "evergreen": spec.evergreen,
        "cooldown_days": cooldown,
        "priority": spec.priority,
        "tags": tags,
    }
    if max_reposts is not None:  # absent otherwise: items written before it keep their hash
        content["max_reposts"] = max_reposts
    if media:  # likewise: an item without images keeps the hash it had before images
        content["media"] = [
            {"source": image.source, "alt": image.alt, "sha256": image.source_sha256}
            for image in media
        ]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    item = QueueItem(
        id=item_id,
        kind=spec.kind,
        text=spec.text,
        title=spec.title,
        url=spec.url,
        credit=spec.credit,
        accounts=accounts,
        variants=variants,
        fields=fields,
        not_before=not_before,
        not_after=not_after,
        evergreen=spec.evergreen,
        cooldown_days=cooldown,
        max_reposts=max_reposts,
        priority=spec.priority,
        tags=tags,
        source=source,
        content_hash=digest,
        media=tuple(media),
        origin=origin,
    )
    return item, []


def queue_file_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the ``*.toml`` files under them, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.toml")))
        else:
            files.append(path)
    return files


def source_name(path: Path, config: Config) -> str:
    """How an item's source file is recorded: relative to the config folder when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(config.base_dir).as_posix()
    except ValueError:
        return resolved.as_posix()


def read_queue_files(
    files: Sequence[Path],
    config: Config,
    on_file: Callable[[Path], None] | None = None,
) -> list[QueueItem]:
    """Parse and validate every file; raise :class:`QueueFileError` with all problems found.

    Returns the items in file order. Ids must be unique across all the files given.
    """
    items: list[QueueItem] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in files:
        file_items, file_problems = _read_one(path, config)
        problems.extend(file_problems)
        for item, where in file_items:
            if item.id in seen:
                problems.append(
                    Problem(
                        path, f'duplicate id "{item.id}" (also at {seen[item.id]})', None, where
                    )
                )
                continue
            seen[item.id] = f"{path}: {where}"
            items.append(item)
        if on_file is not None:
            on_file(path)
    if problems:
        raise QueueFileError(problems)
    return items


def _read_one(path: Path, config: Config) -> tuple[list[tuple[QueueItem, str]], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [Problem(path, "no such file")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(path, f"cannot read: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(path, f"not valid TOML: {exc}")]
    problems: list[Problem] = []
    for key in data:
        if key not in {"item", "defaults"}:
            msg = f'unknown key "{key}" (a queue file holds [[item]] tables and [defaults])'
            problems.append(Problem(path, msg, find_line(text, (key,)), key))
    defaults = data.get("defaults", {})
    raw_items = data.get("item", [])
    if not isinstance(defaults, Mapping) or "id" in defaults:
        msg = "[defaults] must be a table of item keys other than id"
        problems.append(Problem(path, msg, find_line(text, ("defaults",)), "defaults"))
        defaults = {}
    if not isinstance(raw_items, list):
        msg = "item must be an array of tables: write [[item]]"
        return [], [*problems, Problem(path, msg, find_line(text, ("item",)), "item")]
    source = source_name(path, config)
    if len(source) > models.SOURCE_LENGTH:
        msg = f"the file's path is longer than {models.SOURCE_LENGTH} characters: move it"
        return [], [*problems, Problem(path, msg)]
    items: list[tuple[QueueItem, str]] = []
    for index, raw in enumerate(raw_items):
        where = f"item[{index}]"
        if not isinstance(raw, Mapping):
            shown = shorten(repr(raw), 60)
            msg = f"each item must be a table (write [[item]]), got {type(raw).__name__} {shown}"
            problems.append(Problem(path, msg, find_line(text, ("item",)), where))
            continue
        if isinstance(raw.get("id"), str):
            where += f" (id {quoted(raw['id'])})"
        try:
            spec = ItemSpec.model_validate({**defaults, **raw})
        except ValidationError as exc:
            for loc, message in describe_errors(exc, ITEM_KEYS):
                line = find_line(text, ("item", index, *loc))
                problems.append(Problem(path, message, line, f"{where}.{format_loc(loc)}"))
            continue
        media, media_problems = load_item_media(spec, config, path.parent)
        item, item_problems = resolve_item(
            spec, config, source, ItemOrigin(path, index, where), media
        )
        if media_problems:
            item, item_problems = None, [*media_problems, *item_problems]
        for loc, message in item_problems:
            line = find_line(text, ("item", index, *loc))
            problems.append(Problem(path, message, line, f"{where}.{format_loc(loc)}"))
        if item is not None:
            items.append((item, where))
    return items, problems


def item_from_mapping(
    data: Mapping[str, Any],
    config: Config,
    origin: str,
    name_key: Callable[[tuple[str | int, ...]], str] = format_loc,
) -> QueueItem:
    """Validate one item given as a mapping (e.g. from command-line options).

    ``origin`` names where it came from in error messages and is recorded as its source;
    ``name_key`` says how a message names a key (``queue add`` names its option).
    Raises :class:`QueueFileError` listing every problem.
    """
    try:
        spec = ItemSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise QueueFileError(
            [
                Problem(origin, message, None, name_key(loc))
                for loc, message in describe_errors(exc, ITEM_KEYS)
            ]
        ) from None
    item, problems = resolve_item(spec, config, origin)
    if item is None:
        raise QueueFileError(
            [Problem(origin, message, None, name_key(loc)) for loc, message in problems]
        )
    return item


ItemFailure = tuple[QueueItem, tuple[str | int, ...], str]  # the item, the key at fault, why


def item_failures_error(
    failures: Sequence[ItemFailure],
    name_key: Callable[[tuple[str | int, ...]], str] = format_loc,
) -> QueueFileError:
    """Problems found in items after reading them, as an error naming file, line, item and key.

    An item read from a file is located in it (the key's line, else its ``[[item]]`` line);
    one given otherwise (``queue add``) is named by its source and ``name_key(key)``.
    """
    texts: dict[Path, str] = {}
    problems: list[Problem] = []
    for item, loc, message in failures:
        origin = item.origin
        if origin is None:
            problems.append(Problem(item.source, message, None, name_key(loc) if loc else None))
            continue
        if origin.path not in texts:
            try:
                texts[origin.path] = origin.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):  # changed since it was read: no line then
                texts[origin.path] = ""
        line = find_line(texts[origin.path], ("item", origin.index, *loc))
        where = origin.where
        if "(id " not in where:  # a derived id: name it, later commands take it
            where += f" (id {quoted(item.id)})"
        if loc:
            where += f".{format_loc(loc)}"
        problems.append(Problem(origin.path, message, line, where))
    return QueueFileError(problems)
