"""Keep Python's cycle collector off the objects a long step finds already made.

A plan allocates tens of thousands of short-lived rows and candidates; every so often that
triggers a full collection, which walks every object in the process (SQLAlchemy's and
pydantic's modules, the config) to find cycles among them: 50 ms of a week's 0.5 s with a
year of history. Frozen, those older objects are left out of collections until the step
ends; the step's own garbage is collected as before, though less often: its objects are
nearly all freed by their reference counts (rows, candidates, texts), so the young
generation is collected after :data:`YOUNG_THRESHOLD` allocations, not Python's 700 (a
week's plan ran 67 young collections, 2.5 % of its instructions).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# At most this many objects allocated (net) between two young collections inside the step:
# a few megabytes of garbage in cycles at worst, found at the next collection.
YOUNG_THRESHOLD = 20_000


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Freeze the objects that exist now for the ``with`` block (unless a caller already
    froze some: its freeze is left as it is)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)
        # Back into the collected generations: a long-running process must not keep
        # forever what it would otherwise free.
        gc.unfreeze()
