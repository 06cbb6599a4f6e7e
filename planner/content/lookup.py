"""Finding a queue item by the id a person typed, with "did you mean" when it is not there.

Suggestions stay cheap on a queue of 200,000 items: a small queue is compared whole, a
large one only with ids that start like the one typed (a typo is rarely in the first two
characters), and never more than :data:`POOL` ids are compared.
"""

from __future__ import annotations

import difflib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.content.item_spec import is_valid_id
from planner.errors import ItemNotFound
from planner.store.models import Item

POOL = 1000
CUTOFF = 0.6  # how alike (difflib's ratio) an id must be to be offered
_NOT_ID = re.compile(r"[^A-Za-z0-9._:-]")


def get_item(session: Session, item_id: str) -> Item:
    """The item with this id, or :class:`ItemNotFound` naming up to three close ids."""
    # No item can have an id the queue files refuse (one with a NUL would even make
    # PostgreSQL refuse the query): such an id is simply not found.
    item = session.get(Item, item_id) if is_valid_id(item_id) else None
    if item is None:
        raise ItemNotFound(item_id, similar_ids(session, item_id))
    return item


def similar_ids(session: Session, typed: str, limit: int = 3) -> list[str]:
    """Existing ids that look like ``typed``, closest first; case is ignored in comparing."""
    # What was typed, less what no id can hold (a pasted newline, a space, a NUL).
    wanted = _NOT_ID.sub("", typed)
    if not wanted:
        return []
    pool = list(session.scalars(select(Item.id).limit(POOL + 1)))
    # A large queue: narrow to ids that start like the one typed, one character more at a
    # time while there are too many, and keep the last non-empty set (a typo may sit at the
    # character that emptied it).
    length = 2
    while len(pool) > POOL and length <= len(wanted):
        narrower = _starting_with(session, wanted[:length])
        if not narrower:
            break
        pool = narrower
        length += 1
    pool = pool[:POOL]
    # difflib's get_close_matches, with ties broken alphabetically rather than in reverse.
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(wanted.lower())
    scored: list[tuple[float, str]] = []
    for item_id in pool:
        matcher.set_seq1(item_id.lower())
        if (
            matcher.real_quick_ratio() >= CUTOFF
            and matcher.quick_ratio() >= CUTOFF
            and matcher.ratio() >= CUTOFF
        ):
            scored.append((-matcher.ratio(), item_id))
    return [item_id for _, item_id in sorted(scored) if item_id != typed][:limit]


def _starting_with(session: Session, prefix: str) -> list[str]:
    """Up to POOL + 1 ids starting with ``prefix`` as typed or in lower case.

    A range on the primary key, so the index answers it (a LIKE on lower(id) reads the whole
    table); ids are checked again here, since a database's collation may order them in ways
    a plain prefix range does not expect.
    """
    found: set[str] = set()
    for start in dict.fromkeys((prefix, prefix.lower())):
        after = start[:-1] + chr(ord(start[-1]) + 1)
        query = select(Item.id).where(Item.id >= start, Item.id < after).order_by(Item.id)
        found.update(i for i in session.scalars(query.limit(POOL + 1)) if i.startswith(start))
    return sorted(found)
