"""Validation errors described for a person: the key's path and what to fix.

Shared by the config (:mod:`planner.config.settings`) and the queue files
(:mod:`planner.content.files`), which both validate TOML with pydantic.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``("accounts", "main", "slots", 1)`` -> ``accounts.main.slots[1]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_SECRET_LOCS = ("credentials", "database")
_SHOWN = 80  # characters of a bad value shown in a message


def quoted(value: str, limit: int = 80) -> str:
    """``value`` in double quotes with control characters escaped (a NUL or a line break
    shows as ``\\u0000`` or ``\\n``), shortened past ``limit`` characters: safe in a
    one-line message."""
    shown = json.dumps(value if len(value) <= limit else value[:limit] + "…", ensure_ascii=False)
    return shown


# Keys people write for another by the name of what it sets ("the ratio"), too far apart
# in spelling for a close match to find.
_SAID_FOR = {"ratio": "give_to_pitch", "tz": "timezone", "time_zone": "timezone"}


def describe_errors(
    exc: ValidationError, known_keys: Iterable[str] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Pydantic's errors as (key path, message a person can act on) pairs.

    ``known_keys`` are the valid key names, offered as "did you mean" for unknown ones.
    """
    described = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not _is_pydantic_tag(p))
        described.append((loc, _describe(error, loc, known_keys)))
    return described


def _is_pydantic_tag(part: str | int) -> bool:
    # Union members appear in loc as e.g. "str" or "function-after[...]"; they are not keys.
    return isinstance(part, str) and (part in {"str", "int", "float", "bool"} or "[" in part)


def _describe(error: Any, loc: tuple[str | int, ...], known_keys: Iterable[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        known = set(known_keys)
        if key in known:
            # A real key in the wrong table: in TOML, a key written below a [table] header
            # goes into that table, the usual slip with a top-level key written last.
            where = f"a key of [{format_loc(loc[:-1])}]" if len(loc) > 1 else "a top-level key"
            return (
                f'"{key}" is not {where}: it belongs in another table (a key written below '
                "a [table] header goes into that table; top-level keys go above the first one)"
            )
        close = difflib.get_close_matches(key, sorted(known), n=1)
        if not close and _SAID_FOR.get(key) in known:
            close = [_SAID_FOR[key]]
        return f'unknown key "{key}"' + (f' (did you mean "{close[0]}"?)' if close else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    message = str(error["msg"])
    if any(part in _SECRET_LOCS for part in loc):
        return message
    value = error.get("input")
    if isinstance(value, dict):
        return f"{message}, got a table"
    shown = repr(value)
    if len(shown) > _SHOWN:  # a 100,000-character text would drown the message
        shown = shown[: _SHOWN - 1] + "…"
    return f"{message}, got {shown} ({type(value).__name__})"
