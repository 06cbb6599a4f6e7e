"""Find the line of a key in TOML text, so error messages can say where to look.

``tomllib`` returns plain dicts without positions. A validation error knows the *path* of
the bad value (``("accounts", "main", "slots", 1)``, ``("item", 3, "kind")``); this module
scans the text for the table headers and key lines and returns the line that defines the
deepest part of that path it can find. It understands tables, arrays of tables (counting
``[[item]]`` headers) and dotted keys; a value inside an inline table or a multi-line array
is reported at the line of its enclosing key, which is close enough for a person to find it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARRAY_HEADER = re.compile(r"^\[\[\s*(?P<keys>[^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*(?P<keys>[^\]]+?)\s*\]")
_KEY_LINE = re.compile(
    r"^(?P<keys>(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)
_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)")


def _split_keys(dotted: str) -> list[str]:
    return [m.group(1) or m.group(2) or m.group(3) or "" for m in _KEY_PART.finditer(dotted)]


def find_line(text: str, path: Sequence[str | int]) -> int | None:
    """Return the 1-based line defining the deepest prefix of ``path``, or None.

    Integers in ``path`` index arrays of tables (``[[item]]``) and are otherwise ignored
    (an index into an inline array is reported at its key's line).
    """
    target = [str(p) for p in path]
    array_index: dict[tuple[str, ...], int] = {}

    def resolve(keys: list[str]) -> list[str]:
        # Walk the keys, inserting the current index after every array of tables.
        resolved: list[str] = []
        for key in keys:
            resolved.append(key)
            index = array_index.get(tuple(resolved))
            if index is not None:
                resolved.append(str(index))
        return resolved

    best_line: int | None = None
    best_depth = 0
    current: list[str] = []

    def consider(full: list[str], lineno: int) -> None:
        nonlocal best_line, best_depth
        depth = len(full)
        if depth > best_depth and target[:depth] == full:
            best_line, best_depth = lineno, depth

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _ARRAY_HEADER.match(line):
            keys = _split_keys(match["keys"])
            parent = resolve(keys[:-1])
            array = (*parent, keys[-1])
            array_index[array] = array_index.get(array, -1) + 1
            current = [*array, str(array_index[array])]
            consider(current, lineno)
        elif match := _TABLE_HEADER.match(line):
            current = resolve(_split_keys(match["keys"]))
            consider(current, lineno)
        elif match := _KEY_LINE.match(line):
            consider([*current, *_split_keys(match["keys"])], lineno)
    return best_line
