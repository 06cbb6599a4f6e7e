"""One queue item as a person writes it (``[[item]]`` in a queue file, or ``queue add``'s
options), and the limits of what it may say.

Beyond its types an item is held to what the database and the calendar can take: ids are
one word, names, tags, credits and URLs one line of printable text, no text holds a NUL
(PostgreSQL refuses it; refused on every backend so both behave the same), strings fit their
columns, the priority fits a 32-bit column, and dates lie inside the planner's calendar.
:mod:`planner.content.files` reads the files and resolves items against the config.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.config.bounds import CONTROL, MAX_REPOSTS
from planner.config.problems import quoted
from planner.content.media_limits import MAX_IMAGES
from planner.plan.slots import FIRST_YEAR, LAST_YEAR
from planner.store import models

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
# Bounds of an item's numbers: priority fits the 32-bit column on every database, and a
# cooldown of ten years is as good as never; longer would overflow dates near the calendar's end.
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1
MAX_COOLDOWN_DAYS = 3660
# Dates inside the planner's calendar (the years of plannable weeks): a timezone shift or a
# day added to "through that day" never leaves what Python and the databases can represent.
FIRST_DATE, LAST_DATE = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refused on every backend so both behave the same.
    if "\x00" in value:
        raise ValueError(
            f"contains a NUL character (U+0000 at position {value.index(chr(0)) + 1}): remove it"
        )
    return value


def _one_line(value: str) -> str:
    found = CONTROL.search(value)
    if found:
        raise ValueError(
            f"{quoted(value)} contains a control character (U+{ord(found.group()):04X}): "
            "names, tags, credits and URLs are one line of printable text"
        )
    return value


_COLUMN_LENGTHS = {
    "kind": models.KIND_LENGTH,
    "url": models.URL_LENGTH,
    "credit": models.CREDIT_LENGTH,
}
Text = Annotated[str, AfterValidator(_no_nul)]
Line = Annotated[str, AfterValidator(_one_line)]
# A date in not_after means "through that day"; in not_before, "from the start of that day".
DateLike = date | datetime | str


class VariantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    text: Text = Field(min_length=1)


MAX_ALT = 5000  # characters of alt text kept; every network takes fewer (media_limits)


class MediaSpec(BaseModel):
    """One image of an item (``[[item.media]]``): a file relative to the queue file, or a URL
    fetched at sync, and its alt text."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    path: Line | None = Field(default=None, min_length=1, max_length=models.SOURCE_LENGTH)
    url: str | None = Field(default=None, max_length=models.URL_LENGTH)
    alt: Text | None = Field(default=None, max_length=MAX_ALT)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("path")
    @classmethod
    def _no_nul_path(cls, value: str | None) -> str | None:
        return None if value is None else _no_nul(value)

    @model_validator(mode="after")
    def _one_source(self) -> MediaSpec:
        if (self.path is None) == (self.url is None):
            raise ValueError("give the image as `path` (a file) or `url`, exactly one of them")
        return self


class ItemSpec(BaseModel):
    """One queue item as written in a file, before it is resolved against the config."""

    # inf and nan are valid TOML floats, but JSON (the fields column) has no word for them.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    id: str | None = None
    kind: Line
    text: Text | None = Field(default=None, min_length=1)
    title: Text | None = Field(default=None, min_length=1)
    url: str | None = None
    credit: Line | None = Field(default=None, min_length=1)
    accounts: list[Line] = Field(default_factory=list)
    variants: dict[Line, VariantSpec] = Field(default_factory=dict)
    fields: dict[Line, Text | int | float | bool] = Field(default_factory=dict)
    not_before: DateLike | None = None
    not_after: DateLike | None = None
    evergreen: bool = False
    cooldown_days: int | None = Field(default=None, ge=1, le=MAX_COOLDOWN_DAYS)
    # How many times an evergreen item may go out again on an account after its first post.
    max_reposts: int | None = Field(default=None, ge=0, le=MAX_REPOSTS)
    priority: int = Field(default=0, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    tags: list[Line] = Field(default_factory=list)
    media: list[MediaSpec] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value):
            raise ValueError(
                f"{quoted(value)} is not a valid id (letters, digits, . _ : -, no spaces or "
                "control characters; at most 200 characters)"
            )
        return value

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("kind", "url", "credit")
    @classmethod
    def _fits_its_column(cls, value: str | None, info: ValidationInfo) -> str | None:
        limit = _COLUMN_LENGTHS[str(info.field_name)]
        if value is not None and len(value) > limit:
            raise ValueError(f"{len(value)} characters: at most {limit} fit in the database")
        return value

    @field_validator("media", mode="before")
    @classmethod
    def _at_most_four(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_IMAGES:
            raise ValueError(
                f"{len(value)} images: at most {MAX_IMAGES} per item (no network takes more "
                "on one post)"
            )
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _finite_numbers(cls, value: Any) -> Any:
        # One clear message instead of one per member of the value's union type.
        if isinstance(value, Mapping):
            for key, field in value.items():
                if isinstance(field, float) and not math.isfinite(field):
                    raise ValueError(f'"{key}" is {field}: not a number a template can use')
        return value

    @field_validator("not_before", "not_after")
    @classmethod
    def _valid_date(cls, value: DateLike | None) -> DateLike | None:
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{quoted(text)} is not a date (expected 2026-12-01 or 2026-12-01T09:00)"
                ) from None
        if value is not None:
            day = value.date() if isinstance(value, datetime) else value
            if not FIRST_DATE <= day <= LAST_DATE:
                raise ValueError(
                    f"{value.isoformat()} is outside the planner's calendar (expected a date "
                    f"from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}; leave the key "
                    "out for no limit)"
                )
        return value


def _http_url(value: str | None) -> str | None:
    if value is not None:
        try:
            parts = urlsplit(value)
            scheme, hostname = parts.scheme, parts.hostname
        except ValueError:  # a malformed IPv6 literal ("http://[x")
            scheme, hostname = "", None
        if scheme not in {"http", "https"} or not hostname or _has_space(value):
            raise ValueError(f"{quoted(value)} is not an http(s) URL")
    return value


def is_valid_id(value: str) -> bool:
    """Whether ``value`` can be an item id (what ``id =`` accepts): a lookup of anything else
    can only miss, and need not reach the database (PostgreSQL refuses a NUL in a query)."""
    return _ID.fullmatch(value) is not None


def _has_space(value: str) -> bool:
    return any(char.isspace() for char in value) or CONTROL.search(value) is not None


ITEM_KEYS = set(ItemSpec.model_fields)
