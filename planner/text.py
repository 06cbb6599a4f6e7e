"""Small text helpers shared by every report the planner prints (tables, JSON).

Texts in the queue (and messages from networks) may hold control characters: an escape
sequence printed as is would recolour, move or clear a person's terminal. Every table goes
through :func:`one_line` or :func:`shorten`, and every report meant for a terminal through
:func:`visible`, which shows such characters as escapes (``\\x1b``) instead. JSON needs none
of this: it escapes control characters itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# C0 controls but the newline, DEL, C1 controls, the Unicode line and paragraph separators,
# and the bidirectional embeddings, overrides and isolates (they reorder what follows them).
_INVISIBLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character but the newline shown as an escape.

    The escape character comes out as the four characters ``\\x1b``, U+2028 as ``\\u2028``;
    everything else, newlines included, is left as it is.
    """
    return _INVISIBLE.sub(_escape, text)


def one_line(text: str) -> str:
    """Any run of whitespace, newlines included, as one space; control characters visible."""
    return visible(" ".join(text.split()))


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis when longer."""
    text = one_line(text)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def iso_utc(at: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, or None."""
    return None if at is None else at.astimezone(UTC).isoformat()


def plural(amount: float, unit: str) -> str:
    """``plural(1, "day")`` -> ``"1 day"``; ``plural(2.5, "day")`` -> ``"2.5 days"``."""
    return f"{amount:g} {unit}" if amount == 1 else f"{amount:g} {unit}s"
