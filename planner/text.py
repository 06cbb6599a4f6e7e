"""Small text helpers shared by every report the planner prints (tables, JSON)."""

from __future__ import annotations

from datetime import UTC, datetime


def one_line(text: str) -> str:
    """Any run of whitespace, newlines included, as one space."""
    return " ".join(text.split())


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
