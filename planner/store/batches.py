"""Long id lists cut into batches, so an ``IN (...)`` stays within what every database
accepts (SQLite's default limit on bound parameters, PostgreSQL's statement size)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

BATCH = 500


def chunks(values: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
