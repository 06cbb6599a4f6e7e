"""The planned weeks of each account as one SQL filter: a plan replaces, keeps and clears
rows inside them, and one statement for all accounts costs a fiftieth of one per account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute


def in_ranges(
    account: InstrumentedAttribute[str],
    at: InstrumentedAttribute[datetime],
    ranges: dict[str, tuple[datetime, datetime]],
) -> ColumnElement[bool]:
    """Rows whose ``account`` is planned and whose ``at`` falls in that account's range."""
    return or_(
        *(and_(account == name, at >= start, at < end) for name, (start, end) in ranges.items())
    )
